import { DoraError } from '../common/errors.js';
import { parseStoreUri, type StoreUri } from '../common/store-uri.js';
import type { UnderFileSystem } from './under-file-system.js';

/** Store options as a mount gives them: strings such as endpoint, region, pathStyle. */
export type UfsOptions = Readonly<Record<string, string>>;

/** Process-wide tuning resolved from configuration; a mount's options may override it. */
export interface UfsTuning {
  readonly multipartThreshold: number;
  readonly partSize: number;
  readonly uploadConcurrency: number;
  readonly maxSockets: number;
}

export const DEFAULT_UFS_TUNING: UfsTuning = Object.freeze({
  multipartThreshold: 5 * 1024 * 1024 * 1024, // S3's largest single PUT: a known-size stream goes in one request
  partSize: 16 * 1024 * 1024,
  uploadConcurrency: 4,
  maxSockets: 64,
});

/** Creates a backend for one store root. Throws INVALID_ARGUMENT for a bad URI or option. */
export type UfsFactory = (uri: StoreUri, options: UfsOptions, tuning: UfsTuning) => UnderFileSystem;

/**
 * Picks a backend by URI scheme. Each backend (and the SDK it needs) is imported only when a
 * URI of its scheme is first opened.
 */
export class UfsRegistry {
  readonly #loaders = new Map<string, () => Promise<UfsFactory>>();
  readonly #tuning: UfsTuning;

  constructor(tuning: Partial<UfsTuning> = {}) {
    this.#tuning = { ...DEFAULT_UFS_TUNING, ...tuning };
  }

  /** Registers a backend for `scheme`; `load` is called at most once, on first use. */
  register(scheme: string, load: () => Promise<UfsFactory>): this {
    let loaded: Promise<UfsFactory> | undefined;
    this.#loaders.set(scheme.toLowerCase(), () => (loaded ??= load()));
    return this;
  }

  schemes(): string[] {
    return [...this.#loaders.keys()].sort();
  }

  /** Opens the store at `uri`. Throws INVALID_ARGUMENT for an unknown scheme or malformed URI. */
  async create(uri: string, options: UfsOptions = {}): Promise<UnderFileSystem> {
    const parsed = parseStoreUri(uri);
    const load = this.#loaders.get(parsed.scheme);
    if (load === undefined) {
      throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri}": unknown scheme "${parsed.scheme}" (known: ${this.schemes().join(', ')})`);
    }
    const factory = await load();
    return factory(parsed, options, this.#tuning);
  }
}

/** A registry with every built-in backend. */
export function createDefaultUfsRegistry(tuning: Partial<UfsTuning> = {}): UfsRegistry {
  return new UfsRegistry(tuning)
    .register('abfs', async () => (await import('./azure/azure-ufs-factory.js')).createAzureUfs)
    .register('abfss', async () => (await import('./azure/azure-ufs-factory.js')).createAzureUfs)
    .register('file', async () => (await import('./local/local-ufs-factory.js')).createLocalUfs)
    .register('gs', async () => (await import('./gcs/gcs-ufs-factory.js')).createGcsUfs)
    .register('hdfs', async () => (await import('./hdfs/hdfs-ufs-factory.js')).createHdfsUfs)
    .register('http', async () => (await import('./http/http-ufs-factory.js')).createHttpUfs)
    .register('https', async () => (await import('./http/http-ufs-factory.js')).createHttpUfs)
    .register('s3', async () => (await import('./s3/s3-ufs-factory.js')).createS3Ufs)
    .register('s3a', async () => (await import('./s3/s3-ufs-factory.js')).createS3Ufs)
    .register('swebhdfs', async () => (await import('./hdfs/hdfs-ufs-factory.js')).createHdfsUfs)
    .register('swift', async () => (await import('./swift/swift-ufs-factory.js')).createSwiftUfs)
    .register('wasb', async () => (await import('./azure/azure-ufs-factory.js')).createAzureUfs)
    .register('wasbs', async () => (await import('./azure/azure-ufs-factory.js')).createAzureUfs)
    .register('webhdfs', async () => (await import('./hdfs/hdfs-ufs-factory.js')).createHdfsUfs);
}
