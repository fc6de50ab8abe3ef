import { chmod, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';

// The embedded database (PGlite) is one process's: while `cells-auth start` holds it, a command in
// another shell cannot open it. The server then runs such commands itself: it listens on a Unix
// socket beside the database files, readable and writable by its own user only (as the database
// files are), and a command that finds the database held sends its arguments there and prints what
// comes back. One JSON line each way; then the connection closes.

/** Requests larger than this are refused (arguments and a piped password or secret are far smaller). */
const MAX_REQUEST_BYTES = 64 * 1024;
/** A connection that has not sent its request by then is closed. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface CommandRequest {
  /** The arguments after `cells-auth`. */
  argv: string[];
  /** What the command read from standard input, if it read it. */
  stdin: string | null;
  /** Who ran it, for the audit trail. */
  osUser: string | null;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const controlSocketPath = (pgliteDir: string) => join(pgliteDir, 'cells-auth.sock');

/**
 * A Unix socket's path holds at most 107 bytes (Linux; 103 on macOS and the BSDs). A longer one is
 * not refused but cut short, by libuv: the socket would appear at another path (a new file in a
 * directory above the database), so neither side ever uses one.
 */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

function tooLong(path: string): string | undefined {
  const bytes = Buffer.byteLength(path);
  return bytes > MAX_SOCKET_PATH ? `the socket path ${path} is ${bytes} bytes long; a Unix socket path holds at most ${MAX_SOCKET_PATH}` : undefined;
}

/** Reads one newline-terminated line, at most `limit` bytes. */
function readLine(socket: Socket, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: Error) => {
      socket.off('data', onData);
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(10);
      chunks.push(nl === -1 ? chunk : chunk.subarray(0, nl));
      size += chunk.length;
      if (nl !== -1) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks).toString('utf8'));
      } else if (size > limit) {
        fail(new Error(`more than ${limit} bytes`));
      }
    };
    socket.on('data', onData);
    socket.once('end', () => fail(new Error('closed before a whole line')));
    socket.once('error', fail);
  });
}

function parseRequest(line: string): CommandRequest | undefined {
  let r: CommandRequest;
  try {
    r = JSON.parse(line) as CommandRequest;
  } catch {
    return undefined;
  }
  const ok =
    typeof r === 'object' &&
    r !== null &&
    Array.isArray(r.argv) &&
    r.argv.every((a) => typeof a === 'string') &&
    (r.stdin === null || typeof r.stdin === 'string') &&
    (r.osUser === null || typeof r.osUser === 'string');
  return ok ? r : undefined;
}

/** Serves commands on `path` (replacing a socket file a killed server left). */
export async function serveCommands(opts: {
  path: string;
  execute(request: CommandRequest): Promise<CommandResult>;
  log: Logger;
}): Promise<{ path: string; close(): Promise<void> }> {
  const { path, log } = opts;
  const refusal = tooLong(path);
  if (refusal) throw new Error(refusal);
  const open = new Set<Socket>();
  // Commands being run: a shutdown lets them end before the database closes.
  const running = new Set<Promise<unknown>>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // A shell that goes away mid-command (Ctrl-C) resets the connection: never an uncaught error here.
    socket.on('error', () => socket.destroy());
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    readLine(socket, MAX_REQUEST_BYTES).then(
      async (line) => {
        socket.setTimeout(0);
        const request = parseRequest(line);
        let result: CommandResult = { code: 1, stdout: '', stderr: 'cells-auth: the server did not understand the request\n' };
        if (request) {
          const run = opts.execute(request);
          running.add(run);
          result = await run
            .catch((err: Error) => {
              log.error({ err }, 'a command sent to the server failed');
              return { code: 1, stdout: '', stderr: 'cells-auth: the server could not run the command (see its log)\n' };
            })
            .finally(() => running.delete(run));
        }
        // Answered: it closes when the shell has read the answer (or at the timeout).
        open.delete(socket);
        socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
        socket.end(`${JSON.stringify(result)}\n`);
      },
      () => socket.destroy(),
    );
  });
  // Only this process can hold the database (its lock is ours): a socket file here is a dead one's.
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The socket is created with the process umask (by default group and others may read it but not
  // connect: connecting needs write permission); owner-only from here on.
  try {
    await chmod(path, 0o600);
  } catch (err) {
    server.close();
    throw err;
  }
  return {
    path,
    async close() {
      // No new commands; those running end (their shells get the answer), then the rest goes.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled(running);
      // After the answers of those commands are on their way (the turn that resolved them).
      await new Promise((resolve) => setImmediate(resolve));
      for (const s of open) s.destroy();
      await closed;
    },
  };
}

/** No server listens on the socket (none there, a dead one's, or a path the system cannot use). */
export class NoServerError extends Error {
  override name = 'NoServerError';
}

/** Sends a command to the server listening on `path`. */
export function sendCommand(path: string, request: CommandRequest): Promise<CommandResult> {
  const refusal = tooLong(path);
  if (refusal) return Promise.reject(new NoServerError(refusal));
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const noServer = (err: Error) => reject(new NoServerError(err.message));
    socket.once('error', noServer);
    socket.once('connect', () => {
      socket.off('error', noServer);
      socket.write(`${JSON.stringify(request)}\n`);
      readLine(socket, Number.MAX_SAFE_INTEGER).then((line) => {
        socket.end();
        try {
          resolve(JSON.parse(line) as CommandResult);
        } catch (err) {
          reject(err as Error);
        }
      }, reject);
    });
  });
}
