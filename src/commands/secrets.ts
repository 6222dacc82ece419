import { Keyring, SealError } from '../core/keyring.ts';
import { signingContext } from '../core/keys.ts';
import { streamContext } from '../logs/stream-delivery.ts';
import { apiSecretContext, isApiProvider } from '../mail/providers/catalog.ts';
import { EMAIL_PROVIDER_SETTING, SMTP_CONTEXT } from '../mail/transport.ts';
import { existingSecret } from '../secret.ts';
import { PHONE_PROVIDER_SEAL, PHONE_PROVIDER_SETTING, type StoredPhoneProvider } from '../core/phone-provider.ts';
import { type Reseal, resealSmsSecrets } from '../sms/secrets.ts';
import { openStore } from '../store/index.ts';
import type { EmailProvider, StaleHashes, Store } from '../store/types.ts';
import { commandConfig } from './config.ts';
import type { Command } from './types.ts';

const USAGE = `Usage: sesame secrets reseal

After a change of SESAME_SECRET (the old one in SESAME_SECRET_PREVIOUS), seals every stored secret
again under SESAME_SECRET: signing keys, SMS provider secrets, the SMTP password or email API keys, log stream
signing secrets. Then lists what stays bound to a previous secret because it is only stored as a
keyed hash (client secrets, codes, sessions, refresh tokens), and until when.
It reads the same environment as \`sesame start\` and may run while servers are up.
Exit 0 done, 1 something could not be opened (listed; nothing was lost), 2 usage.
`;

/** Counts per kind of sealed value: moved to the current secret, or not openable. */
interface Tally {
  resealed: Record<string, number>;
  errors: string[];
}

/** Issue 10 §3: `sesame secrets reseal`. */
export const secretsCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    if (argv[0] !== 'reseal' || argv.length > 1) {
      (argv[0] === '--help' || argv[0] === '-h' ? io.stdout : io.stderr).write(USAGE);
      return argv[0] === '--help' || argv[0] === '-h' ? 0 : 2;
    }
    const config = commandConfig(io);
    if (!config) return 1;
    const { store, dataDir } = await openStore(config.databaseUrl);
    try {
      const secret = existingSecret(config, dataDir);
      if (!secret) {
        io.stderr.write('No secret: set SESAME_SECRET (and SESAME_SECRET_PREVIOUS to the one it replaced).\n');
        return 1;
      }
      const keyring = new Keyring(secret, config.secretPrevious);
      const tally = await resealAll(store, keyring);
      const now = Date.now();
      io.stdout.write(formatReport(keyring, tally, await store.hashesNotUnder(keyring.keyId, now), now));
      return tally.errors.length ? 1 : 0;
    } finally {
      await store.close();
    }
  },
};

