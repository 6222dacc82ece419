import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { bootServer } from '../helpers/boot.ts';

for (const { backend, skip } of await backendMatrix()) {
  describe(`GET /health [${backend}]`, { skip }, () => {
    it('answers ok while the database answers, and 503 once it does not', async () => {
      const server = await bootServer({ backend });
      try {
        const ok = await fetch(`${server.baseUrl}/health`);
        assert.equal(ok.status, 200);
        assert.deepEqual(await ok.json(), { status: 'ok', database: 'ok' });
        // The database goes away under the running server (a closed connection or pool).
        await server.services.store.close();
        const down = await fetch(`${server.baseUrl}/health`);
        assert.equal(down.status, 503);
        assert.deepEqual(await down.json(), { status: 'unavailable', database: 'unreachable' });
      } finally {
        await server.app.close().catch(() => {});
        await server.close().catch(() => {});
      }
    });
  });
}
