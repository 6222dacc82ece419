import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipKey } from '../../src/core/ip-key.ts';

describe('ipKey (issue 10 §2: every per-IP limit)', () => {
  it('keeps IPv4 as is, and unwraps IPv4-mapped IPv6', () => {
    assert.equal(ipKey('203.0.113.7'), '203.0.113.7');
    assert.equal(ipKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(ipKey('::FFFF:203.0.113.7'), '203.0.113.7');
  });

  it('groups IPv6 by /64, whatever the spelling', () => {
    assert.equal(ipKey('2001:db8:1:2::a'), '2001:0db8:0001:0002::/64');
    assert.equal(ipKey('2001:DB8:1:2:ffff:ffff:ffff:ffff'), ipKey('2001:0db8:0001:0002:0:0:0:1'));
    assert.notEqual(ipKey('2001:db8:1:2::1'), ipKey('2001:db8:1:3::1'));
    assert.equal(ipKey('2001:db8::1'), '2001:0db8:0000:0000::/64');
    assert.equal(ipKey('::1'), '0000:0000:0000:0000::/64');
  });

  it('leaves what is not an IP alone', () => {
    assert.equal(ipKey('unknown'), 'unknown');
  });
});
