import { KubeConfig } from "@kubernetes/client-node";

/**
 * The standard way to reach the cluster: the given kubeconfig file, else the in-cluster service
 * account (when running in a pod), else ~/.kube/config. Built on demand, never at import time.
 */
export function loadKubeConfig(settings: { kubeconfigPath: string | undefined; inCluster: boolean }): KubeConfig {
  const config = new KubeConfig();
  if (settings.kubeconfigPath) config.loadFromFile(settings.kubeconfigPath);
  else if (settings.inCluster) config.loadFromCluster();
  else config.loadFromDefault();
  return config;
}
