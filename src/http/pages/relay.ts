import type { FastifyInstance, FastifyReply } from 'fastify';
import { AuthorizeError, errorResponse } from '../../core/authorize.ts';
import { makeLog, passwordlessFields } from '../../core/logs.ts';
import { normaliseRelay, redeemRelay } from '../../core/relay.ts';
import type { Services } from '../../services.ts';
import { isSameBrowser } from '../auth/authorize.ts';
import { sendAuthorizationResponse } from '../auth/authorization-response.ts';
import { requestContext } from '../request-context.ts';
import { pageError } from './error-page.ts';
import { finishSignIn } from './finish.ts';
import { linkErrorView, relayFormView, sendLinkPage } from './link-views.ts';
import { checkCsrf, formField, loadLogin } from './login-transaction.ts';

/**
 * POST /login/relay (issue 3 §4): the original tab redeems the relay code that a magic link showed
 * on another device, and the sign-in finishes HERE, in the browser that started it. The form sits on
 * the hosted page's "check your inbox" view; it carries the transaction `state` and its `_csrf`.
 */
export function registerRelay(app: FastifyInstance, s: Services): void {
  app.post('/login/relay', async (req, reply): Promise<FastifyReply> => {
    const login = await loadLogin(s, req, formField(req.body, 'state'), { open: false });
    checkCsrf(login, req.body);
    // A relay code finishes the sign-in only in the browser that opened the transaction: that is
    // its whole point (the link was refused elsewhere for not being that browser).
    if (!isSameBrowser(s, req, login.tx)) throw pageError(403, 'invalid_csrf');
    const { lang, tx, txId, state } = login;
    // Finished already (the link, or this form submitted twice): say so; there is nothing to redeem.
    if (tx.completed_at !== undefined) return sendLinkPage(s, reply, 200, lang, linkErrorView(lang, 'done'));

    const input = (formField(req.body, 'relay_code') ?? '').slice(0, 64);
    // An empty submission is not a guess: it spends no try.
    if (normaliseRelay(input) === '') return sendLinkPage(s, reply, 400, lang, relayFormView(lang, state, tx.csrf, 'empty'));

    const ctx = requestContext(req);
    const result = await redeemRelay(s, txId, input);
    if (!result.ok) {
      await s.store.appendLogs([makeLog('f', ctx, {
        ...passwordlessFields(login.client, login.connection),
        ...(tx.email ? { user_name: tx.email } : {}),
        description: result.reason === 'wrong' ? 'Wrong relay code.' : result.reason === 'used' ? 'The link was already used.' : 'The relay code can no longer be used.',
        details: { error: { message: `relay code ${result.reason}` }, method: 'magic_link_relay' },
      }, s.now())]);
      if (result.reason === 'used') return sendLinkPage(s, reply, 400, lang, linkErrorView(lang, 'used'));
      // The form stays: after a dead relay, opening the link again on the other device shows a new code to type here.
      const error = result.reason === 'wrong' && result.remaining > 0 ? { remaining: result.remaining } : 'dead' as const;
      return sendLinkPage(s, reply, 400, lang, relayFormView(lang, state, tx.csrf, error));
    }
    // The link's code names its connection; the transaction's is the same unless it was deleted since.
    const connection = login.connection.id === result.key.connection_id ? login.connection : await s.store.getConnection(result.key.connection_id);
    if (!connection) throw pageError(400, 'login_expired');
    try {
      return await finishSignIn(s, reply, { txId, tx, client: login.client, connection, identifier: result.key.identifier, ctx });
    } catch (err) {
      if (err instanceof AuthorizeError) return sendAuthorizationResponse(reply, errorResponse(tx.params, err));
      throw err;
    }
  });
}
