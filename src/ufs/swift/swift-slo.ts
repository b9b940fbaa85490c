import { createHash, randomBytes } from 'node:crypto';
import type { ObjectWritten } from '../object/object-client.js';
import type { SwiftApi } from './swift-api.js';
import { header } from './swift-auth.js';
import { SwiftHttpError, SwiftProtocolError, statusOf } from './swift-errors.js';
import { segmentPrefix } from './swift-location.js';
import type { ChunkReader } from '../../common/chunk-reader.js';

/** How a static large object is cut up and uploaded. */
export interface SloTuning {
  /** Bytes per segment (the last may be shorter). */
  readonly partSize: number;
  /** Segments in flight at once; also how many segment buffers exist at once. */
  readonly uploadConcurrency: number;
  /** Segments one manifest may list (Swift's `max_manifest_segments`, default 1000). */
  readonly maxManifestSegments: number;
}

/** Where a static large object goes, and the headers (content type, metadata) of its manifest. */
export interface SloTarget {
  readonly container: string;
  readonly key: string;
  readonly segmentContainer: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Makes sure the segment container exists (checked once per client). */
  readonly checkSegmentContainer: (signal: AbortSignal | undefined) => Promise<void>;
  /** Creates the segment container (a segment PUT answered 404: it went missing). */
  readonly createSegmentContainer: (signal: AbortSignal | undefined) => Promise<void>;
}

/** A segment or sub-manifest a manifest lists. */
interface Piece {
  readonly name: string;
  readonly etag: string;
  readonly size: number;
}

/** How long deleting the segments of a failed upload may take: it runs after the caller's signal has fired. */
const CLEANUP_TIMEOUT_MS = 60_000;

/**
 * Uploads a source as a Static Large Object: `first` and every further `partSize` bytes of
 * `reader` become segments `<key>/<upload id>/<8-digit index>` of the segment container, at most
 * `uploadConcurrency` in flight (and in memory); then the manifest PUT
 * (`?multipart-manifest=put`) makes the object visible at once. Past `maxManifestSegments`
 * segments, groups of them become sub-manifests listed by the top manifest (Swift nests SLOs).
 * On a failure the segments uploaded so far are deleted and the first error is thrown; only when
 * the manifest PUT got no answer do they stay, unless the object turns out to be written.
 */
