import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amzDate, sha256Hex, signV4 } from '../../src/mail/providers/sigv4.ts';

/**
 * SigV4 against AWS's published aws-sig-v4-test-suite (credentials AKIDEXAMPLE /
 * wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 2015-08-30T12:36:00Z, us-east-1, service "service"):
 * the expected signatures are AWS's, not computed here.
 */
const EXAMPLE = {
  region: 'us-east-1',
  service: 'service',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  amzDate: '20150830T123600Z',
};
const headers = { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' };
const prefix = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=';
const sign = (method: string, url: string) => signV4({ method, url: new URL(url), headers, payloadHash: sha256Hex(''), ...EXAMPLE });

describe('AWS Signature Version 4', () => {
  it('get-vanilla', () => {
    assert.equal(sign('GET', 'https://example.amazonaws.com/'), `${prefix}5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`);
  });

  it('get-vanilla-query-order-key-case: the query is sorted before signing', () => {
    assert.equal(sign('GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1'), `${prefix}b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`);
  });

  it('post-vanilla', () => {
    assert.equal(sign('POST', 'https://example.amazonaws.com/'), `${prefix}5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`);
  });

  it('x-amz-date is the ISO time without separators or milliseconds', () => {
    assert.equal(amzDate(Date.UTC(2015, 7, 30, 12, 36, 0, 123)), '20150830T123600Z');
  });
});
