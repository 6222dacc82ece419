import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logsQuery, usersQuery } from '../../admin/src/lib/queries.ts';
import { parseLogQuery } from '../../src/core/log-query.ts';

/** The dashboard's Logs and Users pages build Auth0 queries the server's parser accepts (issue 12). */
describe('admin dashboard queries', () => {
  it('the Logs page sends what was typed, as typed, when nothing else is chosen', () => {
    assert.equal(logsQuery('type:depnote AND description:*passwordless*', [], '', ''), 'type:depnote AND description:*passwordless*');
    assert.equal(logsQuery('  ', [], '', ''), '');
  });

  it('type chips and a date range are ANDed with the typed query, which keeps its own precedence', () => {
    const q = logsQuery('type:f OR type:s', ['depnote', 'cs'], '2026-12-01', '');
    assert.equal(q, '(type:f OR type:s) AND type:(depnote OR cs) AND date:[2026-12-01 TO *]');
    assert.equal(logsQuery('', ['s'], '', '2026-12-07'), 'type:(s) AND date:[* TO 2026-12-07]');
    for (const built of [q, logsQuery('', ['s'], '', '2026-12-07'), logsQuery('x', [], '2026-01-01', '2026-01-31')]) {
      assert.doesNotThrow(() => parseLogQuery(built), built);
    }
  });

  it('the Users page searches by email or by phone number', () => {
    assert.equal(usersQuery('jane@example.com'), 'email:"jane@example.com"');
    assert.equal(usersQuery('jane*'), 'email:jane*');
    assert.equal(usersQuery('+1 (415) 555-0100'), 'phone_number:"+14155550100"');
    assert.equal(usersQuery('+33 6*'), 'phone_number:+336*');
    assert.equal(usersQuery('a"b@example.com'), 'email:"a\\"b@example.com"');
    assert.equal(usersQuery(' '), undefined);
  });
});
