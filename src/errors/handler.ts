import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from './app-error.ts';
import { isDatabaseUnavailable } from './db-errors.ts';

export type PageRenderer = (status: number, title: string, description: string) => string;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Errors of this route are shown to a person as a page, not as JSON. */
    page?: boolean;
  }
}

interface Mapped {
  status: number;
  code: string;
  description: string;
  headers: Record<string, string>;
}

const FASTIFY_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

function validationDescription(err: FastifyError): string {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0]!;
    const where = err.validationContext ?? 'request';
    const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = path ? `${where}.${path}` : where;
    return `${field}: ${first.message}`;
  }
  return err.message;
}

/** The one mapping from anything thrown to a status and an OAuth-shaped error. */
export function mapError(err: unknown): Mapped {
  if (err instanceof AppError) {
    return { status: err.status, code: err.code, description: err.message, headers: err.headers };
  }
  if (isDatabaseUnavailable(err)) {
    return { status: 503, code: 'temporarily_unavailable', description: 'the service is temporarily unavailable', headers: { 'retry-after': '1' } };
  }
  const fe = err as FastifyError;
  if (fe && typeof fe === 'object' && fe.validation) {
    return { status: 400, code: 'invalid_request', description: validationDescription(fe), headers: {} };
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, code: FASTIFY_CODES[status] ?? 'invalid_request', description: fe.message, headers: {} };
  }
  // 5xx bodies are generic; the detail goes to the log.
  return { status: 500, code: 'server_error', description: 'an unexpected error occurred', headers: {} };
}

// Fastify refuses a malformed or over-long URL before routing, so neither handler below sees it; its
// `frameworkErrors` constructor option does. Fixed descriptions: the path is not echoed back.
const FRAMEWORK_DESCRIPTIONS: Record<string, string> = {
  FST_ERR_BAD_URL: 'the URL is malformed (a broken percent-encoding?)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is too long',
};

/** For Fastify's `frameworkErrors` option: the same `{ error, error_description }` as every other refusal. */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const m = mapError(err);
  const description = (m.status < 500 && FRAMEWORK_DESCRIPTIONS[err.code]) || m.description;
  request.log.info({ code: err.code, status: m.status }, description);
  void reply.code(m.status).headers(m.headers).send({ error: m.status < 500 ? 'invalid_request' : m.code, error_description: description });
}

export function registerErrorHandlers(app: FastifyInstance, renderPage: PageRenderer): void {
  const send = (request: FastifyRequest, reply: FastifyReply, m: Mapped) => {
    reply.code(m.status).headers(m.headers);
    if (request.routeOptions.config?.page) {
      return reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(renderPage(m.status, m.status >= 500 ? 'Something went wrong' : 'This request cannot be completed', m.description));
    }
    return reply.send({ error: m.code, error_description: m.description });
  };

  app.setErrorHandler((err, request, reply) => {
    const mapped = mapError(err);
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: mapped.code, status: mapped.status }, mapped.description);
    return send(request, reply, mapped);
  });

  app.setNotFoundHandler((request, reply) =>
    send(request, reply, { status: 404, code: 'not_found', description: `no route for ${request.method} ${request.url.split('?')[0]}`, headers: {} }),
  );
}
