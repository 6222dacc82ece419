import { EMAIL_PROVIDER_SETTING, defaultFromAddress } from '../mail/transport.ts';
import { type EmailOptions, type RenderedEmail, type TemplateEngine, renderEmail, validateEmailTemplate } from '../mail/templates.ts';
import type { Services } from '../services.ts';
import type { EmailProvider } from '../store/types.ts';
import type { Connection } from './model.ts';
import { otpSettings } from './otp.ts';

export interface PreviewInput {
  /** An email connection's name. */
  connection: string;
  /** Unsaved template fields to render instead of the connection's (the editor's live preview). */
  email?: EmailOptions;
  send?: 'code' | 'link';
  application?: string;
  language?: string;
  to?: string;
}

/** A sample code: digits of the connection's length that no code can be (codes are random). */
export const sampleCode = (length: number) => '0123456789'.repeat(2).slice(0, length);

/**
 * Renders a connection's passwordless email the way /passwordless/start does (mail/templates.ts:
 * the same Liquid engine, variables and defaults), with sample values instead of a real code or
 * link (issue 12: template preview and "send me a test"). Throws TemplateError for a bad template.
 */
export async function renderSample(s: Services, engine: TemplateEngine, conn: Connection, input: PreviewInput): Promise<RenderedEmail> {
  const opts = input.email ?? (conn.options.email as EmailOptions | undefined);
  validateEmailTemplate(opts, engine);
  const { length, ttlMs } = otpSettings(conn);
  const send = input.send ?? 'code';
  const email = input.to ?? 'someone@example.com';
  const link = `${s.issuer}passwordless/verify_redirect?connection=${encodeURIComponent(conn.name)}&email=${encodeURIComponent(email)}&verification_code=sample`;
  const provider = await s.store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING);
  return renderEmail(
    engine,
    opts,
    {
      ...(send === 'code' ? { code: sampleCode(length) } : { link }),
      send,
      application: { name: input.application ?? 'My App' },
      ...(input.language !== undefined ? { request_language: input.language } : {}),
      connection: { name: conn.name },
      operation: null,
      email,
      expires_in_minutes: Math.round(ttlMs / 60_000),
    },
    defaultFromAddress(provider, s.config),
  );
}
