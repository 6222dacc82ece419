import type { FastifyReply } from 'fastify';
import type { AuthorizationResponse } from '../../core/authorize.ts';
import { escapeHtml } from '../pages/html.ts';
import { pageCsp } from '../pages/layout.ts';
import { newNonce } from '../pages/page-context.ts';

/**
 * Sends the result of a browser sign-in back to the application in its response mode:
 * `query` and `fragment` (RFC 6749 §4.1.2, §4.2.2), `form_post` (OAuth 2.0 Form Post Response Mode)
 * and `web_message` (the postMessage mode auth0-spa-js and auth0-js use in their hidden iframe).
 */
export function sendAuthorizationResponse(reply: FastifyReply, r: AuthorizationResponse): FastifyReply {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  const encoded = new URLSearchParams(r.params).toString();
  switch (r.response_mode) {
    case 'query': {
      const sep = r.redirect_uri.includes('?') ? '&' : '?';
      return reply.redirect(`${r.redirect_uri}${sep}${encoded}`, 302);
    }
    case 'fragment':
      return reply.redirect(`${r.redirect_uri.split('#')[0]}#${encoded}`, 302);
    case 'form_post': {
      const inputs = Object.entries(r.params).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
      // The same policy as every hosted page (layout.ts): the submit runs from a nonce'd script, not
      // an inline handler, and the page that carries the tokens can never be framed (clickjacking).
      const nonce = newNonce();
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', pageCsp(nonce))
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'no-referrer')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Submit</title></head><body>` +
            `<form method="post" action="${escapeHtml(r.redirect_uri)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form>` +
            `<script nonce="${nonce}">document.forms[0].submit();</script></body></html>`,
        );
    }
    case 'web_message': {
      // The message goes only to the application's origin (never '*'): tokens must not leak to
      // whatever page framed us. JSON in a script block: escape '<' so no value can close it.
      const origin = new URL(r.redirect_uri).origin;
      const data = JSON.stringify({ type: 'authorization_response', response: r.params }).replace(/</g, '\\u003c');
      return reply.type('text/html; charset=utf-8').send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorization Response</title></head><body><script>` +
          `(function(){var t=window.opener||window.parent;t.postMessage(${data},${JSON.stringify(origin)});})();</script></body></html>`,
      );
    }
  }
}
