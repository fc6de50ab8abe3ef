#!/usr/bin/env node
// The `cells-auth` executable. Node 22.18+ runs the TypeScript sources directly (type stripping).
import { tuneServerProcess } from '../src/process-tuning.ts';

// Before anything else is loaded: `start` may re-execute itself with server settings.
tuneServerProcess();
await import('../src/cli/main.ts');
