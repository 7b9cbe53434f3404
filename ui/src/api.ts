/** The service's own API, same origin, with the session cookie the sign-in set. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }
}

export interface Session {
  organizationUid: string;
  accountName: string;
  role: string;
}

export interface Answer<T> {
  detail: string;
  data: T;
  next_cursor?: string;
}

const SESSION_KEY = "argo-entrypoint.session";
let entrypoint = "";

/** Where the route keys answer (the first API version this service serves). */
export async function discover(): Promise<void> {
  const response = await fetch("/api", { credentials: "same-origin" });
  entrypoint = ((await response.json()) as { entrypoint: string }).entrypoint;
}

export const session = {
  get(): Session | null {
    const stored = localStorage.getItem(SESSION_KEY);
    return stored ? (JSON.parse(stored) as Session) : null;
  },
  set(value: Session): void {
    localStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear(): void {
    localStorage.removeItem(SESSION_KEY);
  },
};

async function answer<T>(response: Response): Promise<Answer<T>> {
  const text = await response.text();
  const body = (text ? JSON.parse(text) : {}) as { detail?: string; errors?: Array<{ field: string; message: string }> };
  if (response.status === 401 && session.get()) {
    session.clear();
    location.hash = "#/sign-in";
  }
  if (!response.ok) {
    const problems = body.errors ?? [];
    const message = problems.length ? problems.map((p) => `${p.field} ${p.message}`).join("; ") : (body.detail ?? response.statusText);
    throw new ApiError(response.status, message, problems.map((p) => p.field));
  }
  return body as Answer<T>;
}

/** A REST alias call: `/api/v1` + path. */
export async function rest<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<Answer<T>> {
  const response = await fetch(`/api/v1${path}`, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return answer<T>(response);
}

/** A multipart upload to a route key, reporting progress (fetch cannot report an upload's progress). */
export function upload<T>(key: string, form: FormData, onProgress: (fraction: number) => void): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `${entrypoint}/Router/parse/${key}`);
    request.withCredentials = true;
    request.upload.addEventListener("progress", (event) => event.lengthComputable && onProgress(event.loaded / event.total));
    request.addEventListener("load", () => {
      answer<T>(new Response(request.responseText, { status: request.status })).then(resolve, reject);
    });
    request.addEventListener("error", () => reject(new ApiError(0, "the upload failed: the service could not be reached")));
    request.send(form);
  });
}

export async function signIn(accountName: string, password: string): Promise<Session> {
  const response = await fetch(`${entrypoint}/AccountValidator/login`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ account_name: accountName, password }),
  });
  const body = await answer<{ account_name: string; organization_uid: string; role: string }>(response);
  const signedIn = { organizationUid: body.data.organization_uid, accountName: body.data.account_name, role: body.data.role };
  session.set(signedIn);
  return signedIn;
}

export async function signOut(): Promise<void> {
  await fetch(`${entrypoint}/AccountValidator/logout`, { method: "POST", credentials: "same-origin" }).catch(() => undefined);
  session.clear();
}

/**
 * A Server-Sent Events stream of a REST alias; the caller closes it when its page goes away.
 * An `error` handler gets the service's error event (its JSON) or, for a dropped connection, undefined.
 */
export function stream(path: string, handlers: Record<string, (data: unknown) => void>): EventSource {
  const source = new EventSource(`/api/v1${path}`, { withCredentials: true });
  for (const [event, handle] of Object.entries(handlers))
    source.addEventListener(event, (message) => {
      const data = (message as MessageEvent<string | undefined>).data;
      handle(data === undefined ? undefined : JSON.parse(data));
    });
  return source;
}
