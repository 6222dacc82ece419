import type { FastifyInstance } from 'fastify';
import { createTemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { errorPageNonce } from './error-page.ts';
import { pageCsp } from './layout.ts';
import { registerLogin } from './login.ts';
import { registerRelay } from './relay.ts';

/** The pages people see (issue 3 §2, §3): the hosted login page and the custom login page. */
export function registerPages(app: FastifyInstance, s: Services): void {
  // The error page is rendered by the one error handler, which sets no headers of its own: give
  // it the same strict policy as every hosted page (its nonce is per response). A callback hook:
  // it runs on every response, hot paths included, and must not cost a promise there.
  app.addHook('onSend', (req, reply, payload, done) => {
    const nonce = errorPageNonce(req);
    if (nonce !== undefined) reply.header('content-security-policy', pageCsp(nonce)).header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
    done(null, payload);
  });
  registerLogin(app, s, createTemplateEngine());
  registerRelay(app, s);
}
