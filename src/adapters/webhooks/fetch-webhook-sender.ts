import type { WebhookSender } from "../../domain/ports.js";

/** Webhook deliveries over Node's fetch. Redirects are not followed: the registered URL is the only destination. */
export const fetchWebhookSender: WebhookSender = {
  async post(url, body, headers, timeoutMs) {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(url, { method: "POST", body, headers, redirect: "manual", signal });
      await response.body?.cancel(); // only the status matters; the connection is freed at once
      return response.status;
    } catch (error) {
      if (signal.aborted) throw new Error(`no answer within ${timeoutMs} ms`, { cause: error });
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`the request failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`, { cause: error });
    }
  },
};
