// PostgreSQL side of `node bench/run.mjs --db postgres`: a fresh database per run (dropped after),
// and the CPU that PostgreSQL's own backend processes spend serving Sesame's connections.
//
// The CPU is read from /proc/<pid>/stat (utime + stime, clock ticks) of every backend connected to
// the bench database (pg_stat_activity.datname), sampled every 200 ms during a measured window: a
// backend that appears mid-window counts from zero (its connection set-up is Sesame's cost too), one
// that leaves keeps its last sample. The admin connection used for sampling is on another database,
// so it is never counted. PostgreSQL's background processes (WAL writer, checkpointer) are not
// backends of the bench database and are not counted either: their work is reported apart as
// "other processes" by run.mjs's machine accounting.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import pg from 'pg';

const TICK_MS = 10; // USER_HZ = 100 on Linux

function procCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces: split after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS; // fields 14, 15 (utime, stime)
  } catch {
    return undefined;
  }
}

export async function createBenchDatabase(adminUrl) {
  const name = `sesame_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  /** pids of the backends connected to the bench database now. */
  const backends = async () => (await admin.query('select pid from pg_stat_activity where datname = $1', [name])).rows.map((r) => r.pid);
  return {
    name,
    url: u.href,
    /**
     * Starts sampling; `stop()` gives { cpuMs, backends } for the window. With `nice` (run.mjs
     * --priority), each backend gets the same priority as the server: on a shared machine the
     * database then competes for the cores on the same terms as the Sesame process it serves.
     */
    meter(nice) {
      const first = new Map();
      const last = new Map();
      let busy = false;
      const sample = async () => {
        if (busy) return;
        busy = true;
        try {
          for (const pid of await backends()) {
            const ms = procCpuMs(pid);
            if (ms === undefined) continue;
            if (!first.has(pid)) {
              first.set(pid, started ? 0 : ms);
              if (nice !== undefined) try { setPriority(pid, nice); } catch {} // gone already
            }
            last.set(pid, ms);
          }
        } catch {}
        busy = false;
      };
      let started = false;
      const ready = sample().then(() => {
        started = true;
      });
      const timer = setInterval(sample, 200);
      return {
        ready,
        async stop() {
          clearInterval(timer);
          while (busy) await new Promise((r) => setTimeout(r, 5));
          await sample();
          let cpuMs = 0;
          for (const [pid, ms] of last) cpuMs += ms - (first.get(pid) ?? 0);
          return { cpuMs, backends: last.size };
        },
      };
    },
    async drop() {
      for (let i = 0; i < 100 && (await backends()).length; i++) await new Promise((r) => setTimeout(r, 50));
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
