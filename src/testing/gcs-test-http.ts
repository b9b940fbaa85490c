import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error the GCS test server answers with, in the JSON API's shape. */
export class GcsTestError extends Error {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** The JSON API's error body: `{"error":{"code","message","errors":[{"domain","reason","message"}]}}`. */
export function sendError(res: ServerResponse, error: GcsTestError, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, { error: { code: error.status, message: error.message, errors: [{ domain: 'global', reason: error.reason, message: error.message }] } }, headers);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=UTF-8', 'content-length': String(text.length) });
  res.end(text);
}

/** The whole request body (the test server holds objects in memory anyway). Rejects when the client goes away. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('the client went away')));
  });
}

/** The parts of a multipart/related body: headers (lower-case names) and bytes of each. */
export function parseMultipart(body: Buffer, contentType: string): { headers: Record<string, string>; data: Buffer }[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (boundary === undefined) throw new GcsTestError(400, 'invalid', 'Missing boundary in multipart/related Content-Type');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; data: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') return parts; // the closing delimiter
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next); // after the CRLF that ends the delimiter line
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) throw new GcsTestError(400, 'invalid', 'Malformed multipart part: no blank line after its headers');
    const headers: Record<string, string> = {};
    for (const line of part.subarray(0, split).toString().split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, data: part.subarray(split + 4) });
    at = next + 2;
  }
  throw new GcsTestError(400, 'invalid', 'Malformed multipart body: no closing delimiter');
}
