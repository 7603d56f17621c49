import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/project-root.js';
import type { Seed } from '../../src/services/provisioning.js';

/**
 * The real server (src/server.ts through tsx) as a child process, for the
 * tests of signals, restarts and replicas. Its pino log lines (stdout, JSON)
 * are kept and parsed; start() waits for "TAXII server listening"; every
 * process started here is killed by killAll() whatever happened.
 */
export interface LogLine {
  msg?: string;
  level?: number;
  req?: { method?: string; url?: string };
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  lines: LogLine[];
  stderr: () => string;
  /** Milliseconds from spawn to listening. */
  startMs: number;
  exited: Promise<Exit>;
  /** Sends the signal and waits for the exit (SIGKILL and an error after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit & { ms: number }>;
}

const running = new Set<ChildProcess>();

/** A port free at the moment (the server is given a fixed PORT: it prints no ephemeral one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A seed as a JSON file in a fresh temporary directory; the returned function removes it. */
export function writeSeedFile(seed: Seed): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'taxii-seed-'));
  const path = join(dir, 'seed.json');
  writeFileSync(path, JSON.stringify(seed));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startServer(env: Record<string, string>, options: { port?: number; startTimeoutMs?: number } = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DEMO: 'false',
      SCRYPT_COST: '1024',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: LogLine[] = [];
  let stderr = '';
  let partial = '';
  let onListening: (() => void) | undefined;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const complete = partial.split('\n');
    partial = complete.pop()!;
    for (const text of complete) {
      if (text.trim() === '') continue;
      try {
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        if (line.msg === 'TAXII server listening') onListening?.();
      } catch {
        lines.push({ msg: text });
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const outcome = await new Promise<'listening' | 'exited' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    onListening = () => {
      clearTimeout(timer);
      resolve('listening');
    };
    void exited.then(() => {
      clearTimeout(timer);
      resolve('exited');
    });
  });
  if (outcome !== 'listening') {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`the server did not start (${outcome}):\n${stderr}\n${lines.map((l) => JSON.stringify(l)).join('\n').slice(-4000)}`);
  }
  const startMs = Date.now() - started;

  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    stderr: () => stderr,
    startMs,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 20_000) {
      const sent = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), stopTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (result === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`the server did not exit within ${stopTimeoutMs} ms of ${signal}`);
      }
      return { ...result, ms: Date.now() - sent };
    },
  };
}

/** Kills every server process still running (afterAll, and on failure). */
export async function killAll(): Promise<void> {
  const waits = [...running].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
}
