import http from "node:http";

export interface LoadResult {
  requests: number;
  failures: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Closed-loop load: `concurrency` clients on keep-alive sockets send requests back to back for
 * `seconds`. Bounded in time and count, loopback only.
 */
export async function runLoad(
  port: number,
  spec: () => RequestSpec,
  options: { concurrency: number; seconds: number; maxRequests?: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const limit = options.maxRequests ?? Number.POSITIVE_INFINITY;

  const once = async (request: RequestSpec) => {
    const t0 = performance.now();
    const status = await new Promise<number>((resolve) => {
      const req = http.request(
        { host: "127.0.0.1", port, agent, method: request.method, path: request.path, headers: request.headers },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", () => resolve(0));
      req.end(request.body);
    });
    latencies.push(performance.now() - t0);
    if (status < 200 || status >= 300) failures += 1;
  };

  const client = async () => {
    while (performance.now() < deadline && latencies.length < limit) await once(spec());
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, failures, seconds, perSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}
