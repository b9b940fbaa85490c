import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential, type BlobHTTPHeaders, type BlobItem, type StoragePipelineOptions } from '@azure/storage-blob';
import type { ObjectGetResult, ObjectInfo, ObjectWriteFields, ObjectWritten } from '../object/object-client.js';
import { decodeMetadata, encodeMetadata, isFolderBlob } from './azure-metadata.js';

/**
 * The slice of the Azure Blob API dora uses, over `@azure/storage-blob`, for one container: the
 * one file that imports the SDK. Methods throw the SDK's errors untranslated (see
 * `fromAzureError`). The SDK's own retries are off (one try per request, no re-download of a
 * broken body): `withRetry` owns retrying, so attempts and backoff are bounded in one place.
 */
export type AzureCredentials =
  | { readonly kind: 'sharedKey'; readonly account: string; readonly accountKey: string }
  | { readonly kind: 'sas'; readonly sasToken: string }
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | { readonly kind: 'anonymous' };

export interface AzureApiSettings {
  /** The blob service endpoint, e.g. `https://myaccount.blob.core.windows.net` (unused with a connection string). */
  readonly endpoint: string;
  readonly container: string;
  readonly credentials: AzureCredentials;
  /** Most connections open to the store at once. */
  readonly maxSockets: number;
}

/** What a new blob is written with. */
export interface AzureBlobFields extends ObjectWriteFields {
  /** The content's MD5, kept as the blob's Content-MD5. */
  readonly md5?: Uint8Array | undefined;
}

export interface AzureListPage {
  /** Blobs (directories of a hierarchical namespace left out: see `folders`). */
  readonly objects: readonly ObjectInfo[];
  /** Virtual directories, each ending in '/'. */
  readonly prefixes: readonly string[];
  /** Directories of a hierarchical-namespace account, listed as blobs; each ending in '/'. */
  readonly folders: readonly string[];
  readonly nextMarker: string | undefined;
}

/** The pipeline options the SDK passes on to its HTTP layer, `agent` included (not in its types). */
type PipelineOptions = StoragePipelineOptions & { agent?: HttpAgent };

export class AzureApi {
  readonly #container: ContainerClient;
  readonly #agent: HttpAgent;

  constructor(settings: AzureApiSettings) {
    const c = settings.credentials;
    const url = `${settings.endpoint.replace(/\/+$/, '')}/${settings.container}`;
    const client = (options: PipelineOptions): ContainerClient => {
      if (c.kind === 'connectionString') return new ContainerClient(c.connectionString, settings.container, options);
      if (c.kind === 'sharedKey') return new ContainerClient(url, new StorageSharedKeyCredential(c.account, c.accountKey), options);
      if (c.kind === 'sas') return new ContainerClient(`${url}?${c.sasToken.replace(/^\?/, '')}`, new AnonymousCredential(), options);
      return new ContainerClient(url, new AnonymousCredential(), options);
    };
    // A connection string names the endpoint; only the client built from it knows HTTP from HTTPS.
    const secure = (c.kind === 'connectionString' ? client({}).url : url).startsWith('https:');
    const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets };
    this.#agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    // One try per request: `withRetry` retries. Our own agent, so close() releases its sockets.
    this.#container = client({ retryOptions: { maxTries: 1 }, agent: this.#agent });
  }

  /** The blob's properties; a directory of a hierarchical namespace is reported as undefined. */
  async head(name: string, signal: AbortSignal | undefined): Promise<ObjectInfo | undefined> {
    const r = await this.#container.getBlobClient(name).getProperties(withSignal(signal));
    if (isFolderBlob(r.metadata)) return undefined;
    return info(name, { size: r.contentLength, lastModified: r.lastModified, etag: r.etag, md5: r.contentMD5, contentType: r.contentType, metadata: r.metadata });
  }

  /** Bytes [offset, offset + count) of a blob (to its end when count is undefined). */
  async download(name: string, range: { offset: number; count?: number | undefined; ifMatch?: string | undefined }, signal: AbortSignal | undefined): Promise<ObjectGetResult> {
    const r = await this.#container.getBlobClient(name).download(range.offset, range.count, {
      ...withSignal(signal),
      maxRetryRequests: 0,
      ...(range.ifMatch === undefined ? {} : { conditions: { ifMatch: `"${range.ifMatch}"` } }),
    });
    const total = /\/(\d+)$/.exec(r.contentRange ?? '')?.[1];
    // A ranged download's Content-MD5 would be the range's; the blob's own is x-ms-blob-content-md5.
    const md5 = r.blobContentMD5 ?? (r.contentRange === undefined ? r.contentMD5 : undefined);
    const got = info(name, { size: r.contentLength, lastModified: r.lastModified, etag: r.etag, md5, contentType: r.contentType, metadata: r.metadata });
    return { ...got, totalSize: total === undefined ? got.size : Number(total), body: cutAsReset(r.readableStreamBody as Readable, signal) };
  }

  /** One Put Blob of a body of known size; the blob appears once every byte arrived. */
  async upload(name: string, body: Uint8Array | Readable, size: number, fields: AzureBlobFields, signal: AbortSignal | undefined): Promise<ObjectWritten> {
    const r = await this.#container.getBlockBlobClient(name).upload(body, size, { ...withSignal(signal), ...blobFields(fields) });
    // Azure computes and keeps the MD5 of a single upload that did not send one.
    return written(r.etag, r.lastModified, fields.md5 ?? r.contentMD5);
  }

  /** Stages one block of a blob's next version (invisible until committed). */
  async stageBlock(name: string, blockId: string, body: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    await this.#container.getBlockBlobClient(name).stageBlock(blockId, body, body.byteLength, withSignal(signal));
  }

  /** Makes the staged blocks, in order, the blob's content: the new version appears at once. */
  async commitBlocks(name: string, blockIds: readonly string[], fields: AzureBlobFields, signal: AbortSignal | undefined): Promise<ObjectWritten> {
    const r = await this.#container.getBlockBlobClient(name).commitBlockList([...blockIds], { ...withSignal(signal), ...blobFields(fields) });
    return written(r.etag, r.lastModified, fields.md5);
  }

  /** One page of blobs named `prefix…`, in name order; with a delimiter, deeper names rolled up into prefixes. */
  async list(page: { prefix: string; delimiter?: '/' | undefined; marker?: string | undefined; maxResults: number }, signal: AbortSignal | undefined): Promise<AzureListPage> {
    // Metadata tells the directories of a hierarchical namespace (hdi_isfolder) from files.
    const options = { prefix: page.prefix, includeMetadata: true, ...withSignal(signal) };
    const settings = { ...(page.marker === undefined ? {} : { continuationToken: page.marker }), maxPageSize: page.maxResults };
    const pages =
      page.delimiter === undefined
        ? this.#container.listBlobsFlat(options).byPage(settings)
        : this.#container.listBlobsByHierarchy(page.delimiter, options).byPage(settings);
    const { value } = await pages.next();
    if (value === undefined) return { objects: [], prefixes: [], folders: [], nextMarker: undefined };
    const items: BlobItem[] = value.segment.blobItems;
    return {
      objects: items.filter((b) => !isFolderBlob(b.metadata)).map((b) => info(b.name, { size: b.properties.contentLength, lastModified: b.properties.lastModified, etag: b.properties.etag, md5: b.properties.contentMD5 }, false)),
      prefixes: 'blobPrefixes' in value.segment ? (value.segment.blobPrefixes ?? []).map((p: { name: string }) => p.name) : [],
      folders: items.filter((b) => isFolderBlob(b.metadata)).map((b) => `${b.name}/`),
      nextMarker: value.continuationToken === '' ? undefined : value.continuationToken,
    };
  }

  /** Deletes a blob and its snapshots. */
  async delete(name: string, signal: AbortSignal | undefined): Promise<void> {
    await this.#container.getBlobClient(name).delete({ ...withSignal(signal), deleteSnapshots: 'include' });
  }

  /** Creates the container (for tests and setup; dora never creates containers by itself). */
  async createContainer(signal?: AbortSignal): Promise<void> {
    await this.#container.create(withSignal(signal));
  }

  /** Closes the connections to the store. */
  close(): void {
    this.#agent.destroy();
  }
}

