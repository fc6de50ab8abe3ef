import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the tests' servers and the bench's listen on it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * A port on 127.0.0.1 held until `release`: nothing else (another test's server, or a connection
 * the kernel gives a local port) can take it meanwhile, as could happen to a port from freePort
 * while an app was being built to listen on it.
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
