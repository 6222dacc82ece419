// Process entry: `sesame [command]`. Exit codes: 0 done, 1 bad configuration or start-up failure, 2 usage.
import { main } from './cli.ts';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
