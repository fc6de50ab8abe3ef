import { z } from 'zod';

// Postgres text cannot hold U+0000: a NUL reaching a query is a server error, not an answer. Free
// text from a request goes through this guard so that it is a 400 naming the field instead.

export const text = (max: number) => z.string().max(max).regex(/^[^\u0000]*$/, 'must not contain a NUL character');
