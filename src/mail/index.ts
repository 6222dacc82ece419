/** Outbound email: Liquid templates, transport resolution, the durable outbox worker and its thread. */
export { createTemplateEngine, renderEmail, TemplateEngine, TemplateError, validateEmailTemplate } from './templates.ts';
export type { EmailOptions, EmailVars, RenderedEmail } from './templates.ts';
export { defaultFromAddress, EMAIL_PROVIDER_SETTING, TransportResolver } from './transport.ts';
export type { MailTransport, OutgoingMail, SmtpSettings } from './transport.ts';
export { MailWorker } from './worker.ts';
export { createMailDelivery, MailThread } from './thread.ts';
