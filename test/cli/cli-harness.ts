import { main } from '../../src/cli/main.js';
import type { Database } from '../../src/db/database.js';

/**
 * Runs the command line in-process, as `taxii-hub <args>` would, on a test
 * database, with its output captured.
 */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed (for --json runs). */
  json<T = unknown>(): T;
}

export interface CliRunOptions {
  stdin?: string;
  env?: Record<string, string>;
}

function capture() {
  const sink = { text: '', isTTY: false, write: (chunk: string) => ((sink.text += chunk), true) };
  return sink;
}

export function cliRunner(database: Database, baseEnv: Record<string, string> = {}) {
  return async (args: string[], options: CliRunOptions = {}): Promise<CliResult> => {
    const stdout = capture();
    const stderr = capture();
    const code = await main(args, {
      stdout,
      stderr,
      stdin: (async function* () {
        if (options.stdin !== undefined) yield options.stdin;
      })(),
      env: { SCRYPT_COST: '1024', DEMO: 'false', ...baseEnv, ...options.env },
      database,
      progressIntervalMs: 0,
    });
    return {
      code,
      stdout: stdout.text,
      stderr: stderr.text,
      json: <T>() => JSON.parse(stdout.text) as T,
    };
  };
}

/** For failing assertions: what the command printed. */
export function explain(result: CliResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}
