import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

// One log line per request start and per request end, at `info`, cost a JSON line each (with the
// redaction pass) on every request: at thousands of forward-auth checks a second that was a
// tenth of the server's CPU, for lines a reverse proxy's access log already holds. They are
// `debug` now (CELLS_AUTH_LOG_LEVEL=debug brings them back); a response of 500 or more is still
// logged at `error`, and failures keep their own lines (errors/handler.ts).

class QuietRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { res: reply, responseTime: reply.elapsedTime };
    if (error || reply.statusCode >= 500) request.log.error({ ...fields, err: error ?? undefined }, 'request completed');
    else request.log.debug(fields, 'request completed');
  }
}

export const requestLogController = () => new QuietRequestLogs();
