import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { S3Error } from '../s3-error.js';

export interface UploadInfo {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiatedMs: number;
  /** What the object is created with on completion. */
  readonly attributes: UploadAttributes;
}

export interface UploadAttributes {
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface PartInfo {
  readonly partNumber: number;
  /** MD5 of the part, hex. */
  readonly etag: string;
  readonly size: number;
  readonly mtimeMs: number;
}

const ID = /^[0-9a-f]{32}$/;

/**
 * Multipart uploads staged on the worker's disk (never in memory): one directory per upload
 * holding its description and one file per part, written beside and renamed into place so a
 * part is whole or absent. Completing streams the parts in order to the store.
 */
export class MultipartStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async create(bucket: string, key: string, attributes: UploadAttributes = {}): Promise<UploadInfo> {
    const info: UploadInfo = { uploadId: randomBytes(16).toString('hex'), bucket, key, initiatedMs: Date.now(), attributes };
    await mkdir(this.#uploadDir(info.uploadId), { recursive: true });
    await writeFile(join(this.#uploadDir(info.uploadId), 'upload.json'), JSON.stringify(info));
    return info;
  }

  /** The upload, checked to belong to this bucket and key. Throws NoSuchUpload. */
  async get(uploadId: string, bucket: string, key: string): Promise<UploadInfo> {
    const info = ID.test(uploadId) ? await this.#read(uploadId) : undefined;
    if (info === undefined || info.bucket !== bucket || info.key !== key) {
      throw new S3Error('NoSuchUpload', 404, 'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.', { UploadId: uploadId });
    }
    return info;
  }

  /** Stores one part from a stream, replacing an earlier upload of the same number. */
  async putPart(upload: UploadInfo, partNumber: number, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<PartInfo> {
    const md5 = createHash('md5');
    let size = 0;
    const temp = join(this.#uploadDir(upload.uploadId), `${partNumber}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await pipeline(
        async function* () {
          for await (const chunk of body) {
            md5.update(chunk);
            size += chunk.byteLength;
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
      const part: PartInfo = { partNumber, etag: md5.digest('hex'), size, mtimeMs: Date.now() };
      await writeFile(join(this.#uploadDir(upload.uploadId), `${partNumber}.json`), JSON.stringify(part));
      await rename(temp, this.#partFile(upload.uploadId, partNumber));
      return part;
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** The parts uploaded so far, by part number. */
  async parts(upload: UploadInfo): Promise<PartInfo[]> {
    const names = await readdir(this.#uploadDir(upload.uploadId));
    const parts: PartInfo[] = [];
    for (const name of names) {
      if (!/^\d+\.json$/.test(name)) continue;
      const part = JSON.parse(await readFile(join(this.#uploadDir(upload.uploadId), name), 'utf8')) as PartInfo;
      if (await stat(this.#partFile(upload.uploadId, part.partNumber)).then(() => true, () => false)) parts.push(part);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** The bytes of the given parts, in order, streamed from disk. */
  async *read(upload: UploadInfo, parts: readonly PartInfo[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) yield* createReadStream(this.#partFile(upload.uploadId, part.partNumber), { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
  }

  /** Every upload in progress (for ListMultipartUploads), oldest first. */
  async uploads(): Promise<UploadInfo[]> {
    const ids = await readdir(this.#dir).catch(() => [] as string[]);
    const infos = await Promise.all(ids.filter((id) => ID.test(id)).map((id) => this.#read(id)));
    return infos.filter((i): i is UploadInfo => i !== undefined).sort((a, b) => a.initiatedMs - b.initiatedMs);
  }

  /** Drops an upload and its parts. Idempotent. */
  async remove(uploadId: string): Promise<void> {
    if (ID.test(uploadId)) await rm(this.#uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Drops uploads started more than `maxAgeMs` ago. Returns how many. */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const upload of await this.uploads()) {
      if (now - upload.initiatedMs > maxAgeMs) {
        await this.remove(upload.uploadId);
        removed += 1;
      }
    }
    return removed;
  }

  #uploadDir(uploadId: string): string {
    return join(this.#dir, uploadId);
  }

  #partFile(uploadId: string, partNumber: number): string {
    return join(this.#uploadDir(uploadId), `${partNumber}.part`);
  }

  async #read(uploadId: string): Promise<UploadInfo | undefined> {
    try {
      return JSON.parse(await readFile(join(this.#uploadDir(uploadId), 'upload.json'), 'utf8')) as UploadInfo;
    } catch {
      return undefined;
    }
  }
}
