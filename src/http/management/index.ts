import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { makeLog } from '../../core/logs.ts';
import type { Services } from '../../services.ts';
import { requestContext } from '../request-context.ts';
import { managementToken } from './auth.ts';
import { registerAbsentFeatures } from './absent-features.ts';
import { registerAttackProtection } from './attack-protection.ts';
import { registerBranding } from './branding.ts';
import { registerClientGrants } from './client-grants.ts';
import { registerClients } from './clients.ts';
import { registerConnections } from './connections.ts';
import { registerEmailProvider } from './email-provider.ts';
import { registerEmailTemplates } from './email-templates.ts';
import { registerLogs } from './logs.ts';
import { registerLogStreams } from './log-streams.ts';
import { registerPhoneProviders } from './phone-providers.ts';
import { registerPhoneTemplates } from './phone-templates.ts';
import { registerPrompts } from './prompts.ts';
import { registerResourceServers } from './resource-servers.ts';
import { registerSesameActivity } from './sesame-activity.ts';
import { registerSesameAdmins } from './sesame-admins.ts';
import { registerRoles } from './roles.ts';
import { registerSesameDevOutbox } from './sesame-dev-outbox.ts';
import { registerSesameEmail } from './sesame-email.ts';
import { registerSesameMigration } from './sesame-migration.ts';
import { registerSesameSms } from './sesame-sms.ts';
import { registerStats } from './stats.ts';
import { registerSigningKeys } from './signing-keys.ts';
import { registerTenantSettings } from './tenant-settings.ts';
import { registerUsers } from './users.ts';
import { registerUserBlocks } from './user-blocks.ts';
import { registerUserRoles } from './user-roles.ts';
import { registerUserLogs } from './user-logs.ts';
import { compileValidator, formatSchemaErrors } from './validation.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Description of the `sapi` log a successful write leaves (Auth0: "Success API Operation"). */
    audit?: string;
  }
}

/**
 * The Management API surface, `/api/v2/*` (spec §5), in its own Fastify context so its strict
 * validator and Auth0-worded validation errors apply here only. Errors still go through the
 * application's one error handler (Auth0's `{statusCode, error, message, errorCode}` envelope).
 */
export function registerManagementRoutes(app: FastifyInstance, s: Services): void {
  void app.register(
    async (api) => {
      api.setValidatorCompiler(compileValidator);
      api.setSchemaErrorFormatter(formatSchemaErrors);
      // onSend, not onResponse: the audit log is written before the caller hears of the change,
      // so a GET /logs that follows the write finds it (an onResponse write raced such reads).
      api.addHook('onSend', async (req, reply, payload) => {
        await auditWrite(s, req, reply);
        return payload;
      });
      registerClients(api, s);
      registerClientGrants(api, s);
      registerResourceServers(api, s);
      registerConnections(api, s);
      registerTenantSettings(api, s);
      registerBranding(api, s);
      registerEmailProvider(api, s);
      registerEmailTemplates(api, s);
      registerLogs(api, s);
      registerLogStreams(api, s);
      registerUsers(api, s);
      registerUserBlocks(api, s);
      registerRoles(api, s);
      registerUserRoles(api, s);
      registerUserLogs(api, s);
      registerSigningKeys(api, s);
      registerAttackProtection(api, s);
      registerPrompts(api, s);
      registerPhoneProviders(api, s);
      registerPhoneTemplates(api, s);
      registerAbsentFeatures(api, s);
      registerSesameAdmins(api, s);
      registerStats(api, s);
      registerSesameActivity(api, s);
      registerSesameDevOutbox(api, s);
      registerSesameMigration(api, s);
      registerSesameEmail(api, s);
      registerSesameSms(api, s);
    },
    { prefix: '/api/v2' },
  );
}

/**
 * Spec §6 `sapi`: every successful write leaves an audit log naming the operation and the calling
 * client. Never the body: it may hold a secret or an SMTP password. A failure to write the log is
 * reported, not turned into a failed response (the change already happened).
 */
async function auditWrite(s: Services, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const audit = req.routeOptions.config.audit;
  if (!audit || reply.statusCode >= 300) return;
  const token = managementToken(req);
  const clientId = typeof token?.azp === 'string' ? token.azp : undefined;
  const log = makeLog(
    'sapi',
    requestContext(req),
    {
      description: audit,
      ...(clientId ? { client_id: clientId } : {}),
      // An administrator's dashboard token (issue 12): the log names who did it.
      ...(token?.gty !== 'client-credentials' && typeof token?.sub === 'string' ? { user_id: token.sub } : {}),
      details: { request: { method: req.method, path: req.url.split('?')[0] }, response: { statusCode: reply.statusCode } },
    },
    s.now(),
  );
  await s.store.appendLogs([log]).catch((err: unknown) => s.log.error({ err }, 'could not write the sapi log'));
}
