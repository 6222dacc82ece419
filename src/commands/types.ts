/**
 * One CLI command per module (src/commands/), listed with its name and summary in catalog.ts. `run`
 * returns the exit code, or -1 to keep the process running (a server). Commands write results to
 * stdout and progress and errors to stderr, so their output can be piped.
 */
export interface Command {
  /** What `sesame <name> --help` prints: every option and an example. src/cli.ts answers --help, so `run` never sees it. */
  usage: string;
  run(argv: string[], io: CommandIO): Promise<number>;
}

export interface CommandIO {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}
