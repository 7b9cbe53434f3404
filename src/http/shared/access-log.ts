import type { Request, RequestHandler, Response } from "express";
import type { Logger, Meter } from "../../domain/ports.js";

/** Set by a surface once it knows them: the route (key or template) and the caller. */
export function describeRoute(response: Response, route: string): void {
  response.locals.route = route;
}
export function describeCaller(response: Response, userUid: string): void {
  response.locals.userUid = userUid;
}

/**
 * One line per request when its answer ends (or its client goes away): request id, method,
 * route key or path template (never the raw path: it may carry anything), status, duration,
 * bytes sent and the caller's user uid; never a credential. 5xx at error, the rest at info.
 * The same values feed the request metrics.
 */
export function accessLog(deps: { logger: Logger; meter: Meter }): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    const bytesBefore = request.socket.bytesWritten;
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const aborted = !response.writableFinished;
      // 499 (nginx's "client closed request") when the client left before any answer.
      const status = aborted && !response.headersSent ? 499 : response.statusCode;
      const route = routeOf(request, response);
      deps.meter.request(route, request.method, status, seconds);
      const fields = {
        requestId: response.getHeader("x-request-id"),
        method: request.method,
        route,
        status,
        durationMs: Math.round(seconds * 10_000) / 10,
        bytes: request.socket.bytesWritten - bytesBefore,
        userUid: (response.locals.userUid as string | undefined) ?? null,
        ...(aborted ? { aborted: true } : {}),
      };
      if (status >= 500) deps.logger.error(fields, "access");
      else deps.logger.info(fields, "access");
    };
    response.on("finish", done);
    response.on("close", done);
    next();
  };
}

function routeOf(request: Request, response: Response): string {
  const described = response.locals.route as string | undefined;
  if (described) return described;
  const template = (request.route as { path?: unknown } | undefined)?.path;
  return typeof template === "string" ? `${request.baseUrl}${template}` : "unmatched";
}
