import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../errors/api-error.ts';
import { isDevMode } from '../../mail/dev-mode.ts';
import type { Services } from '../../services.ts';
import type { DevOutboxRow } from '../../store/dashboard-types.ts';
import { requireScopes } from './auth.ts';
import { type PagingInput, listBody, listSchema, paging, pagingQuery } from './paging.ts';

const messageView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    to: { type: 'string' },
    from: { type: 'string' },
    subject: { type: 'string' },
    text: { type: 'string' },
    html: { type: 'string' },
    created_at: { type: 'string' },
    codes: { type: 'array', items: { type: 'string' } },
    links: { type: 'array', items: { type: 'string' } },
  },
  // html only when the message has one (view() below).
  required: ['id', 'to', 'from', 'subject', 'text', 'created_at', 'codes', 'links'],
} as const;

const URL_RE = /https?:\/\/[^\s<>"')]+/g;
const CODE_RE = /\b\d{4,10}\b/g;

/** The message as the dashboard lists it, with the links and one-time codes found in its text. */
function view(row: DevOutboxRow) {
  let mail: { from?: string; subject?: string; text?: string; html?: string } = {};
  try {
    mail = JSON.parse(row.payload) as typeof mail;
  } catch {
    // An unreadable payload is listed with what the row itself knows.
  }
  const text = mail.text ?? '';
  const links = [...new Set(text.match(URL_RE) ?? [])];
  const codes = [...new Set(text.replace(URL_RE, ' ').match(CODE_RE) ?? [])];
  return {
    id: String(row.id),
    to: row.recipient,
    from: mail.from ?? '',
    subject: mail.subject ?? '',
    text,
    ...(mail.html ? { html: mail.html } : {}),
    created_at: new Date(row.created_at).toISOString(),
    codes,
    links,
  };
}

/**
 * Sesame extension (issue 12, "Development outbox"): in development mode (no SMTP provider) the
 * messages the console transport "sent" — codes and links included — newest first, so a developer
 * signs a test user in without reading the server log. They hold live codes: `read:logs`, and
 * nothing at all outside development mode (404), where messages really leave and are not kept.
 */
export function registerSesameDevOutbox(api: FastifyInstance, s: Services): void {
  api.get<{ Querystring: PagingInput }>(
    '/sesame/dev-outbox',
    {
      onRequest: requireScopes(s, 'read:logs'),
      schema: { querystring: { type: 'object', additionalProperties: false, properties: pagingQuery }, response: { 200: listSchema('messages', messageView) } },
    },
    async (req) => {
      if (!(await isDevMode(s))) {
        throw new ApiError(404, 'The development outbox exists only in development mode (no SMTP provider is set)', 'not_in_development_mode');
      }
      const p = paging(req.query);
      const { items, total } = await s.store.listDevOutbox({ page: p.page, perPage: p.perPage });
      return listBody('messages', items.map(view), total, p);
    },
  );
}
