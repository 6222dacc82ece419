import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BARE_TERM_FIELDS, LogQueryError, MAX_QUERY_LENGTH, parseLogQuery } from '../../src/core/log-query.ts';
import { makeLog } from '../../src/core/logs.ts';
import type { LogEvent } from '../../src/core/model.ts';
import { openStore } from '../../src/store/index.ts';
import type { LogQuery, Store } from '../../src/store/types.ts';

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const parse = (q: string) => parseLogQuery(q, NOW);
const term = (field: string, value: string, wildcard = false): LogQuery => ({ kind: 'term', fields: [field], value, wildcard });
const bare = (value: string, wildcard = false): LogQuery => ({ kind: 'term', fields: [...BARE_TERM_FIELDS], value, wildcard });

/** The description of the depnote Sesame writes for the migration (spec §2.3). */
const DEPRECATION =
  'Enforce client authentication for passwordless connections: This feature is being deprecated. Please see details.feature of this log for more information.';

function rejects(q: string, pattern: RegExp, code: LogQueryError['code'] = 'invalid') {
  assert.throws(
    () => parse(q),
    (err: unknown) => err instanceof LogQueryError && err.code === code && pattern.test(err.message),
    `expected ${JSON.stringify(q)} to be refused with ${pattern}`,
  );
}

