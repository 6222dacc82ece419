// The dashboard's one door to Sesame: the public Management API (/api/v2), with the signed-in
// administrator's access token. Types come from the server's openapi.json (schema.d.ts, generated).
import createClient from 'openapi-fetch';
import type { paths } from './schema';

/** A Management API error in Auth0's shape `{statusCode, error, message, errorCode?}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** The access token; `fresh` skips auth0-spa-js's cache and asks Sesame for a new one (refresh token). */
type TokenSource = (fresh?: boolean) => Promise<string>;
let token: TokenSource = () => Promise.reject(new ApiError(401, 'not signed in'));

/** Called once after sign-in: every request then asks auth0-spa-js for a fresh token (refreshed by rotation). */
export function useToken(source: TokenSource): void {
  token = source;
}

/**
 * A 401 is retried once with a new token: the cached one may be signed with a key just revoked in
 * Settings → Signing keys (or otherwise dropped by the server) while the session itself is alive.
 */
async function send(request: Request): Promise<Response> {
  const copy = request.clone();
  request.headers.set('authorization', `Bearer ${await token()}`);
  const first = await fetch(request);
  if (first.status !== 401) return first;
  copy.headers.set('authorization', `Bearer ${await token(true)}`);
  return fetch(copy);
}

export const mgmt = createClient<paths>({ baseUrl: window.location.origin, fetch: send });

function toError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { message?: string; error?: string; errorCode?: string; error_description?: string };
  return new ApiError(status, b.message ?? b.error_description ?? b.error ?? `HTTP ${status}`, b.errorCode);
}

/** Unwraps an openapi-fetch answer: the body, or an ApiError carrying the server's message. */
export async function ok<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r: Awaited<typeof p>;
  try {
    r = await p;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, err instanceof Error ? err.message : String(err));
  }
  if (!r.response.ok) throw toError(r.response.status, r.error);
  return r.data as T;
}

/** For Sesame's own /api/v2/sesame/* endpoints, typed here by hand where schema.d.ts is older than the server. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await send(
      new Request(`${window.location.origin}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, err instanceof Error ? err.message : String(err));
  }
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw toError(res.status, json);
  return json as T;
}

type Json<P extends keyof paths, M extends 'get' | 'post' | 'patch'> = paths[P][M] extends {
  responses: { [code: number]: { content: { 'application/json': infer J } } };
}
  ? J
  : never;

export type Client = Json<'/api/v2/clients/{id}', 'get'>;
export type Connection = Json<'/api/v2/connections/{id}', 'get'>;
export type Log = Json<'/api/v2/logs/{id}', 'get'>;
export type User = Json<'/api/v2/users/{id}', 'get'>;
export type TenantSettings = Json<'/api/v2/tenants/settings', 'get'>;

// Sesame's own routes, typed from the server's OpenAPI document like the Auth0 ones above.
/** GET /api/v2/sesame/migration (the same data as `sesame migration-report`), with `callers_left` and the flag. */
export type MigrationReport = Json<'/api/v2/sesame/migration', 'get'>;
export type MigrationCaller = MigrationReport['applications'][number];
/** GET /api/v2/sesame/activity?window=24h|7d */
export type Activity = Json<'/api/v2/sesame/activity', 'get'>;
export type ActivityCounts = Activity['today'];
/** GET /api/v2/sesame/dev-outbox: a page of messages, or `{messages, …}` with include_totals. */
export type OutboxMessage = Extract<Json<'/api/v2/sesame/dev-outbox', 'get'>, unknown[]>[number];
export type Admin = Json<'/api/v2/sesame/admins', 'get'>[number];
type SmsPreview = Json<'/api/v2/sesame/preview-sms', 'post'>;

export const sesame = {
  migration: (days: number) => call<MigrationReport>('GET', `/api/v2/sesame/migration?days=${days}`),
  activity: (window: '24h' | '7d') => call<Activity>('GET', `/api/v2/sesame/activity?window=${window}`),
  outbox: (page = 0, perPage = 50) => call<OutboxMessage[] | { messages: OutboxMessage[] }>('GET', `/api/v2/sesame/dev-outbox?page=${page}&per_page=${perPage}`),
  admins: () => call<Admin[]>('GET', '/api/v2/sesame/admins'),
  addAdmin: (email: string) => call<Admin>('POST', '/api/v2/sesame/admins', { email }),
  removeAdmin: (email: string) => call<void>('DELETE', `/api/v2/sesame/admins/${encodeURIComponent(email)}`),
  /** A user's recent logs, newest first (Auth0's GET /users/{id}/logs). */
  userLogs: (id: string) => call<Log[]>('GET', `/api/v2/users/${encodeURIComponent(id)}/logs?per_page=20&sort=date:-1`),
  testEmail: (to: string, connection?: string) => call<unknown>('POST', '/api/v2/sesame/test-email', { to, ...(connection ? { connection } : {}) }),
  /** The connection's email rendered by the server's Liquid engine, with the unsaved template fields if given. */
  previewEmail: (body: { connection: string; email?: { subject?: string; body?: string; from?: string; syntax?: string }; language?: string }) =>
    call<{ from?: string; subject: string; html?: string; text?: string }>('POST', '/api/v2/sesame/preview-email', body),
  /** An sms connection's text rendered by the server, with the unsaved template if given (null: the built-in text). */
  previewSms: (body: { connection: string; template?: string | null; syntax?: string }) =>
    call<SmsPreview>('POST', '/api/v2/sesame/preview-sms', body),
  testSms: (to: string, connection: string) => call<{ to: string }>('POST', '/api/v2/sesame/test-sms', { to, connection }),
};

export const FEATURE_FLAG = 'enforce_client_authentication_on_passwordless_start';
