import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { UfsAttributes, UfsTags } from '../under-file-system.js';

/** Files being written are hidden under this prefix until they are renamed into place. */
export const TEMP_PREFIX = '.dora-tmp-';
/** What a host file system cannot keep about a file lives in a hidden file of this prefix beside it. */
export const SIDECAR_PREFIX = '.dora-meta-';

/** Names dora keeps to itself in a `file://` store: never listed, never written by users. */
export function isInternalName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) || name.startsWith(SIDECAR_PREFIX);
}

/** What a sidecar keeps: the MD5 ETag, the content type, user metadata and tags. */
export interface SidecarRecord {
  /** The file's or directory's name (a sidecar is named by its hash). */
  readonly name: string;
  /** The version of the file it describes; a file changed outside dora no longer matches. */
  readonly version: string;
  readonly etag?: string;
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly tags?: UfsTags;
}

/**
 * The sidecar of a file or directory: a small JSON file beside it, named by a hash of its name so
 * any name fits (the root's sits inside the root). A sidecar binds to the version it was written
 * for, so a file replaced behind dora's back is never described by its predecessor's record;
 * a stale or unreadable sidecar is ignored, never an error.
 */
export class LocalSidecar {
  readonly #name: string;
  readonly path: string;

  /** `host` is the file's host path; `isRoot` when it is the store's root directory. */
  constructor(host: string, isRoot: boolean) {
    this.#name = isRoot ? '' : basename(host);
    this.path = join(isRoot ? host : dirname(host), SIDECAR_PREFIX + createHash('sha256').update(this.#name).digest('hex').slice(0, 40));
  }

  /** The record for exactly this version, or undefined. */
  async read(version: string): Promise<SidecarRecord | undefined> {
    let record: unknown;
    try {
      record = JSON.parse(await readFile(this.path, 'utf8'));
    } catch {
      return undefined;
    }
    if (!isRecord(record) || record.name !== this.#name || record.version !== version) return undefined;
    return record;
  }

  /** Replaces the record atomically (a temporary file renamed into place). */
  async write(record: Omit<SidecarRecord, 'name'>): Promise<void> {
    const temp = join(dirname(this.path), TEMP_PREFIX + randomBytes(8).toString('hex'));
    try {
      await writeFile(temp, JSON.stringify({ ...record, name: this.#name }), { flag: 'wx', mode: 0o644 });
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** Removes the record. Idempotent. */
  async remove(): Promise<void> {
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Moves the record to describe `target` (a rename of the file); a missing one removes the target's. */
  async moveTo(target: LocalSidecar): Promise<void> {
    const record = await readFile(this.path, 'utf8').catch(() => undefined);
    if (record === undefined) {
      await target.remove();
      return;
    }
    const parsed: unknown = JSON.parse(record);
    if (isRecord(parsed)) {
      const { name: _name, ...rest } = parsed;
      await target.write(rest);
    }
    await this.remove();
  }
}

/** The attributes a record describes (no content type and no metadata when it has none). */
export function recordAttributes(record: SidecarRecord | undefined): UfsAttributes {
  return {
    ...(record?.contentType === undefined ? {} : { contentType: record.contentType }),
    metadata: record?.metadata ?? {},
  };
}

function isRecord(value: unknown): value is SidecarRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r['name'] === 'string' && typeof r['version'] === 'string' && isOptional(r['etag'], 'string') && isOptional(r['contentType'], 'string') && isStringMap(r['metadata']) && isStringMap(r['tags']);
}

function isOptional(value: unknown, type: 'string'): boolean {
  return value === undefined || typeof value === type;
}

function isStringMap(value: unknown): boolean {
  return value === undefined || (typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string'));
}
