import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Meter } from "../../domain/ports.js";

/** What the metrics read when scraped, from the parts that hold it. */
export interface MetricSources {
  tasksByState(): Promise<Array<{ status: string; kind: string; count: number }>>;
  dispatchQueueDepth(): number;
  logFollowers(): number;
  logUpstreams(): number;
  webhookDeliveriesPending(): Promise<number>;
}

/** The service's Prometheus metrics: counters bumped as things happen, gauges read on scrape, process metrics. */
export class PrometheusMetrics implements Meter {
  readonly registry = new Registry();
  private readonly requests: Counter<"route" | "method" | "status">;
  private readonly latency: Histogram<"route" | "method">;
  private readonly kubeCalls: Counter<"verb" | "outcome">;
  private readonly watchRestarts: Counter<"reason">;
  private readonly signInFailures: Counter<"reason">;
  private readonly uploadBytes: Counter;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "argo_entrypoint_" });
    this.requests = new Counter({
      name: "argo_entrypoint_http_requests_total",
      help: "HTTP requests by route (route key or path template), method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.latency = new Histogram({
      name: "argo_entrypoint_http_request_duration_seconds",
      help: "Time to the end of the answer (event streams: their whole life)",
      labelNames: ["route", "method"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.kubeCalls = new Counter({
      name: "argo_entrypoint_kubernetes_calls_total",
      help: "Kubernetes API calls by verb and outcome (after retries)",
      labelNames: ["verb", "outcome"],
      registers,
    });
    this.watchRestarts = new Counter({
      name: "argo_entrypoint_workflow_watch_restarts_total",
      help: "Workflow watch restarts after an error, and lists made again after a 410",
      labelNames: ["reason"],
      registers,
    });
    this.signInFailures = new Counter({
      name: "argo_entrypoint_sign_in_failures_total",
      help: "Refused credentials (invalid) and attempts refused by a throttle (throttled)",
      labelNames: ["reason"],
      registers,
    });
    this.uploadBytes = new Counter({ name: "argo_entrypoint_upload_bytes_total", help: "Bytes of files received", registers });

    new Gauge({
      name: "argo_entrypoint_tasks",
      help: "Tasks by status and kind (one grouped count per scrape)",
      labelNames: ["status", "kind"],
      registers,
      async collect() {
        const rows = await sources.tasksByState();
        this.reset();
        for (const row of rows) this.set({ status: row.status, kind: row.kind }, row.count);
      },
    });
    const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    gauge("argo_entrypoint_dispatch_queue_depth", "Accepted tasks waiting to be handed to the engine", () => sources.dispatchQueueDepth());
    gauge("argo_entrypoint_log_followers", "Clients following step logs", () => sources.logFollowers());
    gauge("argo_entrypoint_log_upstreams", "Log streams read from the engine (shared by followers)", () => sources.logUpstreams());
    gauge("argo_entrypoint_webhook_deliveries_pending", "Webhook deliveries waiting to be sent or retried", () =>
      sources.webhookDeliveriesPending(),
    );
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, method }, seconds);
  }

  kubeCall(verb: string, outcome: "ok" | "failed"): void {
    this.kubeCalls.inc({ verb, outcome });
  }

  watchRestarted(reason: "error" | "relist"): void {
    this.watchRestarts.inc({ reason });
  }

  signInFailed(reason: "invalid" | "throttled"): void {
    this.signInFailures.inc({ reason });
  }

  uploaded(bytes: number): void {
    this.uploadBytes.inc(bytes);
  }
}
