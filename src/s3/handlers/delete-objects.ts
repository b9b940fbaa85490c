import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { isDoraError } from '../../common/errors.js';
import type { S3Context } from '../s3-context.js';
import { S3Error, toS3Error } from '../s3-error.js';
import { readRequestBody } from '../read-request-body.js';
import { header, objectPath, type S3Request } from '../s3-request.js';
import { sendXml } from '../s3-response.js';
import { fromXml, S3_NAMESPACE, toXml } from '../s3-xml.js';
import { requireBucket } from './bucket-handlers.js';
import { deleteKey } from './object-write.js';

/** The largest request body and key count S3 accepts for one DeleteObjects call. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const MAX_KEYS = 1000;

/**
 * DeleteObjects (`POST /bucket?delete`): up to 1,000 keys, each deleted idempotently; the answer
 * lists each key deleted (unless Quiet) and each that failed, as S3 does.
 */
export async function deleteObjects(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const text = await readRequestBody(req, MAX_BODY_BYTES);
  const md5 = header(req, 'content-md5');
  if (md5 !== undefined && createHash('md5').update(text).digest('base64') !== md5) {
    throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
  }
  const { keys, quiet } = parseDelete(text);
  const deleted: Array<{ Key: string }> = [];
  const errors: Array<{ Key: string; Code: string; Message: string }> = [];
  for (const key of keys) {
    try {
      await deleteKey(ctx, req.bucket, key, objectPath(req.bucket, key));
      if (!quiet) deleted.push({ Key: key });
    } catch (error) {
      if (isDoraError(error, 'NOT_FOUND')) {
        if (!quiet) deleted.push({ Key: key });
        continue;
      }
      const e = toS3Error(error);
      errors.push({ Key: key, Code: e.s3Code, Message: e.message });
    }
  }
  sendXml(res, 200, toXml({ DeleteResult: { '@_xmlns': S3_NAMESPACE, Deleted: deleted, Error: errors } }));
}

/** `<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object>…</Delete>` → keys. Throws MalformedXML. */
function parseDelete(text: Buffer): { keys: string[]; quiet: boolean } {
  const malformed = (): S3Error => new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema.');
  let doc: Record<string, unknown>;
  try {
    doc = fromXml(text.toString('utf8'));
  } catch {
    throw malformed();
  }
  const root = doc['Delete'];
  if (typeof root !== 'object' || root === null) throw malformed();
  const r = root as Record<string, unknown>;
  const objects = r['Object'] === undefined ? [] : Array.isArray(r['Object']) ? r['Object'] : [r['Object']];
  const keys = objects.map((o: unknown) => {
    const key = (o as Record<string, unknown> | null)?.['Key'];
    if (typeof key !== 'string' || key === '') throw malformed();
    return key;
  });
  if (keys.length === 0 || keys.length > MAX_KEYS) throw malformed();
  return { keys, quiet: r['Quiet'] === 'true' };
}
