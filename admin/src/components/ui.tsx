// Small shared pieces: loading and error states, a labelled switch, a confirmation dialog.
import * as Dialog from '@radix-ui/react-dialog';
import * as Switch from '@radix-ui/react-switch';
import { type DependencyList, type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { type Key, useI18n } from '../i18n';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs `load` on mount and whenever `deps` change; the latest answer wins. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names the dependencies
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** A Management API error in words a person can act on, next to the control that caused it. */
export function useHuman(): (err: unknown) => string {
  const { t } = useI18n();
  return (err) => {
    if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
    const detail = err.message ? ` (${err.message})` : '';
    const byStatus: Record<number, Key> = { 0: 'err.network', 401: 'err.401', 403: 'err.403', 404: 'err.404', 429: 'err.429' };
    const key = byStatus[err.status];
    if (key) return t(key) + detail;
    if (err.status >= 500) return t('err.500') + detail;
    return err.message || t('err.other');
  };
}

export function ErrorText({ error }: { error: unknown }) {
  const human = useHuman();
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {human(error)}
    </p>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status" aria-live="polite">
      {t('loading')}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A list of cards, or the empty state. */
export function Cards<T>({ items, empty, keyOf, children }: { items: T[]; empty: string; keyOf(item: T): string; children(item: T): ReactNode }) {
  if (items.length === 0) return <Empty>{empty}</Empty>;
  return (
    <ul className="plain">
      {items.map((item) => (
        <li key={keyOf(item)} className="card">
          {children(item)}
        </li>
      ))}
    </ul>
  );
}

/** Renders loading, error or the data. */
export function Show<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ReactNode }) {
  if (state.error) return <ErrorText error={state.error} />;
  if (state.data === undefined) return <Loading />;
  return <>{children(state.data)}</>;
}

export function Toggle(props: { id: string; label: ReactNode; checked: boolean; onChange(v: boolean): void; disabled?: boolean; testid?: string }) {
  return (
    <div className="toggle">
      <Switch.Root
        id={props.id}
        className="switch"
        checked={props.checked}
        disabled={props.disabled}
        onCheckedChange={props.onChange}
        data-testid={props.testid}
      >
        <Switch.Thumb className="switch-thumb" />
      </Switch.Root>
      <label htmlFor={props.id}>{props.label}</label>
    </div>
  );
}

/** A modal confirmation (focus trapped, Escape cancels) with stable test hooks. */
export function Confirm(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  accept: string;
  danger?: boolean;
  onAccept(): void;
  onCancel(): void;
}) {
  const { t } = useI18n();
  return (
    <Dialog.Root open={props.open} onOpenChange={(o) => !o && props.onCancel()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog" data-testid="confirm-dialog">
          <Dialog.Title>{props.title}</Dialog.Title>
          <Dialog.Description asChild>
            <div>{props.children}</div>
          </Dialog.Description>
          <div className="actions">
            <button type="button" onClick={props.onCancel}>
              {t('cancel')}
            </button>
            <button type="button" className={props.danger ? 'danger' : 'primary'} data-testid="confirm-accept" onClick={props.onAccept}>
              {props.accept}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/** A plain modal for forms (create an application, show a new secret). */
export function Modal(props: { open: boolean; title: string; children: ReactNode; onClose(): void }) {
  return (
    <Dialog.Root open={props.open} onOpenChange={(o) => !o && props.onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog" aria-describedby={undefined}>
          <Dialog.Title>{props.title}</Dialog.Title>
          {props.children}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export function fmtDate(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Lines of a textarea ⇄ a list of URLs. */
export const lines = (s: string) =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);
