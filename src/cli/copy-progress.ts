import { Presets, SingleBar } from 'cli-progress';
import type { CliContext } from './cli-context.js';
import { humanSize } from './output.js';

/** Copies at least this large show a progress bar (on a terminal). */
export const PROGRESS_THRESHOLD = 8 * 1024 * 1024;

export interface CopyProgress {
  /** `bytes` more were copied. */
  add(bytes: number): void;
  stop(): void;
}

const SILENT: CopyProgress = { add: () => undefined, stop: () => undefined };

/** A progress bar for a copy of `total` bytes, drawn only when stdout is a terminal and the copy is large. */
export function copyProgress(context: CliContext, total: number, options: { enabled: boolean }): CopyProgress {
  if (!options.enabled || !context.interactive || total < PROGRESS_THRESHOLD) return SILENT;
  const bar = new SingleBar(
    { format: '{bar} {percentage}% | {copied} of {size} | {rate}/s', stream: context.io.stdout, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    Presets.shades_classic,
  );
  const started = Date.now();
  let copied = 0;
  const payload = (): Record<string, string> => ({
    copied: humanSize(copied),
    size: humanSize(total),
    rate: humanSize(Math.round(copied / Math.max(0.001, (Date.now() - started) / 1000))),
  });
  bar.start(total, 0, payload());
  return {
    add(bytes) {
      copied += bytes;
      bar.update(copied, payload());
    },
    stop() {
      bar.stop();
    },
  };
}

/** Yields `source`'s chunks, reporting each to `progress`. */
export async function* counted(source: AsyncIterable<Uint8Array>, progress: CopyProgress): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    progress.add(chunk.byteLength);
    yield chunk;
  }
}
