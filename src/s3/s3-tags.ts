import { S3Error } from './s3-error.js';
import { fromXml, S3_NAMESPACE, toXml } from './s3-xml.js';

export type Tags = Readonly<Record<string, string>>;

/** S3's limits: 10 tags on an object, 50 on a bucket; keys up to 128 characters, values 256. */
export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
const MAX_KEY_CHARS = 128;
const MAX_VALUE_CHARS = 256;
/** Letters, digits, spaces and `+ - = . _ : / @` in any script, as S3 allows. */
const ALLOWED = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** The `x-amz-tagging` header (a URL query string: `k1=v1&k2=v2`). Throws InvalidTag. */
export function parseTaggingHeader(value: string | undefined): Tags | undefined {
  if (value === undefined) return undefined;
  return checkedTags([...new URLSearchParams(value).entries()], MAX_OBJECT_TAGS);
}

/** A `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` body. Throws MalformedXML, InvalidTag. */
export function parseTaggingXml(text: string, max: number): Tags {
  const malformed = new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema.');
  let doc: Record<string, unknown>;
  try {
    doc = fromXml(text);
  } catch {
    throw malformed;
  }
  const tagging = doc['Tagging'];
  if (typeof tagging !== 'object' || tagging === null) throw malformed;
  const set = (tagging as Record<string, unknown>)['TagSet'];
  if (set === undefined) throw malformed;
  const raw = set === '' ? [] : (set as Record<string, unknown>)['Tag'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const entries = list.map((t: unknown): [string, string] => {
    const tag = t as Record<string, unknown>;
    const key = tag['Key'];
    const value = tag['Value'] ?? '';
    if (typeof key !== 'string' || typeof value !== 'string') throw malformed;
    return [key, value];
  });
  return checkedTags(entries, max);
}

/** The tag set as S3 answers GetObjectTagging and GetBucketTagging. */
export function taggingXml(tags: Tags): string {
  return toXml({ Tagging: { '@_xmlns': S3_NAMESPACE, TagSet: { Tag: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } } });
}

function checkedTags(entries: ReadonlyArray<[string, string]>, max: number): Tags {
  const invalid = (message: string): S3Error => new S3Error('InvalidTag', 400, message);
  if (entries.length > max) throw invalid(`Object tags cannot be greater than ${max}`);
  const tags: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key.length === 0 || [...key].length > MAX_KEY_CHARS) throw invalid('The TagKey you have provided is invalid');
    if ([...value].length > MAX_VALUE_CHARS) throw invalid('The TagValue you have provided is invalid');
    if (!ALLOWED.test(key) || !ALLOWED.test(value)) throw invalid('The TagKey you have provided is invalid');
    if (key.toLowerCase().startsWith('aws:')) throw invalid('Your TagKey cannot be prefixed with aws:');
    if (Object.hasOwn(tags, key)) throw invalid('Cannot provide multiple Tags with the same key');
    tags[key] = value;
  }
  return tags;
}
