import { buildApp } from '../app.ts';
import { listAdmins } from '../core/admins.ts';
import { installSignalHandlers, listen } from '../server.ts';
import { welcome } from '../welcome.ts';
import { commandConfig } from './config.ts';
import type { Command } from './types.ts';

/** `sesame start`: validate the configuration, build, listen, print the welcome banner. */
export const startCommand: Command = {
  name: 'start',
  summary: 'Serve Sesame (default when no command is given)',
  async run(_argv, io) {
    const config = commandConfig(io);
    if (!config) return 1;
    const { app, services, report } = await buildApp(config);
    installSignalHandlers(app);
    const base = await listen(app, services);
    io.stdout.write(welcome(base, services.issuer, report, (await listAdmins(services)).length));
    return -1; // keep running
  },
};
