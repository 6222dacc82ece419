import assert from 'node:assert/strict';
import type { TestServer } from './boot.ts';

/** `/api/v2${path}` with an all-scopes Management API token; a JSON body when one is given. */
function request(server: TestServer, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.baseUrl}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/** A Management API call: its status and parsed JSON body, whatever the status. */
export async function mgmtCall(server: TestServer, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(server, await server.mgmtToken(), method, path, body);
  return { status: res.status, json: (await res.json()) as any };
}

/** A Management API call that must succeed (2xx, else the test fails with the answer): its JSON body. */
export async function mgmt(server: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const res = await request(server, await server.mgmtToken(), method, path, body);
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json() as Promise<any>;
}
