import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendMatrix } from '../helpers/backends.ts';
import { exchangeCode, kill9, management, passwordlessClient, query, startCode, useRestartBed } from '../helpers/instances.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/** The mail worker's claim size (src/mail/worker.ts): a crash re-sends at most one batch. */
const BATCH = 200;

/**
 * @see issue 13 §3: `kill -9` of an instance mid-burst, then a restart on the same database: every
 * start answered 200 is delivered, duplicates stay within one claimed batch, the codes still work,
 * and the database opens cleanly. (crash-takeover.test.ts: a dead worker's claimed rows.)
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`crash and restart [${backend}]`, { skip }, () => {
    const bed = useRestartBed(backend);

    it('kill -9 mid-burst: every start answered 200 is delivered after the restart, duplicates within one batch', async () => {
      const a = await bed.start();
      const { client_id } = await passwordlessClient(await management(a.baseUrl));
      const answered = new Set<string>();
      let n = 0;
      let go = true;
      const loop = async () => {
        while (go) {
          const email = `burst${n++}@example.com`;
          try {
            if ((await startCode(a.baseUrl, client_id, email)).status === 200) answered.add(email);
          } catch {
            return; // the process is gone: this request may or may not have been written
          }
        }
      };
      const loops = Array.from({ length: 20 }, loop);
      while (answered.size < 150) await sleep(20);
      await kill9(a);
      go = false;
      await Promise.all(loops);

      const b = await bed.start();
      const deadline = Date.now() + 30_000;
      const got = () => new Set(bed.sink().messages.map((m) => m.to));
      while ([...answered].some((e) => !got().has(e))) {
        assert.ok(Date.now() < deadline, `undelivered: ${[...answered].filter((e) => !got().has(e)).length} of ${answered.size}`);
        await sleep(100);
      }
      await sleep(1500); // anything sent twice has arrived by now
      const per = new Map<string, number>();
      for (const m of bed.sink().messages.filter((x) => x.to.startsWith('burst'))) per.set(m.to, (per.get(m.to) ?? 0) + 1);
      const duplicates = [...per.values()].reduce((s, c) => s + c - 1, 0);
      assert.ok(duplicates <= BATCH, `${duplicates} duplicates`);
      // Nothing is left pending, and a code started before the crash still signs in.
      const pending = await query<{ n: number }>(bed.url(), "select count(*) as n from outbox where status = 'pending' and recipient like 'burst%'");
      assert.equal(Number(pending[0]!.n), 0);
      const email = [...answered][answered.size - 1]!;
      const code = extractCode(bed.sink().messages.find((m) => m.to === email)!);
      const res = await exchangeCode(b.baseUrl, client_id, email, code);
      assert.equal(res.status, 200, await res.text());
      await b.stop();
      if (backend === 'sqlite') {
        const [check] = await query<{ integrity_check: string }>(bed.url(), 'pragma integrity_check');
        assert.equal(check!.integrity_check, 'ok');
      }
      console.log(`# ${backend}: ${answered.size} answered, ${per.size} delivered, ${duplicates} duplicates`);
    });
  });
}
