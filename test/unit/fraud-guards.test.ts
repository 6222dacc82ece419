import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FRAUD_GUARDS, effectiveFraudGuards, validateFraudGuards, validateSmsDailyBudget } from '../../src/core/fraud-guards.ts';
import { ipRange } from '../../src/core/ip-key.ts';
import { formatInternational, maskPhone, normalizePhone, normalizeTypedPhone } from '../../src/core/phone.ts';
import { defaultCountry, listedCountries } from '../../src/http/pages/phone-step.ts';

describe('SMS toll-fraud guard settings (issue 5 §4)', () => {
  it('fills every guard the connection leaves out with its default, setting by setting', () => {
    assert.deepEqual(effectiveFraudGuards({}), DEFAULT_FRAUD_GUARDS);
    assert.deepEqual(effectiveFraudGuards({ fraud_guards: { per_prefix: { max: 3 }, per_client: null, allowed_countries: ['FR'] } }), {
      ...DEFAULT_FRAUD_GUARDS,
      allowed_countries: ['FR'],
      per_prefix: { max: 3, window_seconds: 3600, prefix_length: 8 },
      per_client: null,
    });
    // The defaults are never shared with (or changed through) a result.
    effectiveFraudGuards({}).per_number!.max = 99;
    assert.equal(DEFAULT_FRAUD_GUARDS.per_number!.max, 5);
  });

  it('refuses settings that would silently do something else', () => {
    assert.equal(validateFraudGuards(undefined), undefined);
    assert.equal(validateFraudGuards({ per_number: { max: 1, window_seconds: 60 }, per_ip_range: null, allowed_countries: null }), undefined);
    assert.match(validateFraudGuards([]) ?? '', /must be an object/);
    assert.match(validateFraudGuards({ per_phone: {} }) ?? '', /per_phone is not a guard/);
    assert.match(validateFraudGuards({ allowed_countries: ['fr'] }) ?? '', /alpha-2/);
    assert.match(validateFraudGuards({ allowed_countries: 'FR' }) ?? '', /alpha-2/);
    assert.match(validateFraudGuards({ per_number: { max: 0 } }) ?? '', /per_number\.max/);
    assert.match(validateFraudGuards({ per_number: { max: 1.5 } }) ?? '', /per_number\.max/);
    assert.match(validateFraudGuards({ per_client: { window_seconds: 8 * 86400 } }) ?? '', /window_seconds/);
    assert.match(validateFraudGuards({ per_prefix: { prefix_length: 16 } }) ?? '', /prefix_length/);
    assert.match(validateFraudGuards({ per_number: { prefix_length: 4 } }) ?? '', /per_number\.prefix_length is not a setting/);
    assert.match(validateFraudGuards({ per_number: { maxx: 4 } }) ?? '', /per_number\.maxx is not a setting/);
    assert.equal(validateSmsDailyBudget(0), undefined);
    assert.match(validateSmsDailyBudget(-1) ?? '', /sms_daily_budget/);
  });

  it('groups addresses by IPv4 /24 and IPv6 /48', () => {
    assert.equal(ipRange('203.0.113.7'), '203.0.113.0/24');
    assert.equal(ipRange('::ffff:203.0.113.7'), '203.0.113.0/24');
    assert.equal(ipRange('2001:db8:abcd:12::1'), '2001:0db8:abcd::/48');
    assert.equal(ipRange('2001:db8:abcd::9'), ipRange('2001:0db8:abcd:ffff:1:2:3:4'));
    assert.notEqual(ipRange('2001:db8:abcd::9'), ipRange('2001:db8:abce::9'));
    assert.equal(ipRange('::1'), '0000:0000:0000::/48');
  });
});

describe('phone numbers (issue 5 §2)', () => {
  it('strips separators, requires the leading +, and keeps only numbers possible for their country, in E.164', () => {
    assert.deepEqual(normalizePhone('+1 (415) 555-2671'), { ok: true, e164: '+14155552671', country: 'US' });
    assert.deepEqual(normalizePhone('+33 6.12.34.56.78'), { ok: true, e164: '+33612345678', country: 'FR' });
    assert.deepEqual(normalizePhone('14155552671'), { ok: false, description: 'String does not match pattern: ^\\+[0-9]{1,15}$' });
    assert.deepEqual(normalizePhone('+1415555267a'), { ok: false, description: 'String does not match pattern: ^\\+[0-9]{1,15}$' });
    assert.deepEqual(normalizePhone('+1234567890123456'), { ok: false, description: 'String does not match pattern: ^\\+[0-9]{1,15}$' });
    assert.deepEqual(normalizePhone('+12'), { ok: false, description: 'Invalid phone number' });
    assert.deepEqual(normalizePhone('+3361234567890'), { ok: false, description: 'Invalid phone number' });
    // Non-geographic numbers are possible but belong to no country.
    const global = normalizePhone('+80012345678');
    assert.equal(global.ok && global.country, undefined);
  });

  it('takes a national number with its country on the hosted page (issue 11), valid there only; + numbers as the API does', () => {
    assert.deepEqual(normalizeTypedPhone('06 12 34 56 78', 'FR'), { ok: true, e164: '+33612345678', country: 'FR' });
    assert.deepEqual(normalizeTypedPhone('0033 6 12 34 56 78', 'BE'), { ok: true, e164: '+33612345678', country: 'FR' });
    assert.deepEqual(normalizeTypedPhone('(415) 555-2671', 'US'), { ok: true, e164: '+14155552671', country: 'US' });
    assert.deepEqual(normalizeTypedPhone('+1 415 555 2671', 'FR'), { ok: true, e164: '+14155552671', country: 'US' });
    assert.deepEqual(normalizeTypedPhone('06 12 34 56 78', 'US'), { ok: false, description: 'Invalid phone number' });
    assert.deepEqual(normalizeTypedPhone('06 12', 'FR'), { ok: false, description: 'Invalid phone number' });
    for (const [typed, country] of [['06 12 34 56 78', undefined], ['06 12 34 56 78', 'ZZ'], ['06 12 34 56 78', 'fr'], ['06 abc', 'FR']] as const) {
      assert.deepEqual(normalizeTypedPhone(typed, country), { ok: false, description: 'String does not match pattern: ^\\+[0-9]{1,15}$' }, `${typed} ${country}`);
    }
    assert.equal(formatInternational('+33612345678'), '+33 6 12 34 56 78');
  });

  it('starts the country list at the only allowed country, the tenant’s, then the browser’s language region', () => {
    const all = listedCountries(null);
    assert.equal(all.length, 245);
    assert.deepEqual(listedCountries(['FR', 'XX']), ['FR']);
    assert.equal(defaultCountry(['FR'], 'GB', 'de-DE'), 'FR');
    assert.equal(defaultCountry(all, 'GB', 'de-DE'), 'GB');
    assert.equal(defaultCountry(all, 'XX', 'de-DE'), 'DE');
    assert.equal(defaultCountry(all, undefined, 'fr;q=0.4, en-GB;q=0.8'), 'GB');
    assert.equal(defaultCountry(all, undefined, 'fr'), 'FR');
    assert.equal(defaultCountry(['BE', 'CH'], undefined, 'fr-FR, de-CH'), 'CH');
    assert.equal(defaultCountry(all, undefined, '*, 12345678901'), undefined);
    assert.equal(defaultCountry(all, undefined, undefined), undefined);
  });

  it('masks all digits but the last four for logs', () => {
    assert.equal(maskPhone('+14155552671'), '+*******2671');
    assert.equal(maskPhone('+123'), '+123');
  });
});
