import { trace, type Span } from '@opentelemetry/api';
import type { CacheEvent } from '../cache/cache-manager.js';
import { tracingEnabled } from './tracing.js';

const pages = new WeakMap<Span, { hit: number; miss: number; joined: number }>();

/**
 * Notes a page a reader asked for on the active span (the worker's request): the mount and file,
 * how many pages hit, missed or joined a fetch, and `dora.cache` = hit when every page did.
 */
export function noteCacheEvent(event: CacheEvent): void {
  if (!tracingEnabled() || event.kind !== 'read') return;
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  const counts = pages.get(span) ?? { hit: 0, miss: 0, joined: 0 };
  pages.set(span, counts);
  counts[event.result] += 1;
  span.setAttributes({
    'dora.mount': event.file.mount ?? '',
    'dora.file': event.file.fileId,
    'dora.cache': counts.miss + counts.joined === 0 ? 'hit' : 'miss',
    'dora.cache.pages_hit': counts.hit,
    'dora.cache.pages_missed': counts.miss,
    'dora.cache.pages_joined': counts.joined,
  });
}
