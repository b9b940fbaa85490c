import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DoraError } from '../common/errors.js';
import type { JsonServer, Route } from '../http/json-server.js';
import { log } from '../observe/log.js';

/** The web UI's files: `ui/` at the repository root (this module runs compiled, from dist/src/coordinator/). */
export const UI_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The page may load and call only its own origin: no CDN, no fonts from elsewhere, no inline script. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Serves the web UI (docs/web-ui.md): reads the files of `dir` once, at start, and registers one
 * exact GET route per file (`/` for index.html, `/ui/<name>` for the others). No path is ever
 * built from a request, so nothing outside `dir` can be served. Answers carry an ETag and
 * `cache-control: no-cache`, so browsers revalidate and get 304 while nothing changed.
 */
export async function addWebRoutes(server: JsonServer, dir: string = UI_DIR): Promise<JsonServer> {
  const names: string[] = await readdir(dir, { withFileTypes: true }).then(
    (entries) => entries.filter((e) => e.isFile() && CONTENT_TYPES[extname(e.name)] !== undefined).map((e) => e.name),
    (error: unknown) => {
      log.warn({ dir, err: String(error) }, 'the web UI files are missing: / answers NOT_FOUND');
      return [];
    },
  );
  for (const name of names) {
    const body = await readFile(join(dir, name));
    const type = CONTENT_TYPES[extname(name)]!;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const serve: Route = async (req, res) => {
      const headers = { ...SECURITY_HEADERS, etag, 'cache-control': 'no-cache' };
      if (req.raw.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': type, 'content-length': body.length }).end(body);
    };
    if (name === 'index.html') server.route('GET', '/', serve).route('GET', '/index.html', serve);
    else server.route('GET', `/ui/${name}`, serve);
  }
  if (!names.includes('index.html')) {
    server.route('GET', '/', async () => {
      throw new DoraError('NOT_FOUND', `Cannot serve the web UI: no index.html in ${dir}; the REST API is under /api/v1`);
    });
  }
  return server;
}
