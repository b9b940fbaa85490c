/**
 * User metadata names as Azure keeps them. Azure requires C# identifiers (a letter or '_', then
 * letters, digits and '_'), where dora, like S3, allows any lower-case name (`x-note`). A name
 * that is already an identifier is kept as it is. Any other gets the `dora_` tag, and each of
 * its UTF-8 bytes other than a-z and 0-9 becomes `_xx` (hex): `x-note` → `dora_x_2dnote`,
 * `2nd` → `dora_2nd`. Names from other tools decode unchanged unless they start with the tag.
 */
const TAG = 'dora_';

export function encodeMetadataName(name: string): string {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && !name.startsWith(TAG)) return name;
  let out = TAG;
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[a-z0-9]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The name dora wrote for `stored` (Azure may hand names back in any case). */
export function decodeMetadataName(stored: string): string {
  const name = stored.toLowerCase();
  if (!name.startsWith(TAG)) return name;
  const bytes: number[] = [];
  for (const [char, hex] of name.slice(TAG.length).matchAll(/_([0-9a-f]{2})|[\s\S]/gu)) {
    bytes.push(...(hex === undefined ? Buffer.from(char, 'utf8') : [parseInt(hex, 16)]));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Metadata to send: every name encoded. */
export function encodeMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [encodeMetadataName(k), v]));
}

/** Metadata received: every name decoded, in lower case. */
export function decodeMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [decodeMetadataName(k), v]));
}

/**
 * Whether a blob is a directory of a hierarchical-namespace account (ADLS Gen2), which the blob
 * API shows as an empty blob with the metadata `hdi_isfolder=true`.
 */
export function isFolderBlob(metadata: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(metadata ?? {}).some(([k, v]) => k.toLowerCase() === 'hdi_isfolder' && v.toLowerCase() === 'true');
}
