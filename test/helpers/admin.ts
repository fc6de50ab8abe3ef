import { sql } from 'kysely';
import type { AppContext } from '../../src/context.ts';
import { bearer, makeUser, mintFor } from './pat.ts';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, typed loosely: tests read whatever shape the route answers. */
  body: any;
}

/** One HTTP call to the listening test app; JSON in, JSON (or nothing) out. */
export async function call(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** An administrator `root` and the Authorization header of an unscoped PAT of theirs. */
export async function rootAdmin(ctx: AppContext): Promise<{ id: string; login: string; auth: Record<string, string> }> {
  const root = await makeUser(ctx, 'root', { admin: true });
  return { id: root.id, login: root.login, auth: bearer((await mintFor(ctx, root.id, { expire: '1h' })).token) };
}

/** Every audit row, as stored (to check for secrets in any column). */
export async function auditRows(ctx: AppContext): Promise<Array<Record<string, unknown>>> {
  // Sign-in events are queued and written together (audit.service.ts): what happened so far first.
  await ctx.audit.flush();
  return (await sql<Record<string, unknown>>`select * from audit_events order by id`.execute(ctx.db.db)).rows;
}
