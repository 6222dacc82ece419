import type { FastifyInstance } from 'fastify';

/**
 * Calls Lock and auth0-js make from a login page on Sesame's host before they show a form (found by
 * running Lock 14.3.0 in Chromium): the bot-detection challenge (spec §8.2 `getChallenge`) and the
 * SSO data used to offer "last time you signed in with…". Sesame has no captcha and does not
 * offer account pickers, so it answers with the "nothing to show" shapes the SDKs expect, rather
 * than 404s that they log as errors.
 */
export function registerLoginPageProbes(app: FastifyInstance): void {
  // auth0-js `getChallenge`: `{required: false}` means "no captcha", and the form is shown as is.
  for (const path of ['/passwordless/challenge', '/usernamepassword/challenge']) {
    app.post(path, async (_req, reply) => reply.header('cache-control', 'no-store').send({ required: false }));
  }
  // auth0-js `getSSOData`: `sso: false` = no remembered account to offer.
  app.get('/user/ssodata', async (_req, reply) => reply.header('cache-control', 'no-store').send({ sso: false }));
}
