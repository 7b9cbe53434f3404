/**
 * The lab's dashboard as the service sees it (original-clients.md §1): its base URL with a
 * version, JSON router calls and multipart uploads whose parts come in the order of the form's
 * object (null and undefined skipped, "" an empty part), `Authorization` set to the raw value of
 * its `auth_token` cookie, which after sign-in is the string `undefined`, and the cookies a
 * same-origin browser sends with every call.
 */
import type supertest from "supertest";
import type { TestService } from "./test-service.js";

const DASHBOARD_VERSION = "v1.2.4";
const BASE = `/api/${DASHBOARD_VERSION}/entrypoint`;

/** A browser-side file: what the dashboard's form holds before axios sends it. */
interface PickedFile {
  file: Buffer;
  name: string;
}

export type FormValue = string | number | null | undefined | PickedFile | Record<string, unknown>;

export class DashboardClient {
  /** The browser's cookie jar for the service's origin. */
  private readonly cookies = new Map<string, string>();
  localStorage: Record<string, string> = {};

  constructor(private readonly service: TestService) {}

  /** The login page: POST AccountValidator/login, then `cookies.set("auth_token")` with no value. */
  async login(accountName: string, password: string): Promise<supertest.Response> {
    const response = await this.send(
      this.service.http.post(`${BASE}/AccountValidator/login`).send({ account_name: accountName, password }),
    );
    if (response.status === 200 && response.body.organization_uid) {
      this.localStorage = { isLoggedIn: "true", accountname: accountName, organizationUID: response.body.organization_uid };
      this.cookies.set("auth_token", "undefined");
    }
    return response;
  }

  logout(): Promise<supertest.Response> {
    return this.send(this.service.http.post(`${BASE}/AccountValidator/logout`));
  }

  /** A router call with a JSON body. */
  call(key: string, body: Record<string, unknown>): Promise<supertest.Response> {
    return this.send(this.service.http.post(`${BASE}/Router/parse/${key}`).set("Content-Type", "application/json").send(body));
  }

  /** A router call whose answer the dashboard reads as a Blob (downloads, logs). */
  blob(key: string, body: Record<string, unknown>): Promise<supertest.Response> {
    return this.send(
      this.service.http
        .post(`${BASE}/Router/parse/${key}`)
        .set("Content-Type", "application/json")
        .send(body)
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => done(null, Buffer.concat(chunks)));
        }),
    );
  }

  /** An upload: the form object's keys in order, as axios turns a plain object into FormData. */
  upload(key: string, form: Array<[string, FormValue]>): Promise<supertest.Response> {
    const { body, contentType } = formData(form);
    return this.send(this.service.http.post(`${BASE}/Router/parse/${key}`).set("Content-Type", contentType).send(body));
  }

  /** What the browser sends from this origin: every cookie of the jar, and the header the dashboard builds from `auth_token`. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const token = this.cookies.get("auth_token");
    if (token) headers.Authorization = decodeURIComponent(token);
    return headers;
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  private async send(request: supertest.Test): Promise<supertest.Response> {
    const response = await request.set(this.headers());
    for (const line of ([] as string[]).concat(response.headers["set-cookie"] ?? [])) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const [name = "", value = ""] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const maxAge = attributes.find((a) => /^max-age=/i.test(a));
      // HttpOnly cookies stay in the jar (the browser sends them); only script cannot read them.
      if (value === "" || (maxAge && Number(maxAge.split("=")[1]) <= 0)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

/** axios 1.7's FormData from a plain object: skips null/undefined, files as parts, nested objects as `key[sub]`. */
function formData(form: Array<[string, FormValue]>, boundary = "----axios-form-boundary"): { body: Buffer; contentType: string } {
  const pieces: Buffer[] = [];
  const text = (name: string, value: string) =>
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  for (const [name, value] of form) {
    if (value === null || value === undefined) continue;
    if (typeof value === "object" && "file" in value && Buffer.isBuffer(value.file)) {
      const picked = value as PickedFile;
      pieces.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${picked.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        picked.file,
        Buffer.from("\r\n"),
      );
    } else if (typeof value === "object") {
      for (const [sub, inner] of Object.entries(value)) if (inner !== null && inner !== undefined) text(`${name}[${sub}]`, String(inner));
    } else text(name, String(value));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** `downloadFile.jsx`: the path the dashboard asks for, from a record's `f_file_uid` and its owner's uid. */
export function dashboardFilePath(owner: { uid: string; f_file_uid: { path: string; extension: string } }): string {
  const { path, extension } = owner.f_file_uid;
  return extension && extension !== "null" ? `${path}/${owner.uid}.${extension}` : `${path}/${owner.uid}`;
}
