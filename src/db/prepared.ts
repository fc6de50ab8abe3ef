import { createHash } from 'node:crypto';
import type pg from 'pg';

// Every statement we send has a fixed text (values are parameters), so each connection can parse
// and plan it once and then only bind and execute: for the short lookups and writes of the hot
// paths, parsing and planning were half of the database's CPU per request. The pg driver does this
// for a query given a `name`; this names them.
//
// Bounds and safety: at most PER_CONNECTION names per connection (texts past that run unnamed),
// names derived from the text itself (a bounded cache spares the hash). When a schema change by
// another instance makes a prepared `select *` return other columns, Postgres refuses it (0A000,
// "cached plan must not change result type"): the query is run again unnamed and that connection
// stops naming, until the pool replaces it.

const PER_CONNECTION = 200;
const NAME_CACHE = 1000;
const PLAN_CHANGED = '0A000';

type Query = (...args: unknown[]) => unknown;

export function prepareStatements(pool: pg.Pool): void {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name) {
      if (names.size >= NAME_CACHE) names.delete(names.keys().next().value!);
      name = `ca_${createHash('sha1').update(text).digest('base64url')}`;
      names.set(text, name);
    }
    return name;
  };

  pool.on('connect', (client) => {
    const query = client.query.bind(client) as Query;
    const named = new Set<string>();
    let naming = true;
    (client as unknown as { query: Query }).query = (text: unknown, values?: unknown, callback?: unknown) => {
      // Only the promise form with a text and values (what kysely sends); anything else as is.
      if (typeof text !== 'string' || !Array.isArray(values) || callback !== undefined || !naming) return query(text, values, callback);
      const name = nameOf(text);
      if (!named.has(name)) {
        if (named.size >= PER_CONNECTION) return query(text, values);
        named.add(name);
      }
      return (query({ name, text, values }) as Promise<unknown>).catch((err: { code?: string }) => {
        if (err?.code !== PLAN_CHANGED) throw err;
        naming = false;
        return query(text, values);
      });
    };
  });
}
