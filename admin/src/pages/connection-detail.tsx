import { type FormEvent, useState } from 'react';
import { useParams } from 'react-router';
import { type Client, type Connection, type TenantSettings, mgmt, ok } from '../api/client';
import { CheckList, Field, SaveRow, errorField, useSave } from '../components/form';
import { Show, Toggle, useLoad } from '../components/ui';
import { useI18n } from '../i18n';
import { EmailFields } from './connection-email';
import { SmsFields, smsDraft, smsOptions } from './connection-sms';
import { type FieldErrors, FraudGuards, type Guards, guardsDraft, guardsValue } from './fraud-guards';

type Options = Record<string, unknown> & {
  totp?: { length?: number; time_step?: number };
  authentication_method?: string;
  disable_signup?: boolean;
  brute_force_protection?: boolean;
  email?: { from?: string; subject?: string; body?: string; syntax?: string };
  fraud_guards?: Partial<Guards>;
};

/** Every option a 400 can name (its message starts with the path), so its error goes under that field. */
const PATHS = [
  'options.totp.length', 'options.totp.time_step', 'options.email.from', 'options.email.subject', 'options.email.body', 'options.provider', 'options.from',
  'options.twilio_sid', 'options.messaging_service_sid', 'options.twilio_token', 'options.gateway_url', 'options.gateway_authentication.subject',
  'options.gateway_authentication.audience', 'options.gateway_authentication.secret', 'options.template', 'options.syntax', 'options.fraud_guards.allowed_countries',
  ...['per_number', 'per_prefix', 'per_ip_range', 'per_client'].flatMap((g) => ['max', 'window_seconds', 'prefix_length'].map((f) => `options.fraud_guards.${g}.${f}`)),
];

export function ConnectionDetail() {
  const { id = '' } = useParams();
  const conn = useLoad(() => ok(mgmt.GET('/api/v2/connections/{id}', { params: { path: { id } } })), [id]);
  const clients = useLoad(() => ok(mgmt.GET('/api/v2/clients', { params: { query: { per_page: 100 } } })), []);
  const tenant = useLoad(() => ok(mgmt.GET('/api/v2/tenants/settings', {})), []);
  return (
    <section>
      <Show state={conn}>
        {(c) => (
          <Show state={clients}>
            {(cl) => <Show state={tenant}>{(ts) => <ConnForm key={c.id} conn={c} clients={cl as Client[]} tenant={ts} reload={conn.reload} />}</Show>}
          </Show>
        )}
      </Show>
    </section>
  );
}