interface Properties {
  size: number | undefined;
  lastModified: Date | undefined;
  etag: string | undefined;
  md5: Uint8Array | undefined;
  contentType?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

/** A blob as an object: its ETag is its version, the hex of its Content-MD5 (else the ETag) its `etag`. */
function info(name: string, p: Properties, withAttributes = true): ObjectInfo {
  const etag = unquote(p.etag);
  return {
    key: name,
    size: p.size ?? 0,
    mtimeMs: p.lastModified?.getTime() ?? 0,
    version: etag,
    etag: hex(p.md5) ?? etag,
    ...(withAttributes ? { contentType: p.contentType, metadata: decodeMetadata(p.metadata) } : {}),
  };
}

function written(etag: string | undefined, lastModified: Date | undefined, md5: Uint8Array | undefined): ObjectWritten {
  const version = unquote(etag);
  return { version, etag: hex(md5) ?? version, mtimeMs: lastModified?.getTime() ?? Date.now() };
}

/** The SDK's options for a new blob's content type, MD5 and metadata. */
function blobFields(fields: AzureBlobFields): { blobHTTPHeaders?: BlobHTTPHeaders; metadata?: Record<string, string> } {
  const headers: BlobHTTPHeaders = {
    ...(fields.contentType === undefined ? {} : { blobContentType: fields.contentType }),
    ...(fields.md5 === undefined ? {} : { blobContentMD5: fields.md5 }),
  };
  return {
    ...(Object.keys(headers).length === 0 ? {} : { blobHTTPHeaders: headers }),
    ...(fields.metadata === undefined || Object.keys(fields.metadata).length === 0 ? {} : { metadata: encodeMetadata(fields.metadata) }),
  };
}

/**
 * The body of a download, where a connection that closes mid-body fails as ECONNRESET: the SDK
 * reports it as an AbortError, which would read as our own cancel.
 */
function cutAsReset(body: Readable, signal: AbortSignal | undefined): Readable {
  const out = new PassThrough();
  body.on('error', (error: Error) => {
    const cut = error.name === 'AbortError' && signal?.aborted !== true;
    out.destroy(cut ? Object.assign(new Error('the connection closed before the body ended', { cause: error }), { code: 'ECONNRESET' }) : error);
  });
  out.on('close', () => body.destroy());
  return body.pipe(out);
}

function withSignal(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

/** An ETag without its quotes. */
function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

function hex(md5: Uint8Array | undefined): string | undefined {
  return md5 === undefined || md5.byteLength === 0 ? undefined : Buffer.from(md5.buffer, md5.byteOffset, md5.byteLength).toString('hex');
}
