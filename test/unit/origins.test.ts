import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileOrigin, compileOrigins, matchesAny, normaliseOrigin } from '../../src/core/origins.ts';

const allows = (entry: string, origin: string) => matchesAny(compileOrigins([entry]), normaliseOrigin(origin) ?? '\0');

describe('origin matching (Auth0 Allowed Origins / Web Origins)', () => {
  it('matches exact entries by scheme, host and port; paths, case and default ports do not matter', () => {
    assert.ok(allows('https://app.example.com', 'https://app.example.com'));
    assert.ok(allows('https://App.Example.com/some/path?q#h', 'https://app.example.com'));
    assert.ok(allows('https://app.example.com:443', 'https://app.example.com'));
    assert.ok(allows('http://localhost:3000/', 'http://localhost:3000'));
    assert.ok(!allows('https://app.example.com', 'http://app.example.com'));
    assert.ok(!allows('https://app.example.com', 'https://app.example.com:8443'));
    assert.ok(!allows('https://app.example.com', 'https://app.example.com.evil.test'));
  });

  it('follows Auth0\'s wildcard rules', () => {
    assert.ok(allows('https://*.example.com', 'https://a.example.com'));
    assert.ok(!allows('https://*.example.com', 'https://example.com'));
    assert.ok(!allows('https://*.example.com', 'https://a.b.example.com'), 'one label only');
    assert.ok(!allows('https://*.example.com', 'https://a.example.com.evil.test'));
    assert.ok(!allows('https://*.example.com', 'https://aexample.com'));
    assert.ok(allows('https://prefix-*-suffix.example.com', 'https://prefix-1-suffix.example.com'));
    assert.ok(!allows('https://prefix-*-suffix.example.com', 'https://prefix--suffix.example.com'), 'the wildcard stands for something');
    assert.ok(allows('http://*.example.com:8080', 'http://a.example.com:8080'));
    assert.ok(!allows('http://*.example.com:8080', 'http://a.example.com'));
    for (const bad of ['https://*.com', 'https://sub.*.example.com', 'https://*.*.example.com', 'com.example.app://*.example.com', 'https://*']) {
      assert.equal(compileOrigin(bad), undefined, bad);
    }
  });

  it('refuses Origin values that are not http(s) origins', () => {
    for (const bad of ['null', 'file://', 'https://a.example.com/path', 'https://*.example.com', 'javascript:alert(1)', '']) {
      assert.equal(normaliseOrigin(bad), undefined, bad);
    }
    assert.equal(normaliseOrigin('https://A.example.com:443'), 'https://a.example.com');
  });
});
