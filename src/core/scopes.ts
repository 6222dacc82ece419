/** Management API scopes Sesame implements (Auth0 names); the bootstrap client is granted all of them. */
export const MANAGEMENT_SCOPES = [
  'read:clients', 'create:clients', 'update:clients', 'delete:clients', 'read:client_keys',
  'read:client_grants', 'create:client_grants', 'update:client_grants', 'delete:client_grants',
  'read:resource_servers', 'create:resource_servers', 'update:resource_servers', 'delete:resource_servers',
  'read:connections', 'create:connections', 'update:connections', 'delete:connections',
  'read:tenant_settings', 'update:tenant_settings',
  'read:branding', 'update:branding',
  'read:email_provider', 'create:email_provider', 'update:email_provider', 'delete:email_provider',
  'read:logs', 'read:logs_users',
  'read:log_streams', 'create:log_streams', 'update:log_streams', 'delete:log_streams',
  'read:users', 'create:users', 'update:users', 'delete:users',
  'read:roles', 'create:roles', 'update:roles', 'delete:roles',
  'read:role_members', 'create:role_members', 'delete:role_members',
  'read:signing_keys', 'create:signing_keys', 'update:signing_keys',
  // Read scopes of the Auth0 resources Sesame has no feature for (http/management/absent-features.ts):
  // reading them answers "not used", and tools such as auth0-deploy-cli read every type.
  'read:rules', 'read:rules_configs', 'read:hooks', 'read:actions', 'read:guardian_factors',
  'read:custom_domains', 'read:prompts', 'read:organizations', 'read:attack_protection', 'update:attack_protection', 'read:security_metrics',
  'read:forms', 'read:self_service_profiles', 'read:network_acls', 'read:token_exchange_profiles', 'read:user_attribute_profiles',
  'read:connection_profiles', 'read:event_streams', 'read:directory_provisionings',
  // The tenant's phone provider and templates (issue 14, /api/v2/branding/phone/*).
  'read:phone_providers', 'create:phone_providers', 'update:phone_providers', 'delete:phone_providers',
  'read:phone_templates', 'create:phone_templates', 'update:phone_templates', 'delete:phone_templates',
  'read:stats',
  // Sesame extensions (issue 12): the dashboard's administrators (/api/v2/sesame/admins).
  'read:admins', 'update:admins',
] as const;

/** The Management API audience: `<issuer>api/v2/` (spec §5, the SDK default). */
export const managementAudience = (issuer: string) => `${issuer}api/v2/`;
