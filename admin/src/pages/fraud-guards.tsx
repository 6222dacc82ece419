// The SMS toll-fraud guards of a connection (src/core/fraud-guards.ts, issue 5 §4) as a form: typed
// fields checked here with the server's own bounds, each error under its field.
import { Field } from '../components/form';
import { type Key, useI18n } from '../i18n';

export const WINDOW_GUARDS = ['per_number', 'per_prefix', 'per_ip_range', 'per_client'] as const;
type GuardName = (typeof WINDOW_GUARDS)[number];
type Window = { max: number; window_seconds: number; prefix_length?: number } | null;
export type Guards = { allowed_countries: string[] | null } & Record<GuardName, Window>;

/** What the inputs hold: text, so a half-typed number stays as typed. */
export interface GuardsDraft {
  countries: string;
  windows: Record<GuardName, { on: boolean; max: string; window: string; prefix: string }>;
}
/** Field errors keyed by the option's path, as the server names them (`options.fraud_guards.per_number.max`). */
export type FieldErrors = Record<string, string>;

const PATH = 'options.fraud_guards';
const MAX_WINDOW_SECONDS = 7 * 86_400;
const COUNTRY = /^[A-Z]{2}$/;
const DEFAULTS: Record<GuardName, { max: number; window_seconds: number; prefix_length?: number }> = {
  per_number: { max: 5, window_seconds: 3600 },
  per_prefix: { max: 20, window_seconds: 3600, prefix_length: 8 },
  per_ip_range: { max: 30, window_seconds: 3600 },
  per_client: { max: 1000, window_seconds: 86400 },
};
const LABELS: Record<GuardName, Key> = {
  per_number: 'guards.per_number',
  per_prefix: 'guards.per_prefix',
  per_ip_range: 'guards.per_ip_range',
  per_client: 'guards.per_client',
};

/** The connection's guards (GET answers them complete: the defaults under the connection's own) as a draft. */
export function guardsDraft(given: Partial<Guards> | undefined): GuardsDraft {
  const windows = {} as GuardsDraft['windows'];
  for (const name of WINDOW_GUARDS) {
    const g = given?.[name] === undefined ? DEFAULTS[name] : given[name];
    const d = g ?? DEFAULTS[name];
    windows[name] = { on: g !== null, max: String(d.max), window: String(d.window_seconds), prefix: String(d.prefix_length ?? 8) };
  }
  return { countries: (given?.allowed_countries ?? []).join(', '), windows };
}

const int = (s: string, min: number, max: number) => (/^\d+$/.test(s.trim()) && Number(s) >= min && Number(s) <= max ? Number(s) : undefined);

/** The draft as `options.fraud_guards`, or the errors of the fields that cannot be sent. */
export function guardsValue(d: GuardsDraft, t: (k: Key, v?: Record<string, string | number>) => string): { value?: Guards; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const countries = d.countries.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase());
  if (countries.some((c) => !COUNTRY.test(c))) errors[`${PATH}.allowed_countries`] = t('guards.countriesError');
  const value = { allowed_countries: countries.length ? countries : null } as Guards;
  for (const name of WINDOW_GUARDS) {
    const w = d.windows[name];
    if (!w.on) {
      value[name] = null;
      continue;
    }
    const max = int(w.max, 1, 1_000_000_000);
    const seconds = int(w.window, 1, MAX_WINDOW_SECONDS);
    const prefix = int(w.prefix, 1, 15);
    if (max === undefined) errors[`${PATH}.${name}.max`] = t('v.int', { min: 1, max: 1_000_000_000 });
    if (seconds === undefined) errors[`${PATH}.${name}.window_seconds`] = t('v.int', { min: 1, max: MAX_WINDOW_SECONDS });
    if (name === 'per_prefix' && prefix === undefined) errors[`${PATH}.${name}.prefix_length`] = t('v.int', { min: 1, max: 15 });
    value[name] = { max: max ?? 0, window_seconds: seconds ?? 0, ...(name === 'per_prefix' ? { prefix_length: prefix ?? 0 } : {}) };
  }
  return Object.keys(errors).length ? { errors } : { value, errors };
}

export function FraudGuards({ draft, onChange, errors }: { draft: GuardsDraft; onChange(d: GuardsDraft): void; errors: FieldErrors }) {
  const { t } = useI18n();
  const setWindow = (name: GuardName, patch: Partial<GuardsDraft['windows'][GuardName]>) =>
    onChange({ ...draft, windows: { ...draft.windows, [name]: { ...draft.windows[name], ...patch } } });
  return (
    <fieldset data-testid="fraud-guards">
      <legend>{t('conns.fraudGuards')}</legend>
      <Field label={t('guards.countries')} hint={t('guards.countriesHelp')} error={errors[`${PATH}.allowed_countries`]}>
        <input value={draft.countries} onChange={(e) => onChange({ ...draft, countries: e.target.value })} placeholder="FR, US" autoComplete="off" />
      </Field>
      {WINDOW_GUARDS.map((name) => {
        const w = draft.windows[name];
        return (
          <fieldset key={name} className="guard">
            <legend>
              <label className="check">
                <input type="checkbox" checked={w.on} onChange={(e) => setWindow(name, { on: e.target.checked })} />
                {t(LABELS[name])}
              </label>
            </legend>
            {w.on && (
              <div className="row start">
                <Field label={t('guards.max')} error={errors[`${PATH}.${name}.max`]}>
                  <input inputMode="numeric" value={w.max} onChange={(e) => setWindow(name, { max: e.target.value })} data-testid={`${name}-max`} />
                </Field>
                <Field label={t('guards.window')} error={errors[`${PATH}.${name}.window_seconds`]}>
                  <input inputMode="numeric" value={w.window} onChange={(e) => setWindow(name, { window: e.target.value })} data-testid={`${name}-window`} />
                </Field>
                {name === 'per_prefix' && (
                  <Field label={t('guards.prefix')} error={errors[`${PATH}.${name}.prefix_length`]}>
                    <input inputMode="numeric" value={w.prefix} onChange={(e) => setWindow(name, { prefix: e.target.value })} />
                  </Field>
                )}
              </div>
            )}
          </fieldset>
        );
      })}
    </fieldset>
  );
}
