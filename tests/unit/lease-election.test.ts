import { describe, expect, test } from "@jest/globals";
import { LeaseElection } from "../../src/adapters/argo/lease-election.js";
import { FakeKubeApiServer } from "../support/fake-kube/fake-kube-apiserver.js";
import { loadKubeConfig } from "../../src/adapters/argo/kube-config.js";
import { createLogger } from "../../src/logging/logger.js";
import { Writable } from "node:stream";

describe("LeaseElection", () => {
  test("When it is stopped while a lease request is in flight, then it never starts leading afterwards", async () => {
    const server = new FakeKubeApiServer();
    await server.start();
    const kubeconfig = server.writeKubeconfig();
    let started = 0;
    const election = new LeaseElection(loadKubeConfig(kubeconfig), {
      namespace: "argo", name: "l", identity: "me", leaseSeconds: 5, renewSeconds: 1,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 },
    }, createLogger("silent", new Writable({ write: (_c, _e, done) => done() })), { onStartedLeading: () => void (started += 1), onStoppedLeading: () => undefined });
    const ticking = election.start();
    await election.stop(); // the first lease call is still on its way
    await ticking;
    expect(started).toBe(0);
    expect(election.isLeader).toBe(false);
    await server.stop();
  });
});
