// English and French, like the hosted pages: the browser's language first, then the user's choice.
import { type ReactNode, createContext, useContext, useMemo, useState } from 'react';
import { en } from './en';
import { fr } from './fr';

export type Key = keyof typeof en;
export type Lang = 'en' | 'fr';
const DICTS: Record<Lang, Record<Key, string>> = { en, fr };
const STORE = 'sesame-admin-lang';

function initial(): Lang {
  const saved = localStorage.getItem(STORE);
  if (saved === 'en' || saved === 'fr') return saved;
  return navigator.languages.some((l) => l.toLowerCase().startsWith('fr')) && !navigator.language.toLowerCase().startsWith('en') ? 'fr' : 'en';
}

interface I18n {
  lang: Lang;
  setLang(l: Lang): void;
  /** A string with `{name}` placeholders filled in. */
  t(key: Key, vars?: Record<string, string | number>): string;
}

const Ctx = createContext<I18n | undefined>(undefined);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initial);
  const value = useMemo<I18n>(() => {
    document.documentElement.lang = lang;
    return {
      lang,
      setLang(l) {
        localStorage.setItem(STORE, l);
        setLangState(l);
      },
      t(key, vars) {
        const s = DICTS[lang][key] ?? en[key];
        return vars ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : s;
      },
    };
  }, [lang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
