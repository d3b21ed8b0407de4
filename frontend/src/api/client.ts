/** fetch wrapper for the REST API: session cookie, CSRF header, JSON errors. */

export const API_ROOT = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

// Fallback for a CSRF cookie marked HttpOnly: some setups return the token in the body.
let csrfTokenFromBody: string | null = null;

export async function ensureCsrfToken(): Promise<string | null> {
  const fromCookie = readCookie("csrftoken");
  if (fromCookie) return fromCookie;
  const response = await fetch(`${API_ROOT}/auth/csrf/`, { credentials: "same-origin" });
  const body = await parseBody(response);
  if (body && typeof body === "object") {
    const token = (body as Record<string, unknown>).csrfToken ?? (body as Record<string, unknown>).csrftoken;
    if (typeof token === "string") csrfTokenFromBody = token;
  }
  return readCookie("csrftoken") ?? csrfTokenFromBody;
}

export function csrfToken(): string | null {
  return readCookie("csrftoken") ?? csrfTokenFromBody;
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The most useful human sentence in a DRF error body: {detail}, {field: [msg]}, [msg].
 * The API adds a machine-readable "code" to every error body; it is not for people.
 */
export function errorMessage(body: unknown, status: number): string {
  if (typeof body === "string" && body.trim() && !body.trimStart().startsWith("<")) return body.trim();
  if (Array.isArray(body) && body.length) return String(body[0]);
  if (body && typeof body === "object") {
    const messages: string[] = [];
    for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
      if (field === "code") continue;
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first !== "string") continue;
      const bare = field === "detail" || field === "non_field_errors" || field === "file";
      messages.push(bare ? first : `${field}: ${first}`);
    }
    if (messages.length) return messages.join(" ");
  }
  if (status === 413) return "The file is too large for the server.";
  if (status === 0) return "The server could not be reached.";
  return `The server answered ${status}.`;
}

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export async function apiRequest<T>(path: string, init: RequestInit = {}): Promise<T> {
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (init.body && typeof init.body === "string") headers.set("Content-Type", "application/json");
  if (UNSAFE_METHODS.has(method)) {
    const token = await ensureCsrfToken();
    if (token) headers.set("X-CSRFToken", token);
  }
  const url = path.startsWith("/") || /^https?:\/\//.test(path) ? path : `${API_ROOT}/${path}`;
  const response = await fetch(url, { ...init, method, headers, credentials: "same-origin" });
  const body = await parseBody(response);
  if (!response.ok) throw new ApiError(response.status, body, errorMessage(body, response.status));
  return body as T;
}

export const api = {
  get: <T>(path: string) => apiRequest<T>(path),
  post: <T>(path: string, data?: unknown) =>
    apiRequest<T>(path, { method: "POST", body: data === undefined ? undefined : JSON.stringify(data) }),
};
