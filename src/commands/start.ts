import { buildApp } from '../app.ts';
import { installSignalHandlers, listen } from '../server.ts';
import { welcome } from '../welcome.ts';
import { ConfigError } from '../config/load.ts';
import { commandConfig } from './config.ts';
import type { Command } from './types.ts';

/** `sesame start`: validate the configuration, build, listen, print the welcome banner. */
export const startCommand: Command = {
  name: 'start',
  summary: 'Serve Sesame (default when no command is given)',
  async run(_argv, io) {
    const config = commandConfig(io);
    if (!config) return 1;
    let built;
    try {
      built = await buildApp(config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.stderr.write(`${err.message}\n`);
      return 1;
    }
    const { app, services, report } = built;
    installSignalHandlers(app);
    const base = await listen(app, services);
    io.stdout.write(welcome(base, services.issuer, report));
    return -1; // keep running
  },
};
