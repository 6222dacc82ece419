import { COMMANDS } from './commands/catalog.ts';
import type { CommandIO } from './commands/types.ts';
import { SETTINGS } from './config/schema.ts';
import { VERSION } from './version.ts';


const HELP = `Usage: sesame <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(18)}${c.summary}`).join('\n')}
  help              Show this help (sesame <command> --help: its options and an example)
  version           Print the version (also --version, -v)

Configuration comes from the environment:
${SETTINGS.map((s) => `  ${s.env.padEnd(32)}${s.doc}${s.default ? ` Default: ${s.default}` : ''}`).join('\n')}
`;

const processIO = (): CommandIO => ({ env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });

export async function main(argv: string[], io: CommandIO = processIO()): Promise<number> {
  const name = argv[0] ?? 'start';
  if (name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(HELP);
    return 0;
  }
  if (name === 'version' || name === '--version' || name === '-v') {
    io.stdout.write(`sesame ${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`Unknown command "${name}".\n\n${HELP}`);
    return 2;
  }
  const rest = argv.slice(1);
  // Answered here for every command, before it reads configuration or opens anything: asking for
  // help never starts a server or touches a database.
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage);
    return 0;
  }
  return command.run(rest, io);
}
