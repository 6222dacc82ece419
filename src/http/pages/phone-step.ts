import { callingCode, isPhoneCountry, phoneCountries } from '../../core/phone.ts';
import { escapeHtml } from './html.ts';
import { type Locale, defineMessages, rankedLanguages } from './i18n.ts';

/**
 * The country half of the hosted page's phone step (issue 11): a number is typed as people dial it
 * at home ("06 12 34 56 78") beside a country chosen from a list, or in international form with +.
 * Without JavaScript the list is a plain <select> (type-ahead by the first letters) and the server
 * does all the parsing (src/core/phone.ts); the script adds a filter box over the list and a live
 * preview of the number in international form, asked of GET /login/phone/preview so that the page
 * and the server never disagree on a number.
 */
const t = defineMessages({
  en: {
    country_label: 'Country',
    country_none: 'Choose a country',
    country_search: 'Search countries',
    preview: 'We will send the code to {phone}.',
  },
  fr: {
    country_label: 'Pays',
    country_none: 'Choisissez un pays',
    country_search: 'Rechercher un pays',
    preview: 'Nous enverrons le code au {phone}.',
  },
});

const e = escapeHtml;

/** What the list offers: the connection's `allowed_countries` (others would be refused), or every region with a calling code. */
export function listedCountries(allowed: readonly string[] | null): string[] {
  return allowed === null ? [...phoneCountries()] : allowed.filter(isPhoneCountry);
}

/**
 * The country chosen before the person chooses one: the only one the connection allows, else the
 * tenant's `default_phone_country`, else the region of the browser's most preferred language that
 * names or implies one (Accept-Language; a bare `fr` counts as France by CLDR likely subtags,
 * UTS #35 §4.3), else none: the number must then start with +.
 */
export function defaultCountry(listed: readonly string[], tenantDefault: unknown, acceptLanguage: string | undefined): string | undefined {
  if (listed.length === 1) return listed[0];
  if (typeof tenantDefault === 'string' && listed.includes(tenantDefault)) return tenantDefault;
  for (const tag of rankedLanguages(acceptLanguage)) {
    let region: string | undefined;
    try {
      region = new Intl.Locale(tag).maximize().region;
    } catch {
      continue; // `*` or a malformed tag
    }
    if (region && listed.includes(region)) return region;
  }
  return undefined;
}

/** Every country's option, sorted by its name in the page's language; built once per language. */
const optionsByLang = new Map<Locale, { code: string; label: string }[]>();
function countryOptions(lang: Locale): { code: string; label: string }[] {
  let options = optionsByLang.get(lang);
  if (!options) {
    const names = new Intl.DisplayNames([lang], { type: 'region', fallback: 'code' });
    const collator = new Intl.Collator(lang);
    options = phoneCountries()
      .map((code) => ({ code, name: names.of(code) ?? code }))
      .sort((a, b) => collator.compare(a.name, b.name))
      .map(({ code, name }) => ({ code, label: `${name} (+${callingCode(code)})` }));
    optionsByLang.set(lang, options);
  }
  return options;
}

/** The country field: its label, the filter box the script reveals, and the list itself. */
export function countryField(lang: Locale, listed: readonly string[], selected: string | undefined): string {
  const offered = new Set(listed);
  const options = countryOptions(lang)
    .filter((o) => offered.has(o.code))
    .map((o) => `<option value="${o.code}"${o.code === selected ? ' selected' : ''}>${e(o.label)}</option>`)
    .join('');
  const none = listed.length === 1 ? '' : `<option value=""${selected ? '' : ' selected'}>${e(t(lang, 'country_none'))}</option>`;
  const filter = listed.length > 1
    ? `<input type="search" id="country-filter" data-testid="country-filter" aria-label="${e(t(lang, 'country_search'))}" placeholder="${e(t(lang, 'country_search'))}" aria-controls="country" autocomplete="off" spellcheck="false" maxlength="64" hidden>\n`
    : '';
  return `<label for="country">${e(t(lang, 'country_label'))}</label>
${filter}<select id="country" name="country" autocomplete="country" data-testid="country">${none}${options}</select>`;
}

/** Where the script shows the number in international form; a live region, empty until there is a number. */
export const previewRegion = (lang: Locale, url: string): string =>
  `<div id="phone-preview" role="status" aria-live="polite" data-testid="phone-preview" data-url="${e(url)}" data-text="${e(t(lang, 'preview', { phone: '{phone}' }))}"></div>`;

/**
 * Filter box and live preview. The filter keeps the options whose label holds what is typed
 * (accents and case ignored, so "etats" finds "États-Unis" and "+44" the calling code), keeps the
 * chosen country when it still matches or else chooses the first match; Enter moves to the list
 * instead of submitting the form. The preview asks the server 150 ms after the last keystroke and
 * shows only the latest answer. Texts come from data attributes: no value is ever put into code.
 */
export const PHONE_STEP_SCRIPT = `(function(){
var sel=document.getElementById('country'),box=document.getElementById('country-filter'),tel=document.getElementById('phone_number'),out=document.getElementById('phone-preview');
if(!sel||!tel||!out)return;
function norm(s){return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g,'').toLowerCase();}
var all=[].slice.call(sel.options),seq=0,timer=null;
function show(p){out.textContent='';if(!p)return;var el=document.createElement('p');el.className='preview';el.textContent=out.getAttribute('data-text').replace('{phone}',p);out.appendChild(el);}
function update(){clearTimeout(timer);timer=setTimeout(function(){
var n=++seq,v=tel.value.trim();if(!v||!window.fetch){show('');return;}
var q=new URLSearchParams({country:sel.value,phone_number:v});
fetch(out.getAttribute('data-url')+'&'+q.toString(),{credentials:'same-origin',cache:'no-store'}).then(function(r){return r.ok?r.json():{};}).then(function(j){if(n===seq)show(j.international||'');},function(){});
},150);}
if(box){box.hidden=false;
box.addEventListener('input',function(){var q=norm(box.value.trim()),keep=sel.value,found=null;sel.textContent='';
all.forEach(function(o){if(q?(o.value&&norm(o.text).indexOf(q)>=0):true){sel.appendChild(o);if(o.value===keep)found=o;}});
var pick=found||sel.options[0];if(pick)pick.selected=true;if(pick&&pick.value!==keep)update();});
box.addEventListener('keydown',function(ev){if(ev.key==='Enter'){ev.preventDefault();sel.focus();}});}
tel.addEventListener('input',update);sel.addEventListener('change',update);update();
})();`;
