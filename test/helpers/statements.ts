import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

// Records the SQL statements the app sends, on both database kinds, at the lowest level each
// driver has (so BEGIN/COMMIT and prepared statements count too). The drivers' prototypes are
// wrapped once, when this module is imported: the pool binds `query` per connection when it
// connects (db/prepared.ts), so the wrapper must be in place before the app starts.

export interface Statement {
  text: string;
  values: unknown[];
}

const recorders = new Set<Statement[]>();
const FEED = /pg_snapshot_xmin\(pg_current_snapshot\(\)\)/;

function wrap(proto: object, method: string): void {
  const target = proto as Record<string, (...args: unknown[]) => unknown>;
  const original = target[method]!;
  target[method] = function recorded(this: unknown, ...args: unknown[]) {
    if (recorders.size) {
      const [first, second] = args as [string | { text?: string; values?: unknown[] } | undefined, unknown];
      const text = typeof first === 'string' ? first : first?.text;
      const values = Array.isArray(second) ? second : typeof first === 'object' ? (first.values ?? []) : [];
      // The PAT cache's change feed reads ten times a second in the background, not for a request.
      if (text !== undefined && !FEED.test(text)) for (const r of recorders) r.push({ text: text.replace(/\s+/g, ' ').trim(), values });
    }
    return original.apply(this, args);
  };
}

wrap(pg.Client.prototype, 'query');
wrap(Object.getPrototypeOf(PGlite.prototype) as object, 'query');

/** Starts recording; `stop()` returns the statements sent meanwhile, in order. */
export function recordStatements(): { stop(): Statement[] } {
  const seen: Statement[] = [];
  recorders.add(seen);
  return {
    stop() {
      recorders.delete(seen);
      return seen;
    },
  };
}

/** One line per statement, for a test's diagnostics: its start and the model or key it is about. */
export function describeStatements(statements: Statement[]): string {
  return statements.map((s) => `${s.text.slice(0, 60)} … ${JSON.stringify(s.values.slice(0, 1)).slice(0, 60)}`).join('\n');
}
