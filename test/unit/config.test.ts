import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { fastifyTrustProxy } from '../../src/config/trust-proxy.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.host, '::', 'dual stack: localhost may resolve to ::1');
    assert.equal(c.logFormat, undefined, 'pretty on a terminal, JSON otherwise');
    assert.equal(c.issuer, 'http://localhost:3000/');
    assert.equal(c.issuerExplicit, false);
    assert.equal(c.databaseUrl, 'sqlite:./data/sesame.db');
    assert.equal(c.startLimitPerHour, 50);
    assert.equal(c.secret, undefined);
    assert.ok(Object.isFrozen(c));
  });

  it('normalises the issuer to end in a slash', () => {
    assert.equal(loadConfig({ SESAME_ISSUER: 'https://auth.example.com' }).issuer, 'https://auth.example.com/');
    assert.equal(loadConfig({ SESAME_ISSUER: 'https://auth.example.com/tenant' }).issuer, 'https://auth.example.com/tenant/');
    assert.equal(loadConfig({ SESAME_ISSUER: 'https://auth.example.com/' }).issuer, 'https://auth.example.com/');
    assert.equal(loadConfig({ SESAME_PORT: '8080' }).issuer, 'http://localhost:8080/');
  });

  it('SESAME_TRUST_PROXY: off by default; true, a hop count or a list of addresses/CIDRs (issue 10 §2)', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ SESAME_TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ SESAME_TRUST_PROXY: '0' }).trustProxy, false);
    assert.equal(loadConfig({ SESAME_TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ SESAME_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ SESAME_TRUST_PROXY: '10.0.0.0/8, fd00::/8,192.0.2.1,loopback' }).trustProxy, ['10.0.0.0/8', 'fd00::/8', '192.0.2.1', 'loopback']);
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'proxy.internal', '10.0.0.0/8/1', '1e3', ',', '101']) {
      assert.throws(() => loadConfig({ SESAME_TRUST_PROXY: bad }), (err: Error) => err instanceof ConfigError && err.errors.some((e) => e.startsWith('SESAME_TRUST_PROXY')), bad);
    }
  });

  it('metrics: off by default; SESAME_METRICS=1, or a port of their own on loopback (issue 13 §4)', () => {
    const off = loadConfig({});
    assert.deepEqual([off.metrics, off.metricsPort, off.metricsHost], [false, undefined, '127.0.0.1']);
    assert.equal(loadConfig({ SESAME_METRICS: '1' }).metrics, true);
    assert.equal(loadConfig({ SESAME_METRICS: '0' }).metrics, false);
    const own = loadConfig({ SESAME_METRICS_PORT: '9464', SESAME_METRICS_HOST: '0.0.0.0' });
    assert.deepEqual([own.metricsPort, own.metricsHost], [9464, '0.0.0.0']);
    const errors = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).errors;
      }
    };
    assert.deepEqual(errors({ SESAME_METRICS: 'yes' }), ['SESAME_METRICS must be 0 or 1 (got "yes")']);
    assert.deepEqual(errors({ SESAME_METRICS_PORT: '70000' }), ['SESAME_METRICS_PORT must be an integer between 0 and 65535 (got "70000")']);
    assert.deepEqual(errors({ SESAME_PORT: '9464', SESAME_METRICS_PORT: '9464' }), ['SESAME_METRICS_PORT must differ from SESAME_PORT']);
  });

  it('a hop count trusts that many nearest addresses (Fastify 5.12 alone would read a number as trust-nobody)', () => {
    const trust = fastifyTrustProxy(2);
    assert.equal(typeof trust, 'function');
    const fn = trust as (addr: string, hop: number) => boolean;
    assert.deepEqual([0, 1, 2].map((hop) => fn('10.0.0.1', hop)), [true, true, false]);
    assert.equal(fastifyTrustProxy(0), false);
    assert.deepEqual(fastifyTrustProxy(Object.freeze(['10.0.0.0/8'])), ['10.0.0.0/8']);
  });

  it('lists every error at once', () => {
    try {
      loadConfig({
        SESAME_PORT: '70000',
        SESAME_ISSUER: 'ftp://x',
        SESAME_DATABASE_URL: 'mysql://x',
        SESAME_SECRET: 'short',
        SESAME_BOOTSTRAP_CLIENT_ID: 'abc',
        SESAME_SMTP_URL: 'http://mail',
        SESAME_TLS_CERT: '/nonexistent.pem',
        SESAME_START_LIMIT_PER_HOUR: '-1',
        SESAME_LOG_LEVEL: 'loud',
        SESAME_TWILIO_API_URL: 'https://api.twilio.com/2010-04-01',
      });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const text = err.errors.join('\n');
      for (const name of ['SESAME_PORT', 'SESAME_ISSUER', 'SESAME_DATABASE_URL', 'SESAME_SECRET', 'SESAME_BOOTSTRAP_CLIENT_SECRET', 'SESAME_SMTP_URL', 'SESAME_TLS_KEY', 'SESAME_TLS_CERT', 'SESAME_START_LIMIT_PER_HOUR', 'SESAME_LOG_LEVEL', 'SESAME_TWILIO_API_URL']) {
        assert.match(text, new RegExp(name), name);
      }
    }
  });

  it('reads SESAME_SECRET_PREVIOUS as a list and SESAME_DEV_MAIL as exactly "log" (issue 10)', () => {
    const a = 'a'.repeat(32);
    const b = 'b'.repeat(40);
    assert.deepEqual(loadConfig({ SESAME_SECRET_PREVIOUS: ` ${a} , ${b} ` }).secretPrevious, [a, b]);
    assert.deepEqual(loadConfig({}).secretPrevious, []);
    assert.throws(() => loadConfig({ SESAME_SECRET_PREVIOUS: `${a},short` }), /SESAME_SECRET_PREVIOUS/);
    assert.equal(loadConfig({ SESAME_DEV_MAIL: 'log' }).devMail, 'log');
    assert.equal(loadConfig({}).devMail, undefined);
    assert.throws(() => loadConfig({ SESAME_DEV_MAIL: 'yes' }), /SESAME_DEV_MAIL must be "log"/);
  });

  it('accepts postgres and in-memory SQLite URLs, and 0 to disable the start limit', () => {
    assert.equal(loadConfig({ SESAME_DATABASE_URL: 'postgres://u@h:5432/db' }).databaseUrl, 'postgres://u@h:5432/db');
    assert.equal(loadConfig({ SESAME_DATABASE_URL: 'sqlite::memory:' }).databaseUrl, 'sqlite::memory:');
    assert.equal(loadConfig({ SESAME_START_LIMIT_PER_HOUR: '0' }).startLimitPerHour, 0);
  });

  it("keeps the SMS providers' timeouts at 10 s (Twilio) and Auth0's 30 s (gateway) unless configured", () => {
    assert.equal(loadConfig({}).twilioTimeoutMs, 10_000);
    assert.equal(loadConfig({}).smsGatewayTimeoutMs, 30_000);
    const short = loadConfig({ SESAME_TWILIO_TIMEOUT_MS: '250', SESAME_SMS_GATEWAY_TIMEOUT_MS: '500' });
    assert.deepEqual([short.twilioTimeoutMs, short.smsGatewayTimeoutMs], [250, 500]);
    for (const name of ['SESAME_TWILIO_TIMEOUT_MS', 'SESAME_SMS_GATEWAY_TIMEOUT_MS']) {
      assert.throws(() => loadConfig({ [name]: '0' }), (err: unknown) => err instanceof ConfigError && err.errors[0]!.startsWith(name));
    }
  });

  it('takes the Twilio API origin, normalised, and refuses anything but an http(s) origin', () => {
    assert.equal(loadConfig({}).twilioApiUrl, 'https://api.twilio.com');
    assert.equal(loadConfig({ SESAME_TWILIO_API_URL: 'http://127.0.0.1:4010/' }).twilioApiUrl, 'http://127.0.0.1:4010');
    assert.equal(loadConfig({ SESAME_TWILIO_API_URL: 'HTTPS://API.Twilio.com' }).twilioApiUrl, 'https://api.twilio.com');
    for (const bad of ['ftp://api.twilio.com', 'api.twilio.com', 'https://api.twilio.com/path', 'https://api.twilio.com?x=1', 'https://u:p@api.twilio.com']) {
      assert.throws(() => loadConfig({ SESAME_TWILIO_API_URL: bad }), (err: unknown) =>
        err instanceof ConfigError && err.errors.length === 1 && err.errors[0]!.startsWith('SESAME_TWILIO_API_URL must be an http(s) origin'), bad);
    }
  });
});

describe('SESAME_LOG_FORMAT', () => {
  it('is json, pretty or unset, and anything else is a configuration error', () => {
    assert.equal(loadConfig({ SESAME_LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.equal(loadConfig({ SESAME_LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
    assert.throws(() => loadConfig({ SESAME_LOG_FORMAT: 'xml' }), (e: unknown) => e instanceof ConfigError && /SESAME_LOG_FORMAT must be json or pretty/.test(e.message));
  });
});
