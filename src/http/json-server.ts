import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InFlight } from './in-flight.js';
import { DoraError, isDoraError } from '../common/errors.js';
import { HTTP_STATUS_BY_CODE } from './http-status.js';
import { METRICS } from '../metrics/catalogue.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import { log } from '../observe/log.js';
import { REQUEST_ID_HEADER } from '../observe/request-context.js';
import { acceptedRequestId, RequestIds } from '../observe/request-ids.js';
import { serveObserved } from '../observe/served-request.js';

/** One request as a route sees it. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly raw: IncomingMessage;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
}

/** A route answers by writing to `res` itself, or by returning a value to send as JSON (undefined: 204). */
export type Route = (req: HttpRequest, res: ServerResponse) => Promise<unknown>;

/** Most bytes of a JSON request body. */
const MAX_JSON_BODY = 1024 * 1024;

export interface JsonServerOptions {
  /** The server in log lines and span names: `worker`, `coordinator`. */
  readonly name: string;
  /** Where request latency by route is counted. */
  readonly metrics?: MetricsRegistry | undefined;
  /** Requests slower than this are logged at warn; default 2 s. */
  readonly slowRequestMs?: number | undefined;
}

/**
 * A small HTTP server for dora's JSON APIs: routes by method and path, turns thrown DoraErrors
 * into `{ error: { code, message, retryable } }` with the status from the one table, and aborts
 * a route's work when its client disconnects. Every request gets a request id (`x-request-id`,
 * the caller's if it sent one), is logged, timed by route and traced (see serveObserved).
 */
export class JsonServer {
  /** Requests being served now. */
  readonly inFlight = new InFlight();
  readonly #server: Server;
  readonly #routes = new Map<string, Route>();
  readonly #options: JsonServerOptions;
  readonly #ids = new RequestIds();
  readonly #latency;

  constructor(options: JsonServerOptions) {
    this.#options = options;
    this.#latency = options.metrics?.histogram(METRICS.httpRequests);
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
  }

  route(method: string, path: string, handler: Route): this {
    this.#routes.set(`${method} ${path}`, handler);
    return this;
  }

  /** Listens; port 0 picks a free one. Resolves to the base URL. */
  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      setTimeout(() => this.#server.closeAllConnections(), 2000).unref();
    });
  }

  async #handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight.track(res);
    const url = new URL(raw.url ?? '/', 'http://localhost');
    // The caller's id is echoed; one of ours is made only when something needs it (a log line, a
    // span, an error answer), not for each of the many small requests a busy worker serves.
    let id = acceptedRequestId(raw.headers[REQUEST_ID_HEADER]);
    if (id !== undefined) res.setHeader(REQUEST_ID_HEADER, id);
    const requestId = (): string => (id ??= this.#ids.next());
    const key = `${raw.method ?? 'GET'} ${url.pathname}`;
    const route = this.#routes.has(key) ? key : 'unmatched';
    await serveObserved(
      raw,
      res,
      {
        server: this.#options.name,
        requestId,
        name: () => route,
        slowMs: this.#options.slowRequestMs ?? 2000,
        onDone: (seconds, status) => this.#latency?.observe({ route, status: String(status) }, seconds),
      },
      () => this.#dispatch(raw, res, url, requestId),
    );
  }

  async #dispatch(raw: IncomingMessage, res: ServerResponse, url: URL, requestId: () => string): Promise<void> {
    // The abort signal is made only for routes that ask for it: most small requests never do.
    let controller: AbortController | undefined;
    let gone = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      gone = true;
      controller?.abort(new DoraError('CANCELLED', 'The client went away'));
    });
    const signal = (): AbortSignal => {
      if (controller === undefined) {
        controller = new AbortController();
        if (gone) controller.abort(new DoraError('CANCELLED', 'The client went away'));
      }
      return controller.signal;
    };
    try {
      const route = this.#routes.get(`${raw.method ?? 'GET'} ${url.pathname}`);
      if (route === undefined) {
        const known = [...this.#routes.keys()].some((k) => k.endsWith(` ${url.pathname}`));
        throw new DoraError(known ? 'INVALID_ARGUMENT' : 'NOT_FOUND', `Cannot ${raw.method} ${url.pathname}: ${known ? 'method not allowed' : 'no such endpoint'}`);
      }
      const request: HttpRequest = {
        method: raw.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        raw,
        get signal() {
          return signal();
        },
      };
      const result = await route(request, res);
      if (res.headersSent) return;
      if (result === undefined) res.writeHead(204).end();
      else sendJson(res, 200, result);
    } catch (error) {
      if (!res.headersSent) res.setHeader(REQUEST_ID_HEADER, requestId());
      sendError(res, error);
    }
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Sends a failure as JSON; if the body had begun, the connection is cut so the client sees a short read. */
export function sendError(res: ServerResponse, error: unknown): void {
  const e = isDoraError(error) ? error : new DoraError('INTERNAL', `Cannot answer the request: ${String(error)}`, { cause: error });
  if (e.code === 'INTERNAL') log.error({ requestId: res.getHeader(REQUEST_ID_HEADER), err: error }, e.message);
  if (res.headersSent) {
    res.destroy(e);
    return;
  }
  sendJson(res, HTTP_STATUS_BY_CODE[e.code], { error: e.toJSON() });
}

/** Reads a JSON request body (at most 1 MiB). Throws INVALID_ARGUMENT. */
export async function readJson(req: HttpRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY) throw new DoraError('INVALID_ARGUMENT', `Cannot read the request body: larger than ${MAX_JSON_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot read the request body: it is not JSON (${String(error)})`);
  }
}

/** A required query parameter. Throws INVALID_ARGUMENT. */
export function requiredParam(req: HttpRequest, name: string): string {
  const value = req.query.get(name);
  if (value === null || value === '') throw new DoraError('INVALID_ARGUMENT', `Cannot ${req.method} ${req.path}: the "${name}" parameter is required`);
  return value;
}

/** An optional whole-number query parameter. Throws INVALID_ARGUMENT. */
export function integerParam(req: HttpRequest, name: string): number | undefined {
  const value = req.query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot ${req.method} ${req.path}: "${name}" must be a whole number ≥ 0, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}
