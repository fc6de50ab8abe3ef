import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Tap {
  teardown(fn: () => unknown): void;
}

export const BIN = fileURLToPath(new URL('../../bin/cells-auth.js', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `cells-auth <args>` as its own process, with exactly `env` (plus PATH and HOME). */
export function spawnCli(t: Tap, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output, exited };
}

/** Waits until the output contains `text` (or the process ends, or `ms` pass). */
export async function waitFor(p: Spawned, text: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!p.output().includes(text)) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`exited before "${text}":\n${p.output()}`);
    if (Date.now() > end) throw new Error(`no "${text}" after ${ms} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