describe('parseLogQuery: Auth0 Lucene subset (spec §5)', () => {
  it('parses the migration guide query into type AND a substring wildcard on description', () => {
    assert.deepEqual(parse('type:depnote AND description:*passwordless*'), {
      kind: 'and',
      items: [term('type', 'depnote'), term('description', '*passwordless*', true)],
    });
  });

  it('joins juxtaposed terms with AND, binds AND tighter than OR, and accepts && and ||', () => {
    assert.deepEqual(parse('type:s client_id:abc'), { kind: 'and', items: [term('type', 's'), term('client_id', 'abc')] });
    assert.deepEqual(parse('type:s OR type:f AND ip:1.2.3.4'), {
      kind: 'or',
      items: [term('type', 's'), { kind: 'and', items: [term('type', 'f'), term('ip', '1.2.3.4')] }],
    });
    assert.deepEqual(parse('type:s || type:f && ip:x'), parse('type:s OR type:f AND ip:x'));
  });

  it('supports NOT, !, a - prefix and parentheses', () => {
    const notS: LogQuery = { kind: 'not', item: term('type', 's') };
    assert.deepEqual(parse('NOT type:s'), notS);
    assert.deepEqual(parse('!type:s'), notS);
    assert.deepEqual(parse('-type:s'), notS);
    assert.deepEqual(parse('+type:s'), term('type', 's'));
    assert.deepEqual(parse('(type:s OR type:f) AND NOT (client_id:a)'), {
      kind: 'and',
      items: [{ kind: 'or', items: [term('type', 's'), term('type', 'f')] }, { kind: 'not', item: term('client_id', 'a') }],
    });
    // Lower-case words are terms, as in Lucene.
    assert.deepEqual(parse('type:s and'), { kind: 'and', items: [term('type', 's'), bare('and')] });
  });

  it('applies a field to a parenthesised group', () => {
    assert.deepEqual(parse('type:(s OR fp)'), { kind: 'or', items: [term('type', 's'), term('type', 'fp')] });
  });

  it('matches quoted values exactly: spaces, operators and * stay literal', () => {
    assert.deepEqual(parse('description:"Success Login"'), term('description', 'Success Login'));
    assert.deepEqual(parse('description:"a AND b*"'), term('description', 'a AND b*'));
    assert.deepEqual(parse('user_name:"say \\"hi\\""'), term('user_name', 'say "hi"'));
  });

  it('searches bare terms over client_name, connection, description, ip, log_id, type, user_name', () => {
    assert.deepEqual(BARE_TERM_FIELDS, ['client_name', 'connection', 'description', 'ip', 'log_id', 'type', 'user_name']);
    assert.deepEqual(parse('depnote'), bare('depnote'));
    assert.deepEqual(parse('"Default App"'), bare('Default App'));
    assert.deepEqual(parse('pass*'), bare('pass*', true));
  });

  it('treats * as a wildcard anywhere and ? as a literal; field:* and _exists_ mean "has a value"', () => {
    assert.deepEqual(parse('user_name:*@example.com'), term('user_name', '*@example.com', true));
    assert.deepEqual(parse('client_name:App?'), term('client_name', 'App?'));
    assert.deepEqual(parse('user_id:*'), { kind: 'exists', field: 'user_id' });
    assert.deepEqual(parse('_exists_:connection'), { kind: 'exists', field: 'connection' });
    assert.deepEqual(parse('*'), { kind: 'exists', field: 'log_id' });
    assert.deepEqual(parse('client_name:a\\*b'), term('client_name', 'a*b'));
    rejects('client_name:a\\*b*', /escaped \\\* cannot be combined/);
  });

  it('keeps values with | and : intact (user ids, timestamps)', () => {
    assert.deepEqual(parse('user_id:email|5f0c'), term('user_id', 'email|5f0c'));
    assert.deepEqual(parse('date:2026-01-02T03:04:05Z'), term('date', '2026-01-02T03:04:05.000Z'));
  });

  it('parses ranges with inclusive, exclusive, mixed and open ends', () => {
    assert.deepEqual(parse('log_id:[100 TO 200}'), { kind: 'range', field: 'log_id', from: '100', to: '200', fromInclusive: true, toInclusive: false });
    assert.deepEqual(parse('type:{a TO *]'), { kind: 'range', field: 'type', from: 'a', to: null, fromInclusive: false, toInclusive: true });
    assert.deepEqual(parse('date:[* TO *]'), { kind: 'range', field: 'date', from: null, to: null, fromInclusive: true, toInclusive: true });
    assert.deepEqual(parse('type:>=m'), { kind: 'range', field: 'type', from: 'm', to: null, fromInclusive: true, toInclusive: false });
    assert.deepEqual(parse('type:<m'), { kind: 'range', field: 'type', from: null, to: 'm', fromInclusive: false, toInclusive: false });
  });

  it('normalises dates: a day means the whole UTC day, timestamps take the stored form, now-Nd is relative', () => {
    assert.deepEqual(parse('date:[2026-01-01 TO 2026-12-31]'), {
      kind: 'range', field: 'date', from: '2026-01-01T00:00:00.000Z', to: '2026-12-31T23:59:59.999Z', fromInclusive: true, toInclusive: true,
    });
    assert.deepEqual(parse('date:{2026-01-01 TO 2026-01-03}'), {
      kind: 'range', field: 'date', from: '2026-01-01T23:59:59.999Z', to: '2026-01-03T00:00:00.000Z', fromInclusive: false, toInclusive: false,
    });
    assert.deepEqual(parse('date:2026-03-04'), {
      kind: 'range', field: 'date', from: '2026-03-04T00:00:00.000Z', to: '2026-03-04T23:59:59.999Z', fromInclusive: true, toInclusive: true,
    });
    assert.deepEqual(parse('date:[now-1d TO now]'), {
      kind: 'range', field: 'date', from: '2026-06-14T12:00:00.000Z', to: '2026-06-15T12:00:00.000Z', fromInclusive: true, toInclusive: true,
    });
    assert.deepEqual(parse('date:>2026-06-01'), { kind: 'range', field: 'date', from: '2026-06-01T23:59:59.999Z', to: null, fromInclusive: false, toInclusive: false });
    assert.deepEqual(parse('date:2026-06*'), term('date', '2026-06*', true));
    rejects('date:2026-02-30', /not a valid date/);
    rejects('date:[yesterday TO now]', /not a valid date/);
  });

  it('parses unknown and details.* fields (the store matches nothing for them, as Auth0 does)', () => {
    assert.deepEqual(parse('details.feature.id:enforce_client_authentication_on_passwordless_start'), term('details.feature.id', 'enforce_client_authentication_on_passwordless_start'));
    assert.deepEqual(parse('Type:s'), term('Type', 's'));
  });

  it('refuses malformed queries with the position of the problem', () => {
    rejects('', /empty/);
    rejects('   ', /empty/);
    rejects('type:', /value is missing/);
    rejects('type:s AND', /missing at the end/);
    rejects('AND type:s', /unexpected AND/);
    rejects('(type:s', /"\)" is missing/);
    rejects('type:s)', /unexpected "\)"/);
    rejects('description:"open', /closing quote/);
    rejects('type:[a TO b', /must end with/);
    rejects('type:[a b]', /needs TO/);
    rejects('[a TO b]', /range needs a field/);
    rejects('type:[a* TO b]', /wildcard/);
    rejects('ip:a"b', /unexpected """/);
    rejects('type:s\\', /lone backslash/);
    rejects('type:s || ', /missing/);
    assert.match(String(captured('type:s )')), /character 8/);
  });

  it('bounds the query: 2,000 characters (too_long), 16 levels of nesting, 64 clauses', () => {
    rejects('x'.repeat(MAX_QUERY_LENGTH + 1), /limited to 2000/, 'too_long');
    assert.doesNotThrow(() => parse(`type:${'x'.repeat(MAX_QUERY_LENGTH - 5)}`));
    rejects(`${'('.repeat(20)}type:s${')'.repeat(20)}`, /nests deeper/);
    rejects('!'.repeat(40) + 'type:s', /nests deeper/);
    rejects(Array.from({ length: 65 }, (_, i) => `type:t${i}`).join(' '), /more than 64 clauses/);
    assert.doesNotThrow(() => parse(Array.from({ length: 64 }, (_, i) => `type:t${i}`).join(' OR ')));
  });
});

function captured(q: string): string | undefined {
  try {
    parse(q);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/**
 * The parsed queries compiled by the real store (SQLite in memory), so the parser and the SQL agree
 * on what matches; the e2e logs suite repeats this over HTTP on both backends.
 */
describe('parsed queries, matched by the SQLite store', () => {
  let store: Store;
  const at = (iso: string) => Date.parse(iso);
  const logs: LogEvent[] = [
    makeLog('depnote', null, { description: DEPRECATION, client_id: 'app1', client_name: 'Shop', connection: 'email' }, at('2026-01-10T10:00:00Z')),
    makeLog('depnote', null, { description: 'oauth/ro passwordless: This feature is being deprecated.', client_id: 'app2' }, at('2026-02-10T10:00:00Z')),
    makeLog('depnote', null, { description: 'Custom claims: This feature is being deprecated.', client_id: 'app3' }, at('2026-03-10T10:00:00Z')),
    makeLog('s', null, { description: 'Success Login', client_id: 'app1', user_name: 'jane@example.com', user_id: 'email|abc' }, at('2026-12-31T23:30:00Z')),
    makeLog('cs', null, { description: 'Passwordless login code has been sent', client_id: 'app2', connection: 'email' }, at('2027-01-01T00:30:00Z')),
  ];
  const descriptions = async (q: string) =>
    (await store.searchLogs({ query: parse(q), page: 0, perPage: 100, sort: { field: 'date', dir: 'asc' } })).items.map((l) => `${l.type}:${l.client_id}`);

  before(async () => {
    ({ store } = await openStore('sqlite::memory:'));
    await store.appendLogs(logs);
  });
  after(async () => store?.close());

  it('the migration query matches the passwordless depnotes, not other deprecations (MIG, MIG2)', async () => {
    assert.deepEqual(await descriptions('type:depnote AND description:*passwordless*'), ['depnote:app1', 'depnote:app2']);
    // Case-sensitive and untokenised (LOGQ): neither a capital nor a bare word of the text matches.
    assert.deepEqual(await descriptions('type:depnote AND description:*Passwordless*'), []);
    assert.deepEqual(await descriptions('description:passwordless'), []);
    assert.deepEqual(await descriptions(`description:"${DEPRECATION}"`), ['depnote:app1']);
  });

  it('NOT, OR, bare terms, exists, and a date range whose inclusive end covers the whole day', async () => {
    assert.deepEqual(await descriptions('type:depnote AND NOT client_id:app1'), ['depnote:app2', 'depnote:app3']);
    assert.deepEqual(await descriptions('type:s OR type:cs'), ['s:app1', 'cs:app2']);
    assert.deepEqual(await descriptions('Shop'), ['depnote:app1']);
    assert.deepEqual(await descriptions('_exists_:user_id'), ['s:app1']);
    assert.deepEqual(await descriptions('date:[2026-02-01 TO 2026-12-31]'), ['depnote:app2', 'depnote:app3', 's:app1']);
    assert.deepEqual(await descriptions('date:{2026-12-31 TO *]'), ['cs:app2']);
    assert.deepEqual(await descriptions('user_name:*@example.com'), ['s:app1']);
    assert.deepEqual(await descriptions('details.feature.id:x OR unknown_field:*'), []);
  });
});
