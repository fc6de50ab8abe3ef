import { z } from 'zod';

// The one error body of our JSON APIs (SPEC §9), as a zod guard: routes declare it for the statuses
// they answer with, so the serializer holds every error to this shape and the OpenAPI document
// lists each one.

export const errorBody = z
  .object({
    error: z.string().meta({ description: 'a machine-readable code (OAuth 2.0 style): invalid_request, invalid_token, forbidden, not_found, conflict, …' }),
    error_description: z.string().meta({ description: 'what went wrong; for a field that does not validate, starts with its name (body.email: …)' }),
  })
  .meta({ id: 'Error' });

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 503;

const GENERIC: Record<ErrorStatus, string> = {
  400: 'the request does not validate; error_description names the field',
  401: 'no valid bearer credential; WWW-Authenticate carries the RFC 6750 challenge',
  403: 'the credential may not do this',
  404: 'no such thing',
  409: 'conflicts with the current state',
  503: 'the database does not answer; retry shortly',
};

/** Response guards for the error statuses a route answers with; a description per status overrides the generic one. */
export function errorResponses(statuses: ErrorStatus[], descriptions: Partial<Record<ErrorStatus, string>> = {}) {
  const out: Partial<Record<ErrorStatus, typeof errorBody>> = {};
  for (const status of [...statuses, 503 as const]) out[status] = errorBody.describe(descriptions[status] ?? GENERIC[status]);
  return out;
}

/** The admin scope's guard answers 401 and 403 on every route. */
export function adminErrors(statuses: ErrorStatus[], descriptions: Partial<Record<ErrorStatus, string>> = {}) {
  return errorResponses([...statuses, 401, 403], {
    403: 'the bearer is not an administrator, or is a personal access token limited to nodes',
    ...descriptions,
  });
}

/** An ISO 8601 instant, as every API response writes it. */
export const timestamp = z.string().meta({ format: 'date-time' });
