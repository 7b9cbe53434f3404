/** The few cookie operations the service needs (RFC 6265), without a dependency. */

/** The first value of cookie `name` in a Cookie header (browsers list the most specific first). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const separator = pair.indexOf("=");
    if (separator < 0 || pair.slice(0, separator).trim() !== name) continue;
    const value = pair
      .slice(separator + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    return value || undefined;
  }
  return undefined;
}

export interface CookieAttributes {
  maxAgeSeconds: number;
  secure: boolean;
}

/** A session cookie script cannot read: HttpOnly, for the whole site, not sent on cross-site posts. */
export function sessionCookie(name: string, value: string, { maxAgeSeconds, secure }: CookieAttributes): string {
  return [`${name}=${value}`, "Path=/", `Max-Age=${maxAgeSeconds}`, "HttpOnly", "SameSite=Lax", ...(secure ? ["Secure"] : [])].join("; ");
}

export function expiredCookie(name: string, secure: boolean): string {
  return sessionCookie(name, "", { maxAgeSeconds: 0, secure });
}
