import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { KubeConfig, type Cluster } from "@kubernetes/client-node";

/**
 * The standard way to reach the cluster: the given kubeconfig file, else the in-cluster service
 * account (when running in a pod), else ~/.kube/config. Built on demand, never at import time.
 */
export function loadKubeConfig(settings: { kubeconfigPath: string | undefined; inCluster: boolean }): KubeConfig {
  const config = new KubeConfig();
  if (settings.kubeconfigPath) config.loadFromFile(settings.kubeconfigPath);
  else if (settings.inCluster) config.loadFromCluster();
  else config.loadFromDefault();
  return reusingConnections(config);
}

type AgentFactory = (cluster: Cluster | null, options: Record<string, unknown>) => HttpAgent | HttpsAgent;

/**
 * client-node 1.x builds a new agent for every request, so every call opened a new connection
 * (a TLS handshake each, in a cluster). Here one keep-alive agent serves every call with the same
 * TLS settings; changed ones (a rotated client certificate) get their own.
 */
function reusingConnections(config: KubeConfig): KubeConfig {
  const target = config as unknown as { createAgent: AgentFactory };
  const create = target.createAgent.bind(config);
  const agents = new Map<string, HttpAgent | HttpsAgent>();
  target.createAgent = (cluster, options) => {
    const key = JSON.stringify([
      cluster?.name,
      cluster?.server,
      ...["ca", "cert", "key", "pfx", "rejectUnauthorized", "servername"].map((k) => String(options[k] ?? "")),
    ]);
    let agent = agents.get(key);
    if (!agent) {
      agent = create(cluster, { ...options, keepAlive: true });
      agents.set(key, agent);
    }
    return agent;
  };
  return config;
}
