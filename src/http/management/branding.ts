import type { FastifyInstance } from 'fastify';
import { invalidBody } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { BRANDING_SETTING, type Branding } from '../pages/layout.ts';
import { requireScopes } from './auth.ts';

/** What is stored: the hosted pages' Branding plus the font, which only custom pages can use (the hosted pages load no external assets). */
export interface BrandingSettings extends Branding {
  font?: { url: string };
}

type Nullable<T> = { [K in keyof T]?: T[K] | null };
interface BrandingPatch {
  logo_url?: string | null;
  favicon_url?: string | null;
  colors?: Nullable<NonNullable<Branding['colors']>> | null;
  font?: { url: string } | null;
}

/** Auth0's colour format: `#rgb` or `#rrggbb`. */
const COLOR = { type: ['string', 'null'], pattern: '^#(?:[0-9a-fA-F]{3}){1,2}$' } as const;
const URL_FIELD = { type: ['string', 'null'], maxLength: 2048 } as const;

const patchBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logo_url: URL_FIELD,
    favicon_url: URL_FIELD,
    colors: { type: ['object', 'null'], additionalProperties: false, properties: { primary: COLOR, page_background: COLOR } },
    font: { type: ['object', 'null'], additionalProperties: false, required: ['url'], properties: { url: { type: 'string', maxLength: 2048 } } },
  },
} as const;

const view = {
  type: 'object',
  properties: {
    logo_url: { type: 'string' },
    favicon_url: { type: 'string' },
    colors: { type: 'object', properties: { primary: { type: 'string' }, page_background: { type: 'string' } } },
    font: { type: 'object', properties: { url: { type: 'string' } } },
  },
} as const;

/**
 * `/api/v2/branding` (Auth0's shape): the logo and colours of the hosted login and error pages.
 * Stored as one setting read by every page, so a change shows on the next page view.
 */
export function registerBranding(api: FastifyInstance, s: Services): void {
  const load = async () => (await s.store.getSetting<BrandingSettings>(BRANDING_SETTING)) ?? {};

  api.get('/branding', { onRequest: requireScopes(s, 'read:branding'), schema: { response: { 200: view } } }, load);

  api.patch<{ Body: BrandingPatch }>(
    '/branding',
    { onRequest: requireScopes(s, 'update:branding'), schema: { body: patchBody, response: { 200: view } }, config: { audit: 'Update branding settings' } },
    async (req) => {
      const b = req.body;
      for (const [name, url] of [['logo_url', b.logo_url], ['favicon_url', b.favicon_url], ['font.url', b.font?.url]] as const) {
        if (typeof url === 'string') checkUrl(name, url);
      }
      // Fields replace, colours merge key by key; null removes (a field, a colour, the font).
      const next: BrandingSettings = { ...(await load()) };
      for (const key of ['logo_url', 'favicon_url'] as const) {
        if (b[key] === null) delete next[key];
        else if (b[key] !== undefined) next[key] = b[key];
      }
      if (b.colors === null) delete next.colors;
      else if (b.colors !== undefined) {
        const colors: Record<string, string> = { ...next.colors };
        for (const [k, v] of Object.entries(b.colors)) {
          if (v === null) delete colors[k];
          else if (v !== undefined) colors[k] = v;
        }
        if (Object.keys(colors).length > 0) next.colors = colors;
        else delete next.colors;
      }
      if (b.font === null) delete next.font;
      else if (b.font !== undefined) next.font = { url: b.font.url };
      await s.store.putSetting(BRANDING_SETTING, next);
      return next;
    },
  );
}

/** https only: the hosted pages' CSP loads images over https, and a page served over https must not mix content. */
function checkUrl(name: string, url: string): void {
  if (!/^https:\/\/[^\s"'<>]+$/i.test(url) || !URL.canParse(url)) throw invalidBody(`${name} must be an https URL`);
}
