import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

interface Tap {
  teardown(fn: () => unknown): void;
}

// Debian's chromium, never a downloaded browser; nothing reaches the network but loopback.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The loopback redirect URIs name `localhost`; the test's receiver listens on 127.0.0.1.
  '--host-resolver-rules=MAP localhost 127.0.0.1',
];

export interface CspViolation {
  page: string;
  text: string;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations seen so far, as reported by the page and the console. */
  violations: CspViolation[];
}

/** A fresh headless chromium profile with one page; every CSP violation it meets is recorded. */
export async function launchBrowser(t: Tap): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'cells-auth-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, locale: 'en-US' });
  t.teardown(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const violations: CspViolation[] = [];
  await context.exposeBinding('__reportCspViolation', ({ page }, text: string) => {
    violations.push({ page: page.url(), text });
  });
  // The browser's own event, in every document, before any page script runs.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
      window.__reportCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
    });`,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push({ page: page.url(), text: msg.text() });
  });
  return { context, page, violations };
}

export interface Received {
  method: string;
  url: URL;
  body: string;
}

export interface Receiver {
  port: number;
  received: Received[];
  /** The first request (after `after` of them) that matches; browsers also ask for /favicon.ico. */
  waitFor(match: (r: Received) => boolean, after?: number, timeoutMs?: number): Promise<Received>;
}

/** A client's loopback redirect target: a tiny HTTP server on a free port of a range. */
export async function listenInRange(t: Tap, from: number, to: number): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: new URL(req.url ?? '/', 'http://localhost'), body });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html lang="en"><title>Client</title><p>Received.</p></html>');
    });
  });
  for (let port = from; port <= to; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) continue;
    t.teardown(() => new Promise((r) => server.close(r)));
    return {
      port,
      received,
      async waitFor(match, after = 0, timeoutMs = 10_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const found = received.slice(after).find(match);
          if (found) return found;
          if (Date.now() > until) throw new Error(`the client did not receive the expected request; got ${received.map((r) => `${r.method} ${r.url.pathname}`).join(', ')}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      },
    };
  }
  throw new Error(`no free port in ${from}-${to}`);
}
