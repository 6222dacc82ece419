import type { OutgoingMail } from '../transport.ts';
import { formatMailbox, parseMailbox } from './address.ts';
import type { ApiProviderName } from './catalog.ts';
import { amzDate, sha256Hex, signV4 } from './sigv4.ts';

/** A provider's credentials with the sealed ones opened (catalog.ts names them). */
export type OpenCredentials = Readonly<Record<string, unknown>>;

export interface ProviderRequest {
  url: string;
  headers: Record<string, string>;
  body: string | FormData;
}

/** The providers called with fetch here; Postmark goes through its official client (postmark.ts). */
export type FetchProviderName = Exclude<ApiProviderName, 'postmark'>;

type Build = (c: OpenCredentials, m: OutgoingMail, origin: string | undefined, nowMs: number) => ProviderRequest;

const json = { 'content-type': 'application/json', accept: 'application/json' };
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const eu = (c: OpenCredentials) => c.region === 'eu';
/** `{email, name}`, as SendGrid and SparkPost take a sender. */
const sender = (from: string) => {
  const { name, address } = parseMailbox(from);
  return name ? { email: address, name } : { email: address };
};

/**
 * Each provider's documented send call: endpoint, authentication and body. Their official Node
 * clients are not used: @sendgrid/mail and mailgun.js pull in axios, sparkpost the long-deprecated
 * `request`, and @aws-sdk/client-sesv2 dozens of packages for one signed POST (sigv4.ts).
 */
export const REQUESTS: Readonly<Record<FetchProviderName, Build>> = {
  /** SendGrid v3 Mail Send: `POST /v3/mail/send`, `Authorization: Bearer <api key>`; text/plain must precede text/html. */
  sendgrid: (c, m, origin) => ({
    url: `${origin ?? 'https://api.sendgrid.com'}/v3/mail/send`,
    headers: { ...json, authorization: `Bearer ${str(c.api_key)}` },
    body: JSON.stringify({
      personalizations: [{ to: [{ email: m.to }] }],
      from: sender(m.from),
      subject: m.subject,
      content: [{ type: 'text/plain', value: m.text }, { type: 'text/html', value: m.html }].filter((p) => p.value !== ''),
    }),
  }),

  /** Mailgun: `POST /v3/<domain>/messages`, HTTP Basic `api:<key>`, form fields; `api.eu.mailgun.net` for region eu. */
  mailgun: (c, m, origin) => {
    const form = new FormData();
    form.append('from', formatMailbox(parseMailbox(m.from)));
    form.append('to', m.to);
    form.append('subject', m.subject);
    if (m.text) form.append('text', m.text);
    if (m.html) form.append('html', m.html);
    const host = origin ?? (eu(c) ? 'https://api.eu.mailgun.net' : 'https://api.mailgun.net');
    return {
      url: `${host}/v3/${encodeURIComponent(str(c.domain))}/messages`,
      headers: { accept: 'application/json', authorization: `Basic ${Buffer.from(`api:${str(c.api_key)}`).toString('base64')}` },
      body: form,
    };
  },

  /** SES API v2 SendEmail: `POST /v2/email/outbound-emails` on `email.<region>.amazonaws.com`, signed with SigV4 (service `ses`). */
  ses: (c, m, origin, nowMs) => {
    const region = str(c.region);
    const url = new URL(`${origin ?? `https://email.${region}.amazonaws.com`}/v2/email/outbound-emails`);
    const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' });
    const configurationSet = str(c.configuration_set_name);
    const body = JSON.stringify({
      FromEmailAddress: formatMailbox(parseMailbox(m.from), true),
      Destination: { ToAddresses: [m.to] },
      Content: { Simple: { Subject: utf8(m.subject), Body: { ...(m.text ? { Text: utf8(m.text) } : {}), ...(m.html ? { Html: utf8(m.html) } : {}) } } },
      ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
    });
    const date = amzDate(nowMs);
    const signed = { 'content-type': 'application/json', host: url.host, 'x-amz-date': date };
    const authorization = signV4({
      method: 'POST', url, headers: signed, payloadHash: sha256Hex(body), region, service: 'ses',
      accessKeyId: str(c.accessKeyId), secretAccessKey: str(c.secretAccessKey), amzDate: date,
    });
    // fetch writes Host itself, from the same URL.
    return { url: url.href, headers: { accept: 'application/json', 'content-type': 'application/json', 'x-amz-date': date, authorization }, body };
  },

  /** SparkPost: `POST /api/v1/transmissions`, `Authorization: <api key>` (no scheme); `api.eu.sparkpost.com` for region eu. */
  sparkpost: (c, m, origin) => ({
    url: `${origin ?? (eu(c) ? 'https://api.eu.sparkpost.com' : 'https://api.sparkpost.com')}/api/v1/transmissions`,
    headers: { ...json, authorization: str(c.api_key) },
    body: JSON.stringify({
      options: { transactional: true },
      recipients: [{ address: { email: m.to } }],
      content: { from: sender(m.from), subject: m.subject, text: m.text, html: m.html },
    }),
  }),
};