export async function uploadSlo(api: SwiftApi, target: SloTarget, source: { first: Uint8Array; reader: ChunkReader }, tuning: SloTuning, signal: AbortSignal | undefined): Promise<ObjectWritten> {
  const prefix = segmentPrefix(target.key, `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
  const stop = new AbortController();
  const inner = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const pieces: Piece[] = [];
  const written: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let manifest: string | undefined; // the SLO ETag, once the manifest PUT is under way
  const maxSegments = tuning.maxManifestSegments ** 2;
  try {
    await target.checkSegmentContainer(inner);
    let segment: Uint8Array | undefined = source.first;
    for (let index = 0; segment !== undefined; index++) {
      if (index >= maxSegments) {
        throw new SwiftProtocolError('INVALID_ARGUMENT', `the object is larger than ${maxSegments} segments of ${tuning.partSize} bytes; raise partSize`);
      }
      const name = `${prefix}${String(index).padStart(8, '0')}`;
      written.push(name);
      const upload = putSegment(api, target, name, segment, inner).then(
        (piece) => void (pieces[index] = piece),
        (error: unknown) => {
          failure ??= { error };
          stop.abort(error);
        },
      );
      inFlight.add(upload);
      void upload.finally(() => inFlight.delete(upload));
      while (inFlight.size >= tuning.uploadConcurrency) await Promise.race(inFlight);
      if (failure !== undefined) throw failure.error;
      segment = source.reader.ended ? undefined : await source.reader.read(tuning.partSize, inner);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.error;
    const top = await subManifests(api, target, prefix, pieces, tuning, written, inner);
    manifest = sloEtag(top);
    return { version: await putManifest(api, { container: target.container, object: target.key }, target, top, target.headers, inner) };
  } catch (error) {
    stop.abort(error);
    await Promise.allSettled(inFlight);
    await source.reader.close().catch(() => undefined);
    if (manifest !== undefined && statusOf(error) === undefined) {
      // The manifest PUT got no answer: Swift may have written the manifest, or may still be
      // writing it. Its segments stay, a leak at worst, never an object whose segments are gone.
      if (await landed(api, target, manifest)) return { version: manifest };
      throw error;
    }
    await deleteQuietly(api, written.map((object) => ({ container: target.segmentContainer, object })), tuning.uploadConcurrency);
    throw failure?.error ?? error;
  }
}

/** Whether the object is the static large object with this ETag (asked past the caller's signal). */
async function landed(api: SwiftApi, target: SloTarget, etag: string): Promise<boolean> {
  try {
    const head = await api.call({ method: 'HEAD', container: target.container, object: target.key, accept: [200, 204, 404], signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
    await head.body.dump();
    return head.statusCode !== 404 && unquote(header(head.headers, 'etag') ?? '') === etag;
  } catch {
    return false;
  }
}

/** Puts one segment with its MD5 as ETag; a segment container gone missing (404) is created and the PUT sent again. */
async function putSegment(api: SwiftApi, target: SloTarget, name: string, data: Uint8Array, signal: AbortSignal): Promise<Piece> {
  const etag = createHash('md5').update(data).digest('hex');
  const put = (): Promise<unknown> => api.text({ method: 'PUT', container: target.segmentContainer, object: name, headers: { etag }, body: data, signal });
  try {
    await put();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    await target.createSegmentContainer(signal);
    await put();
  }
  return { name, etag, size: data.byteLength };
}

/**
 * The pieces the top manifest lists: the segments themselves, or, past `maxManifestSegments`,
 * sub-manifests of up to that many segments each (`<prefix>manifest-<index>`).
 */
async function subManifests(api: SwiftApi, target: SloTarget, prefix: string, segments: Piece[], tuning: SloTuning, written: string[], signal: AbortSignal): Promise<Piece[]> {
  if (segments.length <= tuning.maxManifestSegments) return segments;
  const top: Piece[] = [];
  for (let start = 0; start < segments.length; start += tuning.maxManifestSegments) {
    const group = segments.slice(start, start + tuning.maxManifestSegments);
    const name = `${prefix}manifest-${String(top.length).padStart(8, '0')}`;
    written.push(name);
    const etag = await putManifest(api, { container: target.segmentContainer, object: name }, target, group, {}, signal);
    top.push({ name, etag, size: group.reduce((sum, p) => sum + p.size, 0) });
  }
  return top;
}

/** Swift's ETag of a static large object: the MD5 of its pieces' ETags, in order. */
function sloEtag(pieces: readonly Piece[]): string {
  const hash = createHash('md5');
  for (const p of pieces) hash.update(p.etag);
  return hash.digest('hex');
}

/**
 * PUTs a manifest with `heartbeat=on`: Swift answers 202 at once and keeps the connection alive
 * with whitespace while it checks every segment, then writes the outcome as JSON (a Swift
 * without heartbeats answers 201 as for any PUT). Returns the SLO's ETag.
 */
async function putManifest(api: SwiftApi, at: { container: string; object: string }, target: SloTarget, pieces: readonly Piece[], headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<string> {
  const etag = sloEtag(pieces);
  const answer = await api.text({
    method: 'PUT',
    ...at,
    query: { 'multipart-manifest': 'put', heartbeat: 'on' },
    headers: { ...headers, etag, accept: 'application/json' },
    body: JSON.stringify(pieces.map((p) => ({ path: `/${target.segmentContainer}/${p.name}`, etag: p.etag, size_bytes: p.size }))),
    signal,
  });
  if (answer.status !== 202) return unquote(header(answer.headers, 'etag') ?? etag);
  const report = parseReport(answer.text);
  if (report === undefined) throw new SwiftProtocolError('UNAVAILABLE', `the store answered a manifest PUT with ${JSON.stringify(answer.text.trim().slice(0, 200))}`);
  if (report.status >= 200 && report.status < 300) return unquote(report.etag ?? etag);
  throw reportError(report);
}

/** One entry of a manifest as `?multipart-manifest=get` returns it. */
interface StoredSegment {
  readonly name?: unknown;
  readonly sub_slo?: unknown;
}

/**
 * The segments of a static large object, or undefined when `key` holds none (missing, or a
 * plain object). Sub-manifests are marked as such, to be deleted with their own segments.
 */
export async function largeObjectSegments(api: SwiftApi, container: string, key: string, signal: AbortSignal | undefined): Promise<Leftover[] | undefined> {
  const head = await api.call({ method: 'HEAD', container, object: key, accept: [200, 204, 404], signal });
  await head.body.dump();
  if (head.statusCode === 404 || header(head.headers, 'x-static-large-object')?.toLowerCase() !== 'true') return undefined;
  const manifest = await api.text({ method: 'GET', container, object: key, query: { 'multipart-manifest': 'get' }, accept: [200, 404], signal });
  if (manifest.status === 404) return undefined;
  let entries: unknown;
  try {
    entries = JSON.parse(manifest.text);
  } catch {
    return undefined; // not a manifest after all (replaced in between)
  }
  if (!Array.isArray(entries)) return undefined;
  return (entries as StoredSegment[])
    .filter((e): e is { name: string; sub_slo?: unknown } => typeof e.name === 'string')
    .map((e) => leftoverOf({ name: e.name, subManifest: e.sub_slo === true }))
    .filter((l): l is Leftover => l !== undefined);
}

/**
 * Deletes an object; a static large object with its segments (`?multipart-manifest=delete`,
 * which answers 200 with a bulk-delete report). A plain object gets the report's "Not an SLO
 * manifest" and is then deleted plainly. Deleting nothing succeeds.
 */
export async function deleteObject(api: SwiftApi, container: string, key: string, signal: AbortSignal | undefined): Promise<void> {
  const answer = await api.text({
    method: 'DELETE',
    container,
    object: key,
    query: { 'multipart-manifest': 'delete' },
    headers: { accept: 'application/json' },
    accept: [200, 204, 404],
    signal,
  });
  if (answer.status === 404) return;
  const report = parseReport(answer.text) ?? { status: answer.status, statusLine: `${answer.status}`, body: '', errors: [] };
  if (report.status >= 200 && report.status < 300) return;
  if (report.status === 400 && report.errors.length === 1 && report.errors[0]?.[1] === 'Not an SLO manifest') {
    const plain = await api.call({ method: 'DELETE', container, object: key, accept: [204, 200, 404], signal });
    await plain.body.dump();
    return;
  }
  throw reportError(report);
}

/** The JSON report of a bulk delete or of a manifest PUT with heartbeats. */
interface Report {
  readonly status: number;
  /** "201 Created", "400 Bad Request". */
  readonly statusLine: string;
  readonly body: string;
  readonly etag?: string | undefined;
  /** [name, why] of each segment that failed. */
  readonly errors: readonly (readonly [string, string])[];
}

function parseReport(text: string): Report | undefined {
  let parsed: { 'Response Status'?: unknown; 'Response Body'?: unknown; Etag?: unknown; Errors?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return undefined;
  }
  const statusLine = parsed['Response Status'];
  if (typeof statusLine !== 'string' || !/^\d{3}/.test(statusLine)) return undefined;
  const errors = Array.isArray(parsed.Errors) ? (parsed.Errors as unknown[]).filter((e): e is unknown[] => Array.isArray(e) && e.length === 2).map((e) => [String(e[0]), String(e[1])] as const) : [];
  return {
    status: Number(statusLine.slice(0, 3)),
    statusLine,
    body: typeof parsed['Response Body'] === 'string' ? parsed['Response Body'] : '',
    etag: typeof parsed.Etag === 'string' ? parsed.Etag : undefined,
    errors,
  };
}

function reportError(report: Report): SwiftHttpError {
  const said = [report.body.trim(), ...report.errors.map(([name, why]) => `${name}: ${why}`)].filter((s) => s !== '').join('; ');
  return new SwiftHttpError(report.status, said === '' ? report.statusLine : said);
}

/** An object to delete after the fact; a sub-manifest is deleted with its segments. */
export interface Leftover {
  readonly container: string;
  readonly object: string;
  readonly subManifest?: boolean | undefined;
}

/** Deletes leftovers `concurrency` at a time, ignoring failures (cleanup after the fact, past the caller's signal). */
export async function deleteQuietly(api: SwiftApi, leftovers: readonly Leftover[], concurrency: number): Promise<void> {
  const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, leftovers.length) }, async () => {
    while (next < leftovers.length) {
      const { container, object, subManifest } = leftovers[next++] as Leftover;
      const done = subManifest === true
        ? deleteObject(api, container, object, signal)
        : api.call({ method: 'DELETE', container, object, accept: [200, 204, 404], signal }).then((answer) => answer.body.dump());
      await done.catch(() => undefined);
    }
  }));
}

/** A manifest's `/container/object` as a leftover. */
function leftoverOf(segment: { name: string; subManifest: boolean }): Leftover | undefined {
  const slash = segment.name.indexOf('/', 1);
  if (!segment.name.startsWith('/') || slash < 0) return undefined;
  return { container: segment.name.slice(1, slash), object: segment.name.slice(slash + 1), subManifest: segment.subManifest };
}

export function unquote(etag: string): string {
  return etag.replace(/^(W\/)?"(.*)"$/, '$2');
}
