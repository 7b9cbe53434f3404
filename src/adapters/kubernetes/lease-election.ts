import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { ConflictError, NotFoundError } from "../../domain/errors.js";
import { kubeCall, type KubeObservers, type RetrySettings } from "./kube-calls.js";

export interface LeaseSettings {
  namespace: string;
  name: string;
  identity: string;
  leaseSeconds: number;
  renewSeconds: number;
  retry: RetrySettings;
}

/**
 * Leader election on a coordination.k8s.io Lease, so that of several replicas only one watches
 * Workflows and writes task status. The holder renews every `renewSeconds`; another replica
 * takes over once `leaseSeconds` pass without a renewal, or at once when the holder released it
 * on a graceful stop. Writes carry the resourceVersion they read, so two replicas racing for the
 * lease cannot both win. Its times are MicroTimes: the API server decodes them with exactly six
 * fractional digits and refuses a plain Date's three.
 */
export class LeaseElection {
  private readonly api: CoordinationV1Api;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    kubeConfig: KubeConfig,
    private readonly settings: LeaseSettings,
    private readonly observe: KubeObservers,
    private readonly callbacks: { onStartedLeading(): Promise<void> | void; onStoppedLeading(): Promise<void> | void },
  ) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  async start(): Promise<void> {
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      await this.callbacks.onStoppedLeading();
      await this.release().catch((error: unknown) =>
        this.observe.logger.warn({ err: error, lease: this.settings.name }, "action=lease-release outcome=failed"),
      );
    }
  }

  /** Gives the lease up (a graceful stop), so another replica takes over now rather than after it expires. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.settings;
    const lease = await kubeCall("get lease", () => this.api.readNamespacedLease({ name, namespace }), this.settings.retry, this.observe);
    if (lease.spec?.holderIdentity !== identity) return;
    const now = new V1MicroTime();
    const body: V1Lease = {
      ...lease,
      spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
    };
    await kubeCall("release lease", () => this.api.replaceNamespacedLease({ name, namespace, body }), this.settings.retry, this.observe);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let leading = false;
    try {
      leading = await this.tryAcquireOrRenew();
    } catch (error) {
      this.observe.logger.warn({ err: error, lease: this.settings.name }, "action=lease outcome=error");
    }
    // stop() may have run while the lease call was in flight: then nothing may start any more.
    if (this.stopped) return;
    if (leading !== this.leading) {
      this.leading = leading;
      this.observe.logger.info({ lease: this.settings.name, identity: this.settings.identity, leading }, "action=lease outcome=changed");
      try {
        await (leading ? this.callbacks.onStartedLeading() : this.callbacks.onStoppedLeading());
      } catch (error) {
        this.observe.logger.error({ err: error, lease: this.settings.name, leading }, "action=lease-transition outcome=failed");
      }
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.settings.renewSeconds * 1000);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseSeconds } = this.settings;
    const now = new V1MicroTime();
    const call = <T>(what: string, fn: () => Promise<T>) => kubeCall(what, fn, this.settings.retry, this.observe);
    let lease: V1Lease;
    try {
      lease = await call("get lease", () => this.api.readNamespacedLease({ name, namespace }));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      };
      return call("create lease", () => this.api.createNamespacedLease({ namespace, body })).then(
        () => true,
        (e: unknown) => (e instanceof ConflictError ? false : Promise.reject(e)),
      );
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? leaseSeconds) * 1000 < now.getTime();
    if (holder && holder !== identity && !expired) return false; // an empty holder is a released lease
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        renewTime: now,
        // A time read back is a string or a plain Date: written again, it must be a MicroTime too.
        acquireTime: holder === identity && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : now,
        ...(holder === identity ? {} : { leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    return call("renew lease", () => this.api.replaceNamespacedLease({ name, namespace, body })).then(
      () => true,
      (e: unknown) => (e instanceof ConflictError ? false : Promise.reject(e)),
    );
  }
}
