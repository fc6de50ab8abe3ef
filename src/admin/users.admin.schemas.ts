import { z } from 'zod';
import { EMAIL_PATTERN, LOGIN_PATTERN, LOGIN_RULE } from '../accounts/users.service.ts';
import { timestamp } from '../errors/error.schemas.ts';
import { text } from '../http/text.schemas.ts';

// One zod guard per route of /a/admin/users: they validate the requests and responses and produce
// the OpenAPI document. The rules are the accounts area's own (login and e-mail patterns), so the
// API, the CLI and the first start cannot disagree.

/** The roles cells-auth gives a meaning to (SPEC §3). */
export const ROLES = ['admin'] as const;

const email = text(320).trim().regex(EMAIL_PATTERN, 'not an e-mail address');
const displayName = text(200).trim().min(1);
const password = z.string().min(8, 'must be at least 8 characters').max(1024, 'must be at most 1024 characters');
const roles = z.array(z.enum(ROLES)).max(ROLES.length * 2);

export const userView = z
  .object({
    id: z.string().meta({ format: 'uuid' }),
    login: z.string(),
    email: z.string().nullable(),
    displayName: z.string().nullable(),
    roles: z.array(z.string()),
    authSource: z.string(),
    locked: z.boolean(),
    failedLogins: z.number().int().meta({ description: 'failed sign-ins since the last good one; the account locks at the configured threshold' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'User' });

// The login in a path: a string that cannot be a login cannot name a user (and never reaches a query).
export const loginParams = z.object({ login: z.string().regex(LOGIN_PATTERN, LOGIN_RULE) });

export const createUserBody = z.strictObject({
  login: z.string().regex(LOGIN_PATTERN, LOGIN_RULE),
  email: email.optional(),
  displayName: displayName.optional(),
  roles: roles.optional(),
  password: password.optional().meta({ description: 'omitted: one is generated and returned once' }),
});

export const createUserResponse = userView
  .extend({
    password: z.string().optional().meta({ description: 'the generated password, shown once; absent when the request gave one' }),
  })
  .meta({ id: 'CreatedUser' });

export const listUsersQuery = z.strictObject({
  search: text(128).trim().min(1).optional().meta({ description: 'case-insensitive substring of the login, e-mail or display name' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional().meta({ description: 'nextCursor of the previous page' }),
});

export const userList = z.object({
  users: z.array(userView),
  nextCursor: z.string().nullable().meta({ description: 'null on the last page' }),
});

export const updateUserBody = z
  .strictObject({
    email: email.nullable().optional().meta({ description: 'null removes it' }),
    displayName: displayName.nullable().optional().meta({ description: 'null removes it' }),
    roles: roles.optional().meta({ description: 'the complete list; [] removes every role' }),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of email, displayName, roles');

export const setPasswordBody = z.strictObject({
  password: password.optional().meta({ description: 'omitted (send {}): one is generated and returned once' }),
  keepSessions: z
    .boolean()
    .optional()
    .meta({ description: 'true keeps what was signed in with the old password; by default its sessions, grants and OIDC tokens end (personal access tokens stay)' }),
});

export const setPasswordResponse = z.object({
  user: userView,
  password: z.string().optional().meta({ description: 'the generated password, shown once; absent when the request gave one' }),
  endedSessions: z.number().int().meta({ description: 'how many sessions, grants, codes and OIDC tokens of the user ended with the old password' }),
});
