import http from 'node:http';
import net from 'node:net';
import t, { type Test } from 'tap';
import { offerBody, type BodyOffer } from '../../src/http/offer-body.ts';

// offerBody against a real node:http server: what the fast path sees, and what the request's next
// reader gets after it, for a body sent with its headers, in pieces, or not at all.

interface Seen {
  offered: string[];
  outcome: boolean | 'rejected';
  /** What a reader after the fast path read from the request. */
  after: string;
}

async function serve(t: Test, take: BodyOffer): Promise<{ port: number; seen: Promise<Seen> }> {
  let report!: (s: Seen) => void;
  const seen = new Promise<Seen>((resolve) => (report = resolve));
  const server = http.createServer((req, res) => {
    const offered: string[] = [];
    offerBody(req, 1024, (body) => {
      offered.push(body.toString());
      return take(body);
    }).then(
      (outcome) => finish(outcome),
      () => finish('rejected'),
    );
    function finish(outcome: boolean | 'rejected') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      const done = () => {
        report({ offered, outcome, after: Buffer.concat(chunks).toString() });
        if (!res.headersSent) res.end('ok');
      };
      if (req.readableEnded || req.destroyed) done();
      else {
        req.on('end', done);
        req.on('close', done);
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, seen };
}

/** Sends a POST whose body is written in `pieces` (the first with the headers), `announced` bytes long. */
async function send(port: number, pieces: string[], announced = pieces.join('').length, hangUp = false): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.on('error', () => {});
  socket.write(`POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: ${announced}\r\n\r\n${pieces[0] ?? ''}`);
  for (const piece of pieces.slice(1)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write(piece);
  }
  if (hangUp) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.destroy();
  } else {
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
  }
}

t.test('sent with the headers, answered at once: the bytes stay read', async (t) => {
  const { port, seen } = await serve(t, () => true);
  await send(port, ['token=abc']);
  t.same(await seen, { offered: ['token=abc'], outcome: true, after: '' });
});

t.test('left: the next reader gets the bytes', async (t) => {
  const { port, seen } = await serve(t, () => false);
  await send(port, ['token=abc']);
  t.same(await seen, { offered: ['token=abc'], outcome: false, after: 'token=abc' });
});

t.test('a promise: the bytes are back before it settles, whatever it says', async (t) => {
  const { port, seen } = await serve(t, () => new Promise((resolve) => setTimeout(() => resolve(true), 10)));
  await send(port, ['token=abc']);
  t.same(await seen, { offered: ['token=abc'], outcome: true, after: 'token=abc' });
});

t.test('a throw rejects, the bytes put back', async (t) => {
  const { port, seen } = await serve(t, () => {
    throw new Error('broken');
  });
  await send(port, ['token=abc']);
  t.same(await seen, { offered: ['token=abc'], outcome: 'rejected', after: 'token=abc' });
});

t.test('in pieces after the headers: waited for, offered whole', async (t) => {
  const { port, seen } = await serve(t, () => false);
  await send(port, ['', 'tok', 'en=a', 'bc']);
  t.same(await seen, { offered: ['token=abc'], outcome: false, after: 'token=abc' });
});

t.test('the client hangs up before the body is whole: not offered, settled false', async (t) => {
  const { port, seen } = await serve(t, () => true);
  await send(port, ['tok'], 9, true);
  const { offered, outcome } = await seen;
  t.same(offered, [], 'never offered');
  t.equal(outcome, false);
});

t.test('no announced length, or one past the limit: not peeked at', async (t) => {
  const { port, seen } = await serve(t, () => true);
  await send(port, ['x'.repeat(2000)]);
  t.same(await seen, { offered: [], outcome: false, after: 'x'.repeat(2000) });
});
