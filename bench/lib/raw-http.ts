import net from 'node:net';

// The open-model generator's client: HTTP/1.1 over plain keep-alive sockets, requests written as
// one prebuilt string, responses read only as far as status, length and body. node:http spends
// several times more CPU per request; on a two-core machine that CPU is taken from the server
// being measured, and a late generator shows up as latency (it is timed from the intended send).

export interface RawReply {
  status: number;
  body: string;
}

interface Conn {
  socket: net.Socket;
  buffer: Buffer;
  done?: (reply: RawReply | Error) => void;
}

export function rawClient(origin: string, maxConnections = 512) {
  const { hostname, port } = new URL(origin);
  const idle: Conn[] = [];
  const waiting: (() => void)[] = [];
  let open = 0;

  function parse(conn: Conn): void {
    const end = conn.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = conn.buffer.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
    if (Number.isNaN(length)) return void fail(conn, new Error('response without content-length'));
    if (conn.buffer.length < end + 4 + length) return;
    const body = conn.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    conn.buffer = conn.buffer.subarray(end + 4 + length);
    const done = conn.done;
    conn.done = undefined;
    release(conn);
    done?.({ status: Number(head.slice(9, 12)), body });
  }

  function fail(conn: Conn, err: Error): void {
    const done = conn.done;
    conn.done = undefined;
    conn.socket.destroy();
    done?.(err);
  }

  function connect(): Conn {
    open++;
    const conn: Conn = { socket: net.connect(Number(port), hostname), buffer: Buffer.alloc(0) };
    conn.socket.setNoDelay(true);
    conn.socket.on('data', (d: Buffer) => {
      conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, d]) : d;
      parse(conn);
    });
    const gone = () => {
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      if (conn.done) fail(conn, new Error('connection closed'));
      open--;
      waiting.shift()?.();
    };
    conn.socket.on('error', () => {});
    conn.socket.on('close', gone);
    return conn;
  }

  function release(conn: Conn): void {
    const next = waiting.shift();
    idle.push(conn);
    next?.();
  }

  async function acquire(): Promise<Conn> {
    for (;;) {
      const conn = idle.pop();
      if (conn) return conn;
      if (open < maxConnections) return connect();
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  }

  return {
    async get(path: string, headers: Record<string, string>): Promise<RawReply> {
      const conn = await acquire();
      let head = `GET ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      return new Promise((resolve, reject) => {
        conn.done = (r) => (r instanceof Error ? reject(r) : resolve(r));
        conn.socket.write(`${head}\r\n`);
      });
    },
    close(): void {
      for (const c of idle.splice(0)) c.socket.destroy();
    },
  };
}