function ConnForm({ conn, clients, tenant, reload }: { conn: Connection; clients: Client[]; tenant: TenantSettings; reload(): void }) {
  const { t } = useI18n();
  const id = conn.id ?? '';
  const sms = conn.strategy === 'sms';
  const opts = (conn.options ?? {}) as Options;
  const [length, setLength] = useState(String(opts.totp?.length ?? 6));
  const [lifetime, setLifetime] = useState(String(opts.totp?.time_step ?? 300));
  const [method, setMethod] = useState(opts.authentication_method ?? 'code');
  const [noSignup, setNoSignup] = useState(opts.disable_signup === true);
  const [bfp, setBfp] = useState(opts.brute_force_protection !== false);
  const [enabled, setEnabled] = useState(new Set(conn.enabled_clients ?? []));
  const [email, setEmail] = useState({ from: opts.email?.from ?? '', subject: opts.email?.subject ?? '', body: opts.email?.body ?? '' });
  const [smsFields, setSmsFields] = useState(() => smsDraft(opts));
  const [guards, setGuards] = useState(() => guardsDraft(opts.fraud_guards));
  const [budget, setBudget] = useState(String(tenant.sms_daily_budget ?? ''));
  const [errors, setErrors] = useState<FieldErrors>({});
  const { error, saved, save } = useSave();

  /** The options to send, or the errors of the fields that cannot be (checked here with the server's bounds). */
  function build(): { options?: Options; budget?: number; errors: FieldErrors } {
    const errs: FieldErrors = {};
    const len = /^\d+$/.test(length) ? Number(length) : NaN;
    const ttl = /^\d+$/.test(lifetime) ? Number(lifetime) : NaN;
    // The bounds of src/core/otp.ts validateTotp.
    if (!(len >= 6 && len <= 10)) errs['options.totp.length'] = t('v.int', { min: 6, max: 10 });
    if (!(ttl >= 1 && ttl <= 600)) errs['options.totp.time_step'] = t('v.int', { min: 1, max: 600 });
    const options: Options = { ...opts, totp: { ...opts.totp, length: len, time_step: ttl }, disable_signup: noSignup, brute_force_protection: bfp };
    let daily: number | undefined;
    if (sms) {
      Object.assign(options, smsOptions(opts, smsFields));
      const g = guardsValue(guards, t);
      Object.assign(errs, g.errors);
      options.fraud_guards = g.value;
      daily = /^\d+$/.test(budget.trim()) && Number(budget) <= 1_000_000_000 ? Number(budget) : undefined;
      if (daily === undefined) errs.sms_daily_budget = t('v.int', { min: 0, max: 1_000_000_000 });
    } else {
      options.authentication_method = method;
      options.email = { ...opts.email, from: email.from || undefined, subject: email.subject || undefined, body: email.body || undefined };
    }
    return Object.keys(errs).length ? { errors: errs } : { options, budget: daily, errors: errs };
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const built = build();
    setErrors(built.errors);
    if (!built.options) return;
    await save(async () => {
      try {
        await ok(mgmt.PATCH('/api/v2/connections/{id}', { params: { path: { id } }, body: { options: built.options, enabled_clients: [...enabled] } }));
        if (built.budget !== undefined && built.budget !== tenant.sms_daily_budget) {
          await ok(mgmt.PATCH('/api/v2/tenants/settings', { body: { sms_daily_budget: built.budget } })).catch((err: unknown) => {
            throw Object.assign(err as object, { field: 'sms_daily_budget' });
          });
        }
      } catch (err) {
        // A refusal that names an option goes under that option's field; anything else under the button.
        const field = (err as { field?: string }).field ?? errorField(err, PATHS);
        if (field) setErrors({ [field]: (err as Error).message });
        throw err;
      }
      reload();
    });
  }

  return (
    <>
      <h1>
        {conn.name} <span className="badge">{conn.strategy}</span>
      </h1>
      <form onSubmit={submit} className="stack" noValidate>
        <fieldset>
          <legend>{t('conns.code')}</legend>
          <Field label={t('conns.length')} error={errors['options.totp.length']}>
            <input inputMode="numeric" value={length} onChange={(e) => setLength(e.target.value)} data-testid="code-length" />
          </Field>
          <Field label={t('conns.lifetime')} error={errors['options.totp.time_step']}>
            <input inputMode="numeric" value={lifetime} onChange={(e) => setLifetime(e.target.value)} />
          </Field>
          {!sms && (
            <Field label={t('conns.method')}>
              <select value={method} onChange={(e) => setMethod(e.target.value)}>
                <option value="code">{t('conns.method.code')}</option>
                <option value="link">{t('conns.method.link')}</option>
                <option value="both">{t('conns.method.both')}</option>
              </select>
            </Field>
          )}
          <Toggle id="no-signup" label={t('conns.disableSignup')} checked={noSignup} onChange={setNoSignup} />
          <Toggle id="bfp" label={t('conns.bruteForce')} checked={bfp} onChange={setBfp} />
        </fieldset>
        <CheckList legend={t('conns.enabledApps')} items={clients.map((c) => ({ id: c.client_id ?? '', label: c.name }))} checked={enabled} onChange={setEnabled} />
        {sms ? (
          <>
            <SmsFields conn={conn.name ?? ''} draft={smsFields} onChange={setSmsFields} errors={errors} />
            <FraudGuards draft={guards} onChange={setGuards} errors={errors} />
            <Field label={t('settings.smsBudget')} hint={t('conns.budgetHelp')} error={errors.sms_daily_budget}>
              <input inputMode="numeric" value={budget} onChange={(e) => setBudget(e.target.value)} data-testid="sms-budget" />
            </Field>
          </>
        ) : (
          <EmailFields conn={conn.name ?? ''} draft={email} onChange={setEmail} errors={errors} />
        )}
        <SaveRow error={Object.keys(errors).length ? t('v.fix') : error} saved={saved} />
      </form>
    </>
  );
}
