// Recognises an unreachable database by error codes (never by message text), so that it becomes a
// 503 rather than a 500 or a wrong answer.

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
// SQLSTATE classes 08 (connection exception), 57P0x (operator intervention: shutdown, crash), 53 (resources).
const SQLSTATE = /^(08|57P0|53)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
    const { message } = e as { message?: unknown };
    // pg reports a lost or never-made connection as plain Errors; these two are its fixed wording
    // for a pool that cannot hand out a client, not free text from the server.
    if (typeof message === 'string' && (message === 'Connection terminated unexpectedly' || message.startsWith('Connection terminated') || message === 'timeout exceeded when trying to connect' || message === 'Query read timeout')) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
