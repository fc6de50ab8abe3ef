import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { freePort } from '../helpers/free-port.ts';

// The servers that tests start in child processes listen on a port picked in advance: it must be
// one the kernel never gives a connection on its own (a Postgres client's local end took such a
// port between pick and listen once), and free when picked.

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

t.test('ports are below the ephemeral range, distinct, and can be listened on', async (t) => {
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  t.equal(new Set(ports).size, ports.length, 'never the same port twice');
  for (const port of ports) {
    t.ok(port >= 10_000 && port < ephemeralStart, `${port} below ${ephemeralStart}`);
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  }
});

t.test('a port something listens on is not given', async (t) => {
  // Hold a run of ports, then ask many times: none of the held ones comes back.
  const held = new Set<number>();
  const servers: Server[] = [];
  for (let i = 0; i < 200; i++) {
    const port = await freePort();
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', () => resolve()));
    servers.push(s);
    held.add(port);
  }
  t.teardown(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
  t.equal(held.size, 200, 'every port given could be listened on at once');
});
