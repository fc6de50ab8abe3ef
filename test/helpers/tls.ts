import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as http2Connect, createSecureServer, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { TlsRuntime } from '../../src/tls/tls.ts';
import { createLogger } from '../../src/util/logger.ts';
import { freePort } from './harness.ts';

interface Tap {
  teardown(fn: () => unknown): void;
}

export async function tempDir(t: Tap, prefix = 'cells-auth-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A logger that keeps its lines for assertions. */
export function memoryLogger(level = 'info') {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { log: createLogger(level, sink as never), text: () => text };
}

/** The certificate a TLS server presents, verified against `ca` for `servername`, and the ALPN protocol chosen. */
export function peerCertificate(port: number, opts: { ca: string; servername: string; host?: string; alpn?: string[] }): Promise<{ cert: X509Certificate; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: opts.host ?? '127.0.0.1', port, ca: opts.ca, servername: opts.servername, ALPNProtocols: opts.alpn ?? ['h2', 'http/1.1'] }, () => {
      const raw = socket.getPeerX509Certificate();
      const alpn = socket.alpnProtocol;
      socket.end();
      if (!raw) reject(new Error('no peer certificate'));
      else resolve({ cert: raw, alpn: alpn ?? false });
    });
    socket.once('error', reject);
  });
}

export interface SimpleResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  httpVersion: string;
}

/** One request over HTTP/1.1: https (trusting `ca`) or plain http, as the URL says. */
export function https1(url: string, opts: { ca: string; method?: string; headers?: Record<string, string>; body?: string; servername?: string; localAddress?: string }): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('http:') ? httpRequest : httpsRequest;
    const req = send(url, { method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca, servername: opts.servername, localAddress: opts.localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, httpVersion: res.httpVersion }));
    });
    req.once('error', reject);
    req.end(opts.body);
  });
}

/** An HTTP/2 client session trusting `ca`; closed at teardown. */
export async function h2Session(t: Tap, origin: string, opts: { ca: string; servername?: string; localAddress?: string }): Promise<ClientHttp2Session> {
  const u = new URL(origin);
  // Our own TLS socket, so that the client address can be chosen (127.0.0.2, …: all of 127/8 is loopback).
  const session = http2Connect(origin, {
    createConnection: () => {
      // tls.connect hands localAddress to net.connect; @types/node leaves it out of ConnectionOptions.
      const options = { host: u.hostname, port: Number(u.port), ca: opts.ca, servername: opts.servername, localAddress: opts.localAddress, ALPNProtocols: ['h2'] };
      return tlsConnect(options);
    },
  });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  t.teardown(() => session.close());
  return session;
}

/** One request on an HTTP/2 session. */
export function h2(session: ClientHttp2Session, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': opts.method ?? 'GET', ':path': path, ...(opts.headers ?? {}) });
    let headers: IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c) => (body += c));
    stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body, httpVersion: '2.0' }));
    stream.once('error', reject);
    stream.end(opts.body);
  });
}

/** A bare HTTPS + HTTP/2 server on the runtime's options (answers "ok"), attached so swaps apply. */
export async function serveRuntime(t: Tap, runtime: TlsRuntime): Promise<number> {
  const server = createSecureServer(runtime.serverOptions, (_req, res) => res.end('ok'));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  runtime.attach(server);
  t.teardown(async () => {
    await runtime.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return port;
}
