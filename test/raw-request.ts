import { request, type IncomingHttpHeaders } from 'node:http';

/** A raw HTTP request, for what S3 clients would never send (bad XML, traversal, oversized metadata). */
export function rawRequest(
  base: string,
  path: string,
  options: { method: string; headers?: Record<string, string>; body?: Buffer },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    // The path goes as written: a URL object would resolve its '..' segments before sending.
    const req = request({ hostname, port, path, method: options.method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
