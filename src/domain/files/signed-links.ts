import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.js";
import { ForbiddenError } from "../errors.js";
import type { Principal } from "../principal.js";

/** What a link opens: one stored file, by its owner's uid, within the organization that signed it. */
export interface LinkTarget {
  uid: string;
  organizationUid: string;
}

/** A download link opens a file; an upload link receives one (a Prediction One retrain job's data). Neither opens the other. */
type LinkPurpose = "download" | "upload";

/**
 * Expiring download links: the target and its expiry, signed with HMAC-SHA256. A link opens one
 * object and nothing else, until it expires; it needs no credential, so it goes where a client
 * cannot send one (a `result_url` fetched by a plain GET).
 */
export class SignedLinks {
  constructor(private readonly deps: { secret: Buffer; clock: Clock; ttlSeconds: number }) {}

  sign(target: LinkTarget, purpose: LinkPurpose = "download", expiresAt = this.expiry()): { token: string; expiresAt: Date } {
    const claims = { u: target.uid, o: target.organizationUid, e: Math.floor(expiresAt.getTime() / 1000) };
    const payload = Buffer.from(JSON.stringify(purpose === "upload" ? { ...claims, p: purpose } : claims)).toString("base64url");
    return { token: `${payload}.${this.mac(payload)}`, expiresAt };
  }

  /** The target of a valid, unexpired link, and who it acts as (the organization that signed it). */
  open(token: string, purpose: LinkPurpose = "download"): { target: LinkTarget; principal: Principal } {
    const [payload, signature, extra] = token.split(".");
    const expected = payload ? Buffer.from(this.mac(payload)) : undefined;
    if (
      !payload ||
      !signature ||
      extra !== undefined ||
      !expected ||
      signature.length !== expected.length ||
      !timingSafeEqual(Buffer.from(signature), expected)
    )
      throw new ForbiddenError("this link is not valid");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { u: string; o: string; e: number; p?: LinkPurpose };
    if ((claims.p ?? "download") !== purpose) throw new ForbiddenError(`this link is not a ${purpose} link`);
    if (claims.e * 1000 <= this.deps.clock.now().getTime()) throw new ForbiddenError("this link has expired");
    const target = { uid: claims.u, organizationUid: claims.o };
    return { target, principal: { userUid: "signed-link", accessKey: "", organizationUid: claims.o, role: "member" } };
  }

  private expiry(): Date {
    return new Date(this.deps.clock.now().getTime() + this.deps.ttlSeconds * 1000);
  }

  private mac(payload: string): string {
    return createHmac("sha256", this.deps.secret).update(payload).digest("base64url");
  }
}
