import type { ServerResponse } from 'node:http';
import type { S3Error } from './s3-error.js';
import { toXml } from './s3-xml.js';

export function sendXml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** An error response: the XML body S3 sends (none for HEAD), with the request id. */
export function sendS3Error(res: ServerResponse, error: S3Error, context: { method: string; resource: string; requestId: string }): void {
  if (res.headersSent) {
    res.destroy(error); // mid-body: the client must see a short read, never a complete-looking object
    return;
  }
  if (context.method === 'HEAD') {
    res.writeHead(error.status, { 'content-length': 0 }).end();
    return;
  }
  const body = toXml({
    Error: { Code: error.s3Code, Message: error.message, ...error.details, Resource: context.resource, RequestId: context.requestId },
  });
  sendXml(res, error.status, body);
}
