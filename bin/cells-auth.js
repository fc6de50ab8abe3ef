#!/usr/bin/env node
// The `cells-auth` executable. Node 22.18+ runs the TypeScript sources directly (type stripping).
import { strippedSourcesHandOver, useStrippedSources } from './stripped-sources.js';

// Before anything else is loaded: the server process loads its sources already stripped, and
// `start` may re-execute itself with server settings (handing them the stripped sources).
useStrippedSources();
const { tuneServerProcess } = await import('../src/process-tuning.ts');
tuneServerProcess(strippedSourcesHandOver);
await import('../src/cli/main.ts');
