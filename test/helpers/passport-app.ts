import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import Auth0Strategy from 'passport-auth0';

/** What the app saw: every callback failure (passport's error or failure message), oldest first. */
export interface PassportApp {
  /** `http://127.0.0.1:<port>`: the app's own origin (register `${origin}/callback` and `${origin}/`). */
  origin: string;
  failures: string[];
  close(): Promise<void>;
}

const esc = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An Express application as passport-auth0's README builds one (express-session, passport,
 * `new Auth0Strategy({domain, clientID, clientSecret, callbackURL})`), unchanged but for the trust
 * of Sesame's test certificate: the strategy always speaks `https://<domain>`, and its server-side
 * calls (the code exchange at /oauth/token, the profile at `GET /userinfo?access_token=…`) go
 * through node-oauth, whose agent is the one place a CA can be given.
 */
export async function startPassportApp(opts: { domain: string; clientId: string; clientSecret: string; ca: string; connection?: string }): Promise<PassportApp> {
  const failures: string[] = [];
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const passport = new Passport();
  const strategy = new Auth0Strategy(
    { domain: opts.domain, clientID: opts.clientId, clientSecret: opts.clientSecret, callbackURL: `${origin}/callback` },
    (_accessToken, _refreshToken, _params, profile, done) => done(null, profile),
  );
  (strategy as unknown as { _oauth2: { setAgent(a: Agent): void } })._oauth2.setAgent(new Agent({ ca: opts.ca }));
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  app.use(session({ secret: randomBytes(16).toString('hex'), resave: false, saveUninitialized: false }));
  app.use(passport.session());

  const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;

  app.get('/', (req, res) => {
    const user = req.user as Auth0Strategy.Profile | undefined;
    res.send(page('Home', user ? `<p data-testid="home">Signed in</p>` : `<p data-testid="home">Signed out</p><a href="/login">Log in</a>`));
  });
  app.get('/login', passport.authenticate('auth0', { scope: 'openid email profile', ...(opts.connection ? { connection: opts.connection } : {}) } as object));
  app.get('/callback', (req, res, next) => {
    passport.authenticate('auth0', (err: unknown, user: Express.User | false, info: unknown) => {
      if (err || !user) {
        failures.push(err ? String((err as Error).message ?? err) : JSON.stringify(info));
        res.status(401).send(page('Failed', `<p data-testid="error">${esc(failures.at(-1)!)}</p>`));
        return;
      }
      req.logIn(user, (e) => (e ? next(e) : res.redirect('/profile')));
    })(req, res, next);
  });
  app.get('/profile', (req, res) => {
    const user = req.user as Auth0Strategy.Profile | undefined;
    if (!user) return void res.status(401).send(page('Profile', '<p data-testid="home">Signed out</p>'));
    res.send(page('Profile', `<p data-testid="profile-id">${esc(user.id)}</p><p data-testid="profile-email">${esc(user.emails?.[0]?.value ?? '')}</p>
<pre data-testid="profile-json">${esc(JSON.stringify(user._json))}</pre><a href="/logout" data-testid="logout">Log out</a>`));
  });
  app.get('/logout', (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      // Auth0's logout endpoint ends the Sesame session and returns to an allowed URL of the client.
      res.redirect(`https://${opts.domain}/v2/logout?${new URLSearchParams({ client_id: opts.clientId, returnTo: `${origin}/` })}`);
    });
  });

  return {
    origin,
    failures,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
