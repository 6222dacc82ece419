/**
 * Page translations. Each page module defines its own messages (`defineMessages`), so modules never
 * edit a shared dictionary. English is complete by construction (the type requires it); other
 * locales fall back to English key by key.
 */
export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];

type Vars = Record<string, string | number>;

export function defineMessages<K extends string>(messages: { en: Record<K, string> } & Partial<Record<Exclude<Locale, 'en'>, Partial<Record<K, string>>>>) {
  return (locale: Locale, key: K, vars: Vars = {}): string => {
    const text = messages[locale as Exclude<Locale, 'en'>]?.[key] ?? messages.en[key];
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (vars[name] !== undefined ? String(vars[name]) : m));
  };
}

/**
 * The page language: the first supported tag of `ui_locales` (OIDC Core §3.1.2.1, space-separated,
 * in order of preference), then of Accept-Language (by q-value), then the tenant's default. Only
 * the tenant's `enabled_locales` are candidates, and the first of them is its default, as on Auth0.
 */
export function negotiateLocale(uiLocales: string | undefined, acceptLanguage: string | undefined, enabled: readonly Locale[] = LOCALES): Locale {
  const pick = (tag: string) => enabled.find((l) => tag.toLowerCase() === l || tag.toLowerCase().startsWith(`${l}-`));
  for (const tag of uiLocales?.split(/\s+/) ?? []) {
    const l = tag && pick(tag);
    if (l) return l;
  }
  for (const tag of rankedLanguages(acceptLanguage)) {
    const l = pick(tag);
    if (l) return l;
  }
  return enabled[0] ?? 'en';
}

export const isLocale = (tag: unknown): tag is Locale => LOCALES.includes(tag as Locale);

/** The tenant's `enabled_locales` that Sesame's pages speak, in its order; all of them when unset. */
export function enabledLocales(setting: unknown): readonly Locale[] {
  const listed = Array.isArray(setting) ? setting.filter(isLocale) : [];
  return listed.length > 0 ? listed : LOCALES;
}

/** Accept-Language's tags, most preferred first (RFC 9110 §12.5.4: by q-value, then in order; q=0 dropped). */
export function rankedLanguages(acceptLanguage: string | undefined): string[] {
  return (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...rest] = part.trim().split(';');
      const q = rest.map((r) => r.trim()).find((r) => r.startsWith('q='));
      return { tag: tag.trim(), q: q ? Number(q.slice(2)) || 0 : 1, i };
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((x) => x.tag);
}