async function resealAll(store: Store, keyring: Keyring): Promise<Tally> {
  const tally: Tally = { resealed: { 'signing keys': 0, 'SMS provider secrets': 0, 'SMTP password': 0, 'email provider keys': 0, 'log stream secrets': 0 }, errors: [] };
  const reseal = (context: string, sealed: string): Reseal => {
    if (keyring.isCurrent(sealed)) return { value: sealed, changed: false };
    try {
      return { value: keyring.seal(context, keyring.open(context, sealed)), changed: true };
    } catch (err) {
      if (err instanceof SealError) return { error: err.message };
      throw err;
    }
  };
  const count = (what: string, name: string, r: Reseal): string | undefined => {
    if ('error' in r) {
      tally.errors.push(`${name}: ${r.error}`);
      return undefined;
    }
    if (r.changed) tally.resealed[what]!++;
    return r.changed ? r.value : undefined;
  };

  for (const key of await store.listSigningKeys()) {
    const value = count('signing keys', `signing key ${key.kid}`, reseal(signingContext(key.kid), key.private_jwk_enc));
    if (value) await store.resealSigningKey(key.kid, value);
  }

  for (let page = 0; ; page++) {
    const { items } = await store.listConnections({ page, perPage: 100, strategy: ['sms'] });
    for (const conn of items) {
      const r = resealSmsSecrets(reseal, conn.options, conn.id);
      tally.errors.push(...r.errors.map((e) => `connection ${conn.name}: ${e}`));
      tally.resealed['SMS provider secrets']! += r.changed;
      if (r.changed) await store.updateConnection({ ...conn, options: r.options });
    }
    if (items.length < 100) break;
  }

  const provider = await store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING);
  const old = provider?.smtp_pass_enc;
  const pass = old && count('SMTP password', 'email provider smtp_pass', reseal(SMTP_CONTEXT, old));
  if (pass) {
    // Only over the value read: a password changed meanwhile through the API is newer and stays.
    await store.updateSetting<EmailProvider | undefined>(EMAIL_PROVIDER_SETTING, (p) => (p?.smtp_pass_enc === old ? { ...p, smtp_pass_enc: pass } : p));
  }
  if (provider?.secrets_enc && isApiProvider(provider.name)) {
    const name = provider.name;
    const before = provider.secrets_enc;
    const after: Record<string, string> = { ...before };
    for (const [field, sealed] of Object.entries(before)) {
      const value = count('email provider keys', `email provider ${field}`, reseal(apiSecretContext(name, field), sealed));
      if (value) after[field] = value;
    }
    // As above: only over the values read.
    const same = (p: EmailProvider | undefined) => p?.name === name && JSON.stringify(p.secrets_enc) === JSON.stringify(before);
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      await store.updateSetting<EmailProvider | undefined>(EMAIL_PROVIDER_SETTING, (p) => (same(p) ? { ...p!, secrets_enc: after } : p));
    }
  }

  // The tenant's phone provider (issue 14): its Auth Token, under the same "SMS provider secrets".
  const phone = await store.getSetting<StoredPhoneProvider>(PHONE_PROVIDER_SETTING);
  const token = phone?.auth_token_enc;
  const resealed = token && count('SMS provider secrets', 'phone provider auth_token', reseal(PHONE_PROVIDER_SEAL, token));
  if (resealed) {
    await store.updateSetting<StoredPhoneProvider | undefined>(PHONE_PROVIDER_SETTING, (p) => (p?.auth_token_enc === token ? { ...p, auth_token_enc: resealed } : p));
  }

  for (const stream of await store.listLogStreams()) {
    // A stream created without a signing secret (Auth0's body) delivers unsigned: nothing to reseal.
    if (stream.doc.signing_secret_enc === undefined) continue;
    const value = count('log stream secrets', `log stream ${stream.id}`, reseal(streamContext(stream.id), stream.doc.signing_secret_enc));
    if (value) await store.updateLogStream({ ...stream, doc: { ...stream.doc, signing_secret_enc: value } });
  }
  return tally;
}

const when = (ms: number | null) => (ms === null ? '' : ` (usable until ${new Date(ms).toISOString()})`);

function formatReport(keyring: Keyring, tally: Tally, stale: StaleHashes, now: number): string {
  const lines = [`Sealed under SESAME_SECRET (key id ${keyring.keyId}):`];
  for (const [what, n] of Object.entries(tally.resealed)) lines.push(`  ${what}: ${n} resealed`);
  if (tally.errors.length) {
    lines.push(`Could not open ${tally.errors.length} sealed value(s); they were left as they are:`);
    for (const e of tally.errors) lines.push(`  ${e}`);
  }
  lines.push('', 'Still hashed under a previous secret (a keyed hash cannot be redone without its value):');
  lines.push(`  client secrets: ${stale.clientSecrets}${stale.clientSecrets ? ' (each is re-hashed at its next use; or rotate it)' : ''}`);
  lines.push(`  one-time codes: ${stale.codes.count}${when(stale.codes.expiresAt)}`);
  for (const a of stale.artifacts) lines.push(`  ${a.kind}: ${a.count}${when(a.expiresAt)}`);
  const until = Math.max(now, stale.codes.expiresAt ?? 0, ...stale.artifacts.map((a) => a.expiresAt ?? 0));
  lines.push('');
  if (tally.errors.length) lines.push('Keep SESAME_SECRET_PREVIOUS: some sealed values did not open (see above).');
  else if (stale.clientSecrets) lines.push(`Keep SESAME_SECRET_PREVIOUS until the client secrets above are re-hashed${until > now ? ` and until ${new Date(until).toISOString()}` : ''}; run this again to check.`);
  else if (until > now) lines.push(`SESAME_SECRET_PREVIOUS can be dropped after ${new Date(until).toISOString()}; dropping it earlier ends what is listed above.`);
  else lines.push('Nothing depends on a previous secret any more: SESAME_SECRET_PREVIOUS can be dropped.');
  return `${lines.join('\n')}\n`;
}
