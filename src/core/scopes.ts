/** Management API scopes Sesame implements (Auth0 names); the bootstrap client is granted all of them. */
export const MANAGEMENT_SCOPES = [
  'read:clients', 'create:clients', 'update:clients', 'delete:clients', 'read:client_keys',
  'read:client_grants', 'create:client_grants', 'update:client_grants', 'delete:client_grants',
  'read:resource_servers', 'create:resource_servers', 'update:resource_servers', 'delete:resource_servers',
  'read:connections', 'create:connections', 'update:connections', 'delete:connections',
  'read:tenant_settings', 'update:tenant_settings',
  'read:branding', 'update:branding',
  'read:email_templates', 'create:email_templates', 'update:email_templates',
  'read:email_provider', 'create:email_provider', 'update:email_provider', 'delete:email_provider',
  'read:logs', 'read:logs_users',
  'read:log_streams', 'create:log_streams', 'update:log_streams', 'delete:log_streams',
  'read:users', 'create:users', 'update:users', 'delete:users',
  'read:roles', 'create:roles', 'update:roles', 'delete:roles',
  'read:role_members', 'create:role_members', 'delete:role_members',
  'read:signing_keys', 'create:signing_keys', 'update:signing_keys',
  // Scopes of the Auth0 resources Sesame has no feature for (http/management/absent-features.ts), as
  // Auth0's reference names them per route: reading answers "not used", a write that changes nothing
  // succeeds (auth0-deploy-cli re-applies its export) and any other is refused, each under its own verb.
  'read:rules', 'create:rules', 'update:rules', 'delete:rules', 'read:rules_configs', 'update:rules_configs', 'delete:rules_configs',
  'read:hooks', 'create:hooks', 'update:hooks', 'delete:hooks', 'read:actions', 'create:actions', 'update:actions', 'delete:actions',
  'read:guardian_factors', 'update:guardian_factors', 'read:mfa_policies', 'update:mfa_policies',
  'read:custom_domains', 'create:custom_domains', 'update:custom_domains', 'delete:custom_domains', 'read:prompts', 'update:prompts',
  'read:organizations', 'create:organizations', 'update:organizations', 'delete:organizations',
  'read:attack_protection', 'update:attack_protection', 'read:security_metrics',
  'read:forms', 'create:forms', 'update:forms', 'delete:forms', 'read:flows', 'create:flows', 'update:flows', 'delete:flows',
  'read:flows_vault_connections', 'create:flows_vault_connections', 'update:flows_vault_connections', 'delete:flows_vault_connections',
  'read:self_service_profiles', 'create:self_service_profiles', 'update:self_service_profiles', 'delete:self_service_profiles',
  'read:network_acls', 'create:network_acls', 'update:network_acls', 'delete:network_acls',
  'read:token_exchange_profiles', 'create:token_exchange_profiles', 'update:token_exchange_profiles', 'delete:token_exchange_profiles',
  'read:user_attribute_profiles', 'create:user_attribute_profiles', 'update:user_attribute_profiles', 'delete:user_attribute_profiles',
  'read:connection_profiles', 'create:connection_profiles', 'update:connection_profiles', 'delete:connection_profiles',
  'read:event_streams', 'create:event_streams', 'update:event_streams', 'delete:event_streams', 'read:directory_provisionings',
  // The tenant's phone provider and templates (issue 14, /api/v2/branding/phone/*).
  'read:phone_providers', 'create:phone_providers', 'update:phone_providers', 'delete:phone_providers',
  'read:phone_templates', 'create:phone_templates', 'update:phone_templates', 'delete:phone_templates',
  'read:stats',
  // Sesame extensions (issue 12): the dashboard's administrators (/api/v2/sesame/admins).
  'read:admins', 'update:admins',
] as const;

/** The Management API audience: `<issuer>api/v2/` (spec §5, the SDK default). */
export const managementAudience = (issuer: string) => `${issuer}api/v2/`;
