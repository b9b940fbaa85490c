import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import { HttpStatusError } from './http-errors.js';

export interface HttpClientSettings {
  /** Most connections per origin. */
  readonly maxSockets: number;
  /** Sent with every request to the store's own origin (never to another one a redirect leads to). */
  readonly headers: Readonly<Record<string, string>>;
  /** Accept any TLS certificate (a self-signed one). */
  readonly insecure: boolean;
}

/** A server's answer. The caller consumes or destroys `body`. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable & { dump(): Promise<void> };
  /**
   * The server redirected the URL to itself with a '/' appended: it names a directory (nginx,
   * Apache and Python's http.server all answer so). The body is already drained.
   */
  readonly directory: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * GET and HEAD over one keep-alive undici Agent: follows redirects (at most five) except the one
 * that marks a directory, and sends the configured headers to the store's origin only. Throws
 * undici's errors for network failures, untranslated (see `fromHttpError`); never retries.
 */
export class HttpClient {
  readonly #agent: Agent;
  readonly #origin: string;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(origin: string, settings: HttpClientSettings) {
    this.#agent = new Agent({
      connections: settings.maxSockets,
      keepAliveTimeout: 10_000,
      connect: { timeout: 10_000, ...(settings.insecure ? { rejectUnauthorized: false } : {}) },
    });
    this.#origin = origin;
    this.#headers = settings.headers;
  }

  async request(method: 'GET' | 'HEAD', url: URL, options: { headers?: Record<string, string>; signal: AbortSignal | undefined }): Promise<HttpAnswer> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const own = current.origin === this.#origin ? this.#headers : {};
      const answer = await this.#agent.request({
        origin: current.origin,
        path: current.pathname + current.search,
        method,
        headers: { 'accept-encoding': 'identity', ...own, ...options.headers },
        signal: options.signal,
      });
      const location = firstHeader(answer.headers, 'location');
      if (!REDIRECTS.has(answer.statusCode) || location === undefined) {
        return { status: answer.statusCode, headers: answer.headers, body: answer.body, directory: false };
      }
      await answer.body.dump();
      const next = new URL(location, current);
      if (decodedPath(next) === `${decodedPath(current)}/`) {
        return { status: answer.statusCode, headers: answer.headers, body: answer.body, directory: true };
      }
      if (hop === MAX_REDIRECTS) throw new HttpStatusError(answer.statusCode, `more than ${MAX_REDIRECTS} redirects`);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpStatusError(answer.statusCode, `a redirect to ${next.protocol} URL`);
      current = next;
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}

/** The first value of a header (names in lower case), or undefined. */
export function firstHeader(headers: HttpAnswer['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodedPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}
