// The form rows every page uses (issue 12: "every Management API error shown in human words next to
// the control that caused it"): one labelled control with its hint and its own error under it.
import { type FormEvent, type ReactElement, type ReactNode, cloneElement, useId, useState } from 'react';
import { ApiError } from '../api/client';
import { useI18n } from '../i18n';
import { ErrorText } from './ui';

type Control = ReactElement<{ id?: string; 'aria-invalid'?: boolean; 'aria-describedby'?: string }>;

/** A label, its control (given an id, `aria-invalid` and `aria-describedby`), a hint, and the field's own error. */
export function Field(props: { label: ReactNode; error?: string | undefined; hint?: ReactNode; className?: string; children: Control }) {
  const id = useId();
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={props.className ? `field ${props.className}` : 'field'}>
      <label htmlFor={id}>{props.label}</label>
      {cloneElement(props.children, { id, 'aria-invalid': props.error ? true : undefined, 'aria-describedby': described || undefined })}
      {props.hint && (
        <small id={`${id}-hint`} className="muted">
          {props.hint}
        </small>
      )}
      {props.error && (
        <p id={`${id}-error`} className="error field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}

/**
 * The field a Management API 400 is about: Sesame's messages start with the option's path
 * (`options.fraud_guards.per_number.max must be …`, `callbacks[0] is not a valid URL`, `Missing
 * required property: credentials.api_key …`); the longest of `paths` that names it. A list's index
 * and a sub-property point to the list's own control (`…credentials[0].pem` → `…credentials`).
 */
export function errorField(err: unknown, paths: string[]): string | undefined {
  if (!(err instanceof ApiError) || err.status !== 400) return undefined;
  const unindexed = (s: string) => s.replace(/\[\d+\]/g, '');
  // Schema refusals in Auth0's words end with the property: `… on property support_email.`
  const at = / on property (\S+?)\.?$/.exec(err.message)?.[1];
  if (at !== undefined) return paths.find((p) => p === unindexed(at));
  // Auth0's grant-type refusal names no path: `Invalid grant types: client_credentials`.
  if (err.message.startsWith('Invalid grant types:')) return paths.find((p) => p === 'grant_types');
  const head = unindexed(/^Missing required property: (\S+)/.exec(err.message)?.[1] ?? /^\S*/.exec(err.message)?.[0] ?? '');
  return paths.filter((p) => head === p || head === `${p}:` || head.startsWith(`${p}.`)).sort((a, b) => b.length - a.length)[0];
}

/** A save error split: the message for the field it names (one of `paths`), or the error for the whole form. */
export function splitError(error: unknown, paths: string[]): { on(path: string): string | undefined; form: unknown } {
  const field = errorField(error, paths);
  return { on: (path) => (field === path ? (error as Error).message : undefined), form: field ? undefined : error };
}

/** A set of checkboxes over ids (an application's connections, a connection's applications), with the list's own error under it. */
export function CheckList(props: { legend: ReactNode; items: { id: string; label: ReactNode }[]; checked: Set<string>; onChange(next: Set<string>): void; error?: string | undefined }) {
  const id = useId();
  return (
    <fieldset aria-invalid={props.error ? true : undefined} aria-describedby={props.error ? `${id}-error` : undefined}>
      <legend>{props.legend}</legend>
      {props.items.map((item) => (
        <label key={item.id} className="check">
          <input
            type="checkbox"
            checked={props.checked.has(item.id)}
            onChange={(e) => {
              const next = new Set(props.checked);
              if (e.target.checked) next.add(item.id);
              else next.delete(item.id);
              props.onChange(next);
            }}
          />
          {item.label}
        </label>
      ))}
      {props.error && (
        <p id={`${id}-error`} className="error field-error">
          {props.error}
        </p>
      )}
    </fieldset>
  );
}

/** A form's save state: the error next to its button, or "Saved". */
export function useSave() {
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  async function save(action: () => Promise<unknown>): Promise<boolean> {
    setError(undefined);
    setSaved(false);
    try {
      await action();
      setSaved(true);
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  }
  return { error, saved, save };
}

export function SaveRow({ error, saved, label }: { error: unknown; saved: boolean; label?: string }) {
  const { t } = useI18n();
  return (
    <>
      <ErrorText error={error} />
      {saved && <p role="status">{t('saved')}</p>}
      <div className="actions">
        <button type="submit" className="primary">
          {label ?? t('save')}
        </button>
      </div>
    </>
  );
}

/** "Add a …" under a list: a name and one more required field (log streams, APIs). */
export function AddForm(props: {
  title: string;
  second: { label: string; type?: string; placeholder?: string };
  error: unknown;
  onAdd(name: string, second: string): Promise<unknown>;
}) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void props.onAdd(name, value);
  };
  return (
    <form onSubmit={submit} className="stack">
      <h3>{props.title}</h3>
      <Field label={t('apps.name')}>
        <input required value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label={props.second.label}>
        <input required type={props.second.type ?? 'text'} value={value} onChange={(e) => setValue(e.target.value)} placeholder={props.second.placeholder} />
      </Field>
      <ErrorText error={props.error} />
      <div className="actions">
        <button type="submit" className="primary">
          {props.title}
        </button>
      </div>
    </form>
  );
}
