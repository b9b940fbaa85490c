import { XMLBuilder, XMLParser } from 'fast-xml-parser';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, processEntities: true });
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: true });

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An XML document: `{ Root: { '@_xmlns': ns, Child: 'text', Items: [{…}, {…}] } }`. */
export function toXml(document: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(document) as string}`;
}

/** Parses a request body; values stay strings. Throws on malformed XML. */
export function fromXml(text: string): Record<string, unknown> {
  return parser.parse(text, true) as Record<string, unknown>;
}
