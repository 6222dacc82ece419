import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutageLog, classifyDbError, describeDbError } from '../../src/store/db-errors.ts';

/** Structural stand-ins for the drivers' errors (their class names and codes are what is read). */
class DatabaseError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}
class SqliteError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}
const sys = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

test('a lost, refused or exhausted connection is unavailable (503)', () => {
  for (const err of [
    new DatabaseError('terminating connection due to administrator command', '57P01'),
    new DatabaseError('the database system is starting up', '57P03'),
    new DatabaseError('connection failure', '08006'),
    new DatabaseError('sorry, too many clients already', '53300'),
    new DatabaseError('database "x" is not currently accepting connections', '55000'),
    sys('ECONNREFUSED'),
    sys('ECONNRESET'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Connection terminated unexpectedly'),
    new AggregateError([sys('ECONNREFUSED'), sys('ECONNREFUSED')]),
    new SqliteError('database is locked', 'SQLITE_BUSY'),
  ]) assert.equal(classifyDbError(err), 'unavailable', err.message);
});

test('any other driver error fails (500), and errors of other origins are not database errors', () => {
  assert.equal(classifyDbError(new DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', '22021')), 'failed');
  assert.equal(classifyDbError(new DatabaseError('duplicate key value violates unique constraint', '23505')), 'failed');
  assert.equal(classifyDbError(new SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE')), 'failed');
  assert.equal(classifyDbError(new TypeError('x is undefined')), undefined);
  assert.equal(classifyDbError('a string'), undefined);
});

test('describeDbError keeps the code and a bounded message', () => {
  assert.deepEqual(describeDbError(new DatabaseError('x'.repeat(1000), '22021')), { code: '22021', message: 'x'.repeat(300) });
});

test('an outage is logged once when it starts and once when it ends, however many polls fail (issue 11)', () => {
  const lines: [string, string, object][] = [];
  const log = { warn: (o: object, m: string) => void lines.push(['warn', m, o]), info: (o: object, m: string) => void lines.push(['info', m, o]) };
  const outage = new OutageLog(log, 'log stream worker');
  outage.ok();
  assert.equal(lines.length, 0, 'nothing while all is well');
  for (let i = 0; i < 50; i++) outage.failed(new DatabaseError('terminating connection due to administrator command', '57P01'));
  outage.ok();
  outage.ok();
  assert.deepEqual(lines.map(([level, msg]) => [level, msg]), [
    ['warn', 'log stream worker: database unreachable; retrying, and logging again once it is back'],
    ['info', 'log stream worker: database reachable again'],
  ]);
  assert.deepEqual(lines[0]![2], { err: { code: '57P01', message: 'terminating connection due to administrator command' } });
  assert.equal((lines[1]![2] as { failures: number }).failures, 50);
  // The next outage is news again.
  outage.failed(new Error('x'));
  assert.equal(lines.length, 3);
});
