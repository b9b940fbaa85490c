import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { DoraError, describeCause } from '../common/errors.js';
import { fromSystemError } from '../common/system-errors.js';
import { CredentialStore } from './auth/s3-credentials.js';

/**
 * The S3 access keys in a YAML (or JSON) file:
 * `AKIDEXAMPLE: { secret: "…", buckets: { sales: read, scratch: read-write } }`. An empty path means
 * none (anonymous requests). Throws NOT_FOUND or INVALID_ARGUMENT naming the file.
 */
export async function loadS3Credentials(file: string): Promise<CredentialStore | undefined> {
  if (file === '') return undefined;
  const attempt = `Cannot load S3 credentials "${file}"`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw fromSystemError(error, attempt);
  }
  try {
    return CredentialStore.from(parse(text) ?? {});
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: ${describeCause(error)}`, { cause: error });
  }
}
