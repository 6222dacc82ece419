import { type FormEvent, useState } from 'react';
import { type TenantSettings, mgmt, ok, sesame } from '../api/client';
import { EnforceSwitch } from '../components/enforce-switch';
import { Field, SaveRow, splitError, useSave } from '../components/form';
import { Show, Toggle, useLoad } from '../components/ui';
import { useI18n } from '../i18n';

const loadSettings = () => ok(mgmt.GET('/api/v2/tenants/settings', {}));

export function Tenant() {
  const settings = useLoad(loadSettings, []);
  return <Show state={settings}>{(s) => <TenantForm s={s} />}</Show>;
}

function TenantForm({ s }: { s: TenantSettings }) {
  const { t } = useI18n();
  const [name, setName] = useState(s.friendly_name ?? '');
  const [support, setSupport] = useState(s.support_email ?? '');
  const { error, saved, save } = useSave();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(() => ok(mgmt.PATCH('/api/v2/tenants/settings', { body: { friendly_name: name, support_email: support } })));
  };
  const errs = splitError(error, ['friendly_name', 'support_email']);
  return (
    <form onSubmit={submit} className="stack">
      <Field label={t('settings.friendlyName')} error={errs.on('friendly_name')}>
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label={t('settings.supportEmail')} error={errs.on('support_email')}>
        <input type="email" value={support} onChange={(e) => setSupport(e.target.value)} />
      </Field>
      <SaveRow error={errs.form} saved={saved} />
    </form>
  );
}

export function Branding() {
  const { t } = useI18n();
  const branding = useLoad(() => ok(mgmt.GET('/api/v2/branding', {})), []);
  return (
    <Show state={branding}>
      {(b) => <BrandingForm logo={b.logo_url ?? ''} color={b.colors?.primary ?? '#0059d6'} label={t('settings.preview')} />}
    </Show>
  );
}

function BrandingForm(props: { logo: string; color: string; label: string }) {
  const { t } = useI18n();
  const [logo, setLogo] = useState(props.logo);
  const [color, setColor] = useState(props.color);
  const { error, saved, save } = useSave();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(() => ok(mgmt.PATCH('/api/v2/branding', { body: { logo_url: logo || null, colors: { primary: color } } })));
  };
  const errs = splitError(error, ['logo_url', 'colors.primary']);
  return (
    <div className="split">
      <form onSubmit={submit} className="stack">
        <Field label={t('settings.logo')} error={errs.on('logo_url')}>
          <input type="url" value={logo} onChange={(e) => setLogo(e.target.value)} placeholder="https://…" />
        </Field>
        <Field label={t('settings.primary')} error={errs.on('colors.primary')}>
          <input type="color" value={color} onChange={(e) => setColor(e.target.value)} />
        </Field>
        <SaveRow error={errs.form} saved={saved} />
      </form>
      {/* A sketch of the hosted login page with these choices; the real page reads them from /api/v2/branding. */}
      <figure className="login-preview" aria-label={props.label}>
        {logo && <img src={logo} alt="" />}
        <p>
          <strong>{t('settings.previewTitle')}</strong>
        </p>
        <span className="fake-input">you@example.com</span>
        <span className="fake-button" ref={(el) => el?.style.setProperty('background', color)}>
          {t('settings.previewButton')}
        </span>
        <figcaption className="muted">{props.label}</figcaption>
      </figure>
    </div>
  );
}

export function Advanced() {
  const migration = useLoad(() => sesame.migration(30), []);
  const settings = useLoad(loadSettings, []);
  const { t } = useI18n();
  return (
    <>
      <h3>{t('enforce.label')}</h3>
      <EnforceSwitch callers={migration.data?.applications} onChange={migration.reload} />
      <Show state={settings}>{(s) => <AdvancedForm s={s} />}</Show>
    </>
  );
}

function AdvancedForm({ s }: { s: TenantSettings }) {
  const { t } = useI18n();
  const [noSession, setNoSession] = useState(s.universal_login?.passwordless?.allow_magiclink_verify_without_session === true);
  const [budget, setBudget] = useState(String(s.sms_daily_budget ?? ''));
  const { error, saved, save } = useSave();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(() =>
      ok(
        mgmt.PATCH('/api/v2/tenants/settings', {
          body: {
            universal_login: { passwordless: { allow_magiclink_verify_without_session: noSession } },
            ...(budget.trim() ? { sms_daily_budget: Number(budget) } : {}),
          },
        }),
      ),
    );
  };
  const errs = splitError(error, ['sms_daily_budget']);
  return (
    <form onSubmit={submit} className="stack">
      <Toggle id="magiclink" label={<code>allow_magiclink_verify_without_session</code>} checked={noSession} onChange={setNoSession} />
      <p className="muted">{t('settings.magiclinkHelp')}</p>
      <Field label={t('settings.smsBudget')} error={errs.on('sms_daily_budget')}>
        <input type="number" min={0} value={budget} onChange={(e) => setBudget(e.target.value)} />
      </Field>
      <SaveRow error={errs.form} saved={saved} />
    </form>
  );
}
