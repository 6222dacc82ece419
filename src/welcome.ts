import type { BootstrapReport } from './bootstrap.ts';

/** The first-start banner: ready-to-paste commands so a newcomer signs in within a minute. */
export function welcome(base: string, issuer: string, report: BootstrapReport, admins = 0): string {
  const lines = [`\nSesame is listening on ${base} (issuer ${issuer})\n`, `Admin dashboard: ${issuer}admin/`];
  // Issue 12: until someone is an administrator, nobody can sign in to the dashboard.
  if (admins === 0) {
    lines.push(
      '  No administrator yet. Restart with SESAME_ADMIN_EMAILS=you@example.com, or run',
      '  npx sesame admin add you@example.com   (with SESAME_ISSUER and SESAME_BOOTSTRAP_CLIENT_ID/SECRET set, or --domain/--client-id/--client-secret)',
    );
  }
  lines.push('');
  if (report.managementClient) {
    lines.push(
      'Management API client (shown once, keep it safe):',
      `  client_id:     ${report.managementClient.client_id}`,
      `  client_secret: ${report.managementClient.client_secret}`,
      '  token for the Management API:',
      `  curl -s ${base}/oauth/token -H 'content-type: application/json' -d '${JSON.stringify({ grant_type: 'client_credentials', ...report.managementClient, audience: `${issuer}api/v2/` })}'\n`,
    );
  }
  if (report.defaultApp) {
    const { client_id, client_secret } = report.defaultApp;
    const start = JSON.stringify({ client_id, client_secret, connection: 'email', email: 'you@example.com', send: 'code' });
    const token = JSON.stringify({
      grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp',
      client_id,
      client_secret,
      realm: 'email',
      username: 'you@example.com',
      otp: 'CODE',
      scope: 'openid email',
    });
    lines.push(
      '"Default App" (regular_web, enabled on the "email" connection; secret shown once):',
      `  client_id:     ${client_id}`,
      `  client_secret: ${client_secret}\n`,
      '1. Send yourself a code:',
      `  curl -s ${base}/passwordless/start -H 'content-type: application/json' -d '${start}'\n`,
      '2. Exchange it (replace CODE with the code from the email, or from this log in development mode):',
      `  curl -s ${base}/oauth/token -H 'content-type: application/json' -d '${token}'\n`,
    );
  }
  return `${lines.join('\n')}\n`;
}
