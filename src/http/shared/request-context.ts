import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import { logContext } from "../../logging/logger.js";

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Gives every request an id (the caller's X-Request-Id when sane), echoes it and logs with it. */
export const requestContext: RequestHandler = (request, response, next) => {
  const given = request.header("x-request-id");
  const requestId = given && SAFE_ID.test(given) ? given : randomUUID();
  response.setHeader("X-Request-Id", requestId);
  logContext.run({ requestId }, next);
};
