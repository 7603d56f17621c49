import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import type { OutputStream } from './context.js';

/**
 * Progress of `import` on stderr: a bar when stderr is a terminal, else a
 * line now and then (logs and pipes get no control characters).
 */
export interface ProgressState {
  file: string;
  fileNumber: number;
  files: number;
  /** Bytes of all files read so far (compressed bytes for gzipped files), out of totalBytes. */
  bytes: number;
  totalBytes: number;
  read: number;
  stored: number;
  present: number;
  failed: number;
}

export interface Progress {
  update(state: ProgressState): void;
  /** A line that stays (a file done, a file that failed). */
  log(line: string): void;
  stop(): void;
}

const n = (value: number) => value.toLocaleString('en-US');

function percent(state: ProgressState): number {
  return state.totalBytes > 0 ? Math.min(100, Math.floor((state.bytes / state.totalBytes) * 100)) : 100;
}

export function counts(state: Pick<ProgressState, 'read' | 'stored' | 'present' | 'failed'>): string {
  return `${n(state.read)} read, ${n(state.stored)} stored, ${n(state.present)} already present, ${n(state.failed)} failed`;
}

class BarProgress implements Progress {
  // A MultiBar with one bar: its log() writes lines above the bar without disturbing it.
  private readonly bars: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bars = new cliProgress.MultiBar(
      {
        stream,
        format: '{bar} {percentage}% | file {fileNumber}/{files} {file} | {counts}',
        hideCursor: true,
        barsize: 30,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(state: ProgressState): void {
    const payload = { file: basename(state.file), fileNumber: state.fileNumber, files: state.files, counts: counts(state) };
    const total = Math.max(state.totalBytes, 1);
    this.bar ??= this.bars.create(total, 0, payload);
    this.bar.update(Math.min(state.bytes, total), payload);
  }

  log(line: string): void {
    if (this.bar) this.bars.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  stop(): void {
    if (!this.bar) return;
    this.bars.update(); // draws the lines logged since the last redraw
    this.bars.stop();
  }
}

class LineProgress implements Progress {
  private last = 0;

  constructor(
    private readonly stream: OutputStream,
    private readonly intervalMs: number,
  ) {}

  update(state: ProgressState): void {
    const now = Date.now();
    if (this.intervalMs > 0 && now - this.last < this.intervalMs) return;
    this.last = now;
    this.stream.write(`import: ${percent(state)}% file ${state.fileNumber}/${state.files} ${basename(state.file)}: ${counts(state)}\n`);
  }

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }

  stop(): void {}
}

class NoProgress implements Progress {
  update(): void {}
  log(): void {}
  stop(): void {}
}

export function createProgress(stream: OutputStream, options: { enabled: boolean; intervalMs: number }): Progress {
  if (!options.enabled) return new NoProgress();
  if (stream.isTTY && 'columns' in stream) return new BarProgress(stream as NodeJS.WriteStream);
  return new LineProgress(stream, options.intervalMs);
}
