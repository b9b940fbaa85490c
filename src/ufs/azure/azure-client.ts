import type { Readable } from 'node:stream';
import type { DoraError } from '../../common/errors.js';
import type { ObjectClient, ObjectGetResult, ObjectInfo, ObjectListPage, ObjectWriteFields, ObjectWritten } from '../object/object-client.js';
import type { AzureApi } from './azure-api.js';
import { azureErrorCode, fromAzureError, httpStatusOf } from './azure-errors.js';
import { listPage, type ListRequest } from './azure-list.js';
import { putBlob, type AzureUploadTuning } from './azure-upload.js';

/**
 * One Azure Blob Storage container as an `ObjectClient`: blob names are keys, a blob's ETag is
 * its version, the hex of its Content-MD5 its `etag`. Block blobs only: one Put Blob up to the
 * threshold, staged blocks beyond (see `putBlob`). Nothing here retries.
 */
export class AzureClient implements ObjectClient {
  readonly #api: AzureApi;
  readonly #tuning: AzureUploadTuning;

  constructor(api: AzureApi, tuning: AzureUploadTuning) {
    this.#api = api;
    this.#tuning = tuning;
  }

  async head(key: string, signal: AbortSignal | undefined): Promise<ObjectInfo | undefined> {
    try {
      return await this.#api.head(key, signal);
    } catch (error) {
      // A missing container is an error worth naming, not a missing blob.
      if (httpStatusOf(error) === 404 && azureErrorCode(error) !== 'ContainerNotFound') return undefined;
      throw error;
    }
  }

  get(key: string, range: { offset: number; length?: number | undefined }, ifMatch: string | undefined, signal: AbortSignal | undefined): Promise<ObjectGetResult> {
    return this.#api.download(key, { offset: range.offset, count: range.length, ifMatch }, signal);
  }

  put(key: string, body: Uint8Array | Readable, fields: ObjectWriteFields & { size?: number | undefined }, signal: AbortSignal | undefined): Promise<ObjectWritten> {
    return putBlob(this.#api, key, body, fields, this.#tuning, signal);
  }

  async delete(key: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#api.delete(key, signal);
    } catch (error) {
      if (httpStatusOf(error) !== 404 || azureErrorCode(error) === 'ContainerNotFound') throw error; // deleting nothing succeeds
    }
  }

  list(prefix: string, page: ListRequest, signal: AbortSignal | undefined): Promise<ObjectListPage> {
    return listPage(this.#api, prefix, page, signal);
  }

  translate(error: unknown, attempt: string): DoraError {
    return fromAzureError(error, attempt);
  }

  async close(): Promise<void> {
    this.#api.close();
  }
}
