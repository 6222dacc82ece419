import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { SETTINGS } from './config/schema.ts';
import { installSignalHandlers, listen } from './server.ts';
import { welcome } from './welcome.ts';

const HELP = `Usage: sesame <command>

Commands:
  start        Serve Sesame (default when no command is given)
  help         Show this help

Configuration comes from the environment:
${SETTINGS.map((s) => `  ${s.env.padEnd(32)}${s.doc}${s.default ? ` Default: ${s.default}` : ''}`).join('\n')}
`;

export async function main(argv: string[]): Promise<number> {
  const cmd = argv[0] ?? 'start';
  if (cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd !== 'start') {
    process.stderr.write(`Unknown command "${cmd}".\n\n${HELP}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const { app, services, report } = await buildApp(config);
  installSignalHandlers(app);
  const base = await listen(app, services);
  process.stdout.write(welcome(base, services.issuer, report));
  return -1; // keep running
}
