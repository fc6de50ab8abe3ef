import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// The kernel gives out ports of its own accord (a listen on port 0, the local end of every outgoing
// connection) from its ephemeral range. A port picked that way and let go until a server process
// has started can meanwhile become the local end of some test's connection to Postgres, and the
// server then fails with EADDRINUSE. freePort picks below that range, where the kernel never
// assigns a port unasked, at random (test files run in parallel) and checks that it is free.
const LOWEST = 10_000;

/** Where the kernel's ephemeral range starts, read once per process. */
const EPHEMERAL_START = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768; // Linux's default, and above what other systems' ranges start at: a guess, checked below
  }
})();

const handedOut = new Set<number>();

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A TCP port free on 127.0.0.1 right now, outside the kernel's ephemeral range (for servers that listen on it later). */
export async function freePort(): Promise<number> {
  const top = Math.min(EPHEMERAL_START, 65_536);
  for (let attempt = 0; attempt < 50 && top - LOWEST > 1_000; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (top - LOWEST));
    if (handedOut.has(port) || !(await listensOn(port))) continue;
    handedOut.add(port);
    return port;
  }
  // No room below the ephemeral range on this machine: any free port, as the kernel picks it.
  const { port, release } = await reservePort();
  await release();
  return port;
}

/**
 * A port on 127.0.0.1 held until `release`: nothing else (another test's server, or a connection
 * the kernel gives a local port) can take it meanwhile. For an app built in this process, which
 * can listen the moment it is released.
 */
export async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      resolve({ port, release: () => new Promise<void>((done) => s.close(() => done())) });
    });
  });
}
