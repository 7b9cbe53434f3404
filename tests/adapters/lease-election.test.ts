import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { loadKubeConfig } from "../../src/adapters/kubernetes/kube-config.js";
import { LeaseElection } from "../../src/adapters/kubernetes/lease-election.js";
import { silentLogger, uncounted } from "../support/observers.js";
import { FakeKubeApiServer } from "../support/fake-kube/fake-kube-apiserver.js";

const retry = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 };

describe("LeaseElection on a fake API server as strict as a real one", () => {
  let server: FakeKubeApiServer;
  let kubeconfig: string;
  const election = (identity: string, name: string, callbacks: { started?: () => void; stopped?: () => void } = {}) =>
    new LeaseElection(
      loadKubeConfig({ kubeconfigPath: kubeconfig, inCluster: false }),
      { namespace: "argo", name, identity, leaseSeconds: 30, renewSeconds: 1, retry },
      { logger: silentLogger, meter: uncounted },
      { onStartedLeading: () => callbacks.started?.(), onStoppedLeading: () => callbacks.stopped?.() },
    );

  beforeAll(async () => {
    server = new FakeKubeApiServer();
    await server.start();
    kubeconfig = server.writeKubeconfig();
  });
  afterAll(() => server.stop());

  test("When a Lease is written with a plain Date (three fractional digits), then the server refuses it as Kubernetes does", async () => {
    const api = loadKubeConfig({ kubeconfigPath: kubeconfig, inCluster: false }).makeApiClient(CoordinationV1Api);
    const now = new Date("2026-11-30T10:00:24.783Z");
    await expect(
      api.createNamespacedLease({
        namespace: "argo",
        body: { metadata: { name: "plain" }, spec: { holderIdentity: "x", acquireTime: now, renewTime: now } },
      }),
    ).rejects.toMatchObject({
      code: 400,
      body: expect.stringContaining(
        'Lease in version \\"v1\\" cannot be handled as a Lease: parsing time \\"2026-11-30T10:00:24.783Z\\" as \\"2006-01-02T15:04:05.000000Z07:00\\": cannot parse \\".783Z\\" as \\".000000\\"',
      ),
    });
  });

  test("When a replica runs, then it takes the lead, and its renewals are accepted too", async () => {
    let started = 0;
    const leader = election("replica-a", "renewals", { started: () => void (started += 1) });
    await leader.start();
    expect(leader.isLeader).toBe(true);
    const renewTime = () => (server.get("leases", "argo", "renewals")!.spec as { renewTime: string }).renewTime;
    const first = renewTime();
    expect(first).toMatch(/\.\d{6}Z$/);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(renewTime()).not.toBe(first); // renewed, with a MicroTime again
    expect(leader.isLeader).toBe(true);
    expect(started).toBe(1);
    await leader.stop();
  });

  test("When the leader stops gracefully, then it releases the Lease and another replica leads at once, long before it would expire", async () => {
    const first = election("replica-a", "handover");
    await first.start();
    const second = election("replica-b", "handover");
    await second.start();
    expect(second.isLeader).toBe(false);
    const stoppedAt = Date.now();
    await first.stop();
    while (!second.isLeader && Date.now() - stoppedAt < 5000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.isLeader).toBe(true);
    expect(Date.now() - stoppedAt).toBeLessThan(5000); // the lease lasts 30 s
    await second.stop();
  });

  test("When it is stopped while a lease request is in flight, then it never starts leading afterwards", async () => {
    let started = 0;
    const racing = election("me", "racing", { started: () => void (started += 1) });
    const ticking = racing.start();
    await racing.stop(); // the first lease call is still on its way
    await ticking;
    expect(started).toBe(0);
    expect(racing.isLeader).toBe(false);
  });
});
