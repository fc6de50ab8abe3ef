import type { IncomingMessage } from 'node:http';

// Reads a small request body without taking it: the bytes are read, then put back at the front of
// the stream (unshift), so that whoever reads the request next — the provider's own body parser —
// sees it untouched. Only for a body whose content-length is announced and small: the wait is for at
// most that many bytes, and a body of unknown length is not peeked at all.

/** The body, put back for the next reader; undefined when there is none to peek at (or it did not arrive whole). */
export function peekBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const announced = req.headers['content-length'];
  const length = announced === undefined ? NaN : Number(announced);
  if (!Number.isSafeInteger(length) || length <= 0 || length > limit || req.readableEncoding || req.readableFlowing) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (whole: boolean) => {
      req.off('readable', pull);
      req.off('end', early);
      req.off('error', early);
      req.off('close', early);
      const body = Buffer.concat(chunks, got);
      // Back before this turn ends: the stream has not emitted 'end' yet (that waits for a read
      // that finds it empty), so the bytes are there again for the next reader.
      if (got > 0 && !req.readableEnded && !req.destroyed) req.unshift(body);
      resolve(whole ? body : undefined);
    };
    const early = () => finish(false);
    function pull(): void {
      let chunk: Buffer | null;
      while (got < length && (chunk = req.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        got += chunk.length;
      }
      if (got >= length) finish(got === length);
    }
    req.on('readable', pull);
    req.on('end', early);
    req.on('error', early);
    req.on('close', early);
    pull();
  });
}
