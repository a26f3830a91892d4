// Fetch helpers: JSON in and out, the CSRF header on state-changing requests, and one place
// that notices the session is gone.

let csrf: string | null = null;
let onUnauthorized: () => void = () => {};

export class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
    public detail: unknown = undefined, // the error body's "detail" (e.g. inventory problems)
  ) {
    super(message);
  }
}

export function setCsrf(token: string | null): void {
  csrf = token;
}

export function whenUnauthorized(callback: () => void): void {
  onUnauthorized = callback;
}

async function answer<T>(response: Response, path: string): Promise<T> {
  if (response.ok) return (await response.json()) as T;
  let message = `${response.status} ${response.statusText}`;
  let detail: unknown;
  try {
    const body = (await response.json()) as { error?: string; detail?: unknown };
    if (body.error) message = body.error;
    detail = body.detail;
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401 && !path.startsWith("/api/auth/login")) onUnauthorized();
  throw new HttpError(response.status, message, detail);
}

export async function getJSON<T>(path: string): Promise<T> {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  return answer<T>(response, path);
}

export async function postJSON<T>(path: string, body?: unknown, method: "POST" | "PUT" | "PATCH" | "DELETE" = "POST"): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers,
    body: method === "DELETE" ? undefined : body === undefined ? "{}" : JSON.stringify(body),
  });
  return answer<T>(response, path);
}

/** DELETE with the CSRF header (closing a tunnel, revoking a token). */
export function deleteJSON<T>(path: string): Promise<T> {
  return postJSON<T>(path, undefined, "DELETE");
}

/** ws:// or wss:// for a path on this origin (the server refuses other origins). */
export function wsUrl(path: string, where: { protocol: string; host: string } = location): string {
  return `${where.protocol === "https:" ? "wss" : "ws"}://${where.host}${path}`;
}
