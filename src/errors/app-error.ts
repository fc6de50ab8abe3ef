// The one error hierarchy of our own APIs. Routes and services throw these; errors/handler.ts maps
// them to `{ error, error_description }` (the OAuth shape, so clients parse one form) or to a page.
// `/oidc` keeps the provider's own RFC errors.

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra response headers, such as WWW-Authenticate. */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, description: string, headers: Record<string, string> = {}) {
    super(description);
    // The subclass's own name, so that logs and tests can tell a 503 from a 404.
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export class BadRequestError extends AppError {
  constructor(description: string, code = 'invalid_request') {
    super(400, code, description);
  }
}

/** A request field that does not validate; the description starts with the field's name. */
export class ValidationError extends AppError {
  readonly field: string;
  /** The message without the field, for callers that name the field their own way (CLI flags). */
  readonly reason: string;
  constructor(field: string, message: string) {
    super(400, 'invalid_request', `${field}: ${message}`);
    this.field = field;
    this.reason = message;
  }
}

export class UnauthorizedError extends AppError {
  constructor(description = 'authentication required', code = 'invalid_token', challenge = 'Bearer realm="cells-auth"') {
    super(401, code, description, { 'www-authenticate': challenge });
  }
}

export class ForbiddenError extends AppError {
  constructor(description = 'not allowed', code = 'forbidden') {
    super(403, code, description);
  }
}

export class NotFoundError extends AppError {
  constructor(description = 'not found') {
    super(404, 'not_found', description);
  }
}

export class ConflictError extends AppError {
  constructor(description: string) {
    super(409, 'conflict', description);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(description = 'too many requests, try again later', retryAfterSeconds?: number) {
    super(429, 'too_many_requests', description, retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {});
  }
}

/** The store is unreachable: answer 503, never a guess (a PAT is never `active: false` for this). */
export class UnavailableError extends AppError {
  constructor(description = 'the service is temporarily unavailable') {
    super(503, 'temporarily_unavailable', description, { 'retry-after': '1' });
  }
}
