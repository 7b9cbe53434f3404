import type { Principal } from "../principal.js";
import type { RegistryService } from "../registry/registry-service.js";
import type { LinkTarget, SignedLinks } from "./signed-links.js";

/** A credential-free download: the bucket's own presigned URL, or a token for the service's link route. */
export type DownloadLink = { url: string } | { token: string };

/**
 * Where a `result_url` or `download_url` points: on an S3 store, the bucket's presigned URL (the
 * bytes bypass the service); otherwise the service's HMAC-signed link. Both expire after the same
 * time and open one file only.
 */
export class DownloadLinks {
  constructor(private readonly deps: { links: SignedLinks; registry: RegistryService; presigned: boolean; ttlSeconds: number }) {}

  async to(principal: Principal, target: LinkTarget): Promise<DownloadLink> {
    const url = this.deps.presigned ? await this.deps.registry.presignedDownload(principal, target.uid, this.deps.ttlSeconds) : undefined;
    return url ? { url } : { token: this.deps.links.sign(target).token };
  }
}
