import { pino, type DestinationStream, type Logger } from 'pino';
import { trace } from '@opentelemetry/api';
import type { Role } from '../metrics/catalogue.js';
import { currentRequest, followRequests } from './request-context.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * The process's structured log: one JSON object per line on stderr, with `level`, `time`, `role`,
 * `msg`, and on every line about a request its `requestId` (and `traceId` when tracing is on):
 * written by the server that serves it, or — at debug and with tracing, when requests are
 * followed (see request-context.ts) — by any code that runs for it. Silent until a server command configures it, so the SDK inside an
 * application never writes to the application's stderr.
 */
export let log: Logger = pino({ level: 'silent' });

/** Sets the process's log once, at start (a server command), from `log.level`. */
export function configureLog(options: { level: LogLevel; role: Role | 'embedded' }, destination?: DestinationStream): Logger {
  followRequests(options.level === 'debug' || options.level === 'trace');
  log = pino(
    {
      level: options.level,
      base: { role: options.role, pid: process.pid },
      // Numbers are for machines; names are for people and for `jq 'select(.level=="warn")'`.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: requestFields,
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
  return log;
}

function requestFields(): Record<string, string> {
  const request = currentRequest();
  const span = trace.getActiveSpan()?.spanContext();
  const fields: Record<string, string> = {};
  if (request !== undefined) fields['requestId'] = request.requestId;
  if (span !== undefined) fields['traceId'] = span.traceId;
  return fields;
}

/** Writes what is buffered (before the process exits). */
export function flushLog(): void {
  log.flush();
}
