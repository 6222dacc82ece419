import type { FastifyInstance } from 'fastify';
import { ApiError, invalidBody } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import {
  AUTH0_LANGUAGES, AUTH0_PROMPTS, CUSTOM_TEXT_SETTING, SHOWN_SCREENS, type ScreenTexts, type StoredCustomText, isPageLanguage,
} from '../pages/custom-text.ts';
import { LOCALES } from '../pages/i18n.ts';
import { featureNotEnabled } from './absent-features.ts';
import { requireScopes } from './auth.ts';

/**
 * `/api/v2/prompts` and `/api/v2/prompts/{prompt}/custom-text/{language}` (issue 14), Auth0's shape.
 *
 * Settings: stored and returned as set. None of them changes Sesame's pages, which are always
 * identifier-first (one identifier, then a code or link) and never offer WebAuthn: Auth0's
 * `identifier_first: true` and `webauthn_platform_first_factor: false` describe them, and
 * `universal_login_experience` only picks between two Auth0 page generations.
 *
 * Custom text: any Auth0 prompt and language can be read (`{}` until set), so auth0-deploy-cli
 * exports work; a PUT replaces the prompt's texts in that language, as on Auth0. Texts are accepted
 * for the prompts and languages the hosted page shows (custom-text.ts); a non-empty PUT for another
 * prompt or language is refused (403 feature_not_enabled) rather than stored and never shown.
 */

export const PROMPTS_SETTING = 'prompts';

interface PromptSettings {
  universal_login_experience?: 'new' | 'classic';
  identifier_first?: boolean;
  webauthn_platform_first_factor?: boolean;
}

const DEFAULTS: Required<PromptSettings> = { universal_login_experience: 'new', identifier_first: true, webauthn_platform_first_factor: false };

const settingsProperties = {
  universal_login_experience: { type: 'string', enum: ['new', 'classic'] },
  identifier_first: { type: 'boolean' },
  webauthn_platform_first_factor: { type: 'boolean' },
} as const;

const settingsView = { type: 'object', properties: settingsProperties } as const;
const settingsPatch = { type: 'object', additionalProperties: false, properties: settingsProperties } as const;

/** `{ "<screen>": { "<key>": "text" } }`: bounded, strings only. */
const customTextBody = {
  type: 'object',
  maxProperties: 50,
  propertyNames: { maxLength: 100 },
  additionalProperties: { type: 'object', maxProperties: 200, propertyNames: { maxLength: 100 }, additionalProperties: { type: 'string', maxLength: 4000 } },
} as const;
const customTextView = { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'string' } } } as const;
const customTextParams = {
  type: 'object',
  required: ['prompt', 'language'],
  properties: { prompt: { type: 'string', maxLength: 100 }, language: { type: 'string', maxLength: 20 } },
} as const;

interface CustomTextParams {
  prompt: string;
  language: string;
}

/** Auth0's answer for a path parameter outside its enumeration. */
const pathError = (value: string, property: string, what: string) =>
  new ApiError(400, `Path validation error: 'Invalid value "${value.slice(0, 100)}"' on property ${property} (${what}).`, 'invalid_uri');

function checkPath({ prompt, language }: CustomTextParams): void {
  if (!(AUTH0_PROMPTS as readonly string[]).includes(prompt)) throw pathError(prompt, 'prompt', 'Name of the prompt');
  if (!(AUTH0_LANGUAGES as readonly string[]).includes(language)) throw pathError(language, 'language', 'Language to update');
}

function checkShown({ prompt, language }: CustomTextParams, body: ScreenTexts): void {
  const screens = SHOWN_SCREENS[prompt];
  if (!screens) throw featureNotEnabled(`custom text for the ${prompt} prompt: its hosted page shows the ${Object.keys(SHOWN_SCREENS).join(', ')} prompts`);
  if (!isPageLanguage(language)) throw featureNotEnabled(`custom text in ${language}: its hosted page speaks ${LOCALES.join(', ')}`);
  const unknown = Object.keys(body).find((screen) => !screens[screen]);
  if (unknown !== undefined) throw invalidBody(`Unknown screen "${unknown.slice(0, 100)}" for prompt ${prompt}: expected one of ${Object.keys(screens).join(', ')}`);
}

export function registerPrompts(api: FastifyInstance, s: Services): void {
  const loadSettings = async () => ({ ...DEFAULTS, ...(await s.store.getSetting<PromptSettings>(PROMPTS_SETTING)) });

  api.get('/prompts', { onRequest: requireScopes(s, 'read:prompts'), schema: { response: { 200: settingsView } } }, loadSettings);

  api.patch<{ Body: PromptSettings }>(
    '/prompts',
    { onRequest: requireScopes(s, 'update:prompts'), schema: { body: settingsPatch, response: { 200: settingsView } }, config: { audit: 'Update prompts settings' } },
    async (req) => ({ ...DEFAULTS, ...(await s.store.updateSetting<PromptSettings>(PROMPTS_SETTING, (current) => ({ ...current, ...req.body }))) }),
  );

  api.get<{ Params: CustomTextParams }>(
    '/prompts/:prompt/custom-text/:language',
    { onRequest: requireScopes(s, 'read:prompts'), schema: { params: customTextParams, response: { 200: customTextView } } },
    async (req) => {
      checkPath(req.params);
      const stored = await s.store.getSetting<StoredCustomText>(CUSTOM_TEXT_SETTING);
      return stored?.[req.params.prompt]?.[req.params.language] ?? {};
    },
  );

  api.put<{ Params: CustomTextParams; Body: ScreenTexts }>(
    '/prompts/:prompt/custom-text/:language',
    {
      onRequest: requireScopes(s, 'update:prompts'),
      schema: { params: customTextParams, body: customTextBody, response: { 200: customTextView } },
      config: { audit: 'Set custom text for a prompt' },
    },
    async (req) => {
      checkPath(req.params);
      const { prompt, language } = req.params;
      // Empty screens carry nothing; `{}` clears the prompt's texts in that language (deploy-cli re-applies what it exported).
      const body = Object.fromEntries(Object.entries(req.body).filter(([, keys]) => Object.keys(keys).length > 0));
      if (Object.keys(body).length > 0) checkShown(req.params, body);
      await s.store.updateSetting<StoredCustomText>(CUSTOM_TEXT_SETTING, (current) => {
        const next: StoredCustomText = { ...current, [prompt]: { ...current?.[prompt], [language]: body } };
        if (Object.keys(body).length === 0) delete next[prompt]![language];
        if (Object.keys(next[prompt]!).length === 0) delete next[prompt];
        return next;
      });
      return body;
    },
  );
}
