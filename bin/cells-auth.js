#!/usr/bin/env node
// The `cells-auth` executable. Node 22.18+ runs the TypeScript sources directly (type stripping).
import { setFlagsFromString } from 'node:v8';
import { commandName } from './command-name.js';
import { strippedSourcesHandOver, useStrippedSources } from './stripped-sources.js';

// Every command but `start` lives for a second or two. Its WebAssembly (PGlite's Postgres, Node's
// TypeScript stripper) is then compiled by V8's baseline compiler only: optimising it on background
// threads took a third of such a command's CPU (`clients list` on PGlite: 2.9 -> 1.9 s of CPU,
// 2.1 -> 1.7 s to run) and pays off only in a process that runs for minutes. Its JavaScript is not
// handed to the optimising compiler either (--no-opt), for the same reason: 11-13% less CPU per
// command (`clients list`, alternating runs: 0.95 -> 0.85 s on Postgres, 1.72 -> 1.50 s on PGlite),
// the same time to run. The server keeps V8's default tiering. Set before any module is compiled.
const serving = commandName(process.argv.slice(2)) === 'start';
if (!serving) setFlagsFromString('--liftoff-only --no-opt');

// Before anything else is loaded: the server process loads its sources already stripped, and
// `start` may re-execute itself with server settings (handing them the stripped sources).
useStrippedSources();
if (serving) {
  const { tuneServerProcess } = await import('../src/process-tuning.ts');
  tuneServerProcess(strippedSourcesHandOver);
}
await import('../src/cli/main.ts');
