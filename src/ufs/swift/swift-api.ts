import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { SwiftSessions, type SwiftLogin, type SwiftSession } from './swift-auth.js';
import { SwiftHttpError } from './swift-errors.js';
import { encodeName } from './swift-location.js';

/** One request to Swift's object storage API, below the storage URL. */
export interface SwiftRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
  readonly container: string;
  /** Absent for a request on the container itself. */
  readonly object?: string | undefined;
  readonly query?: Readonly<Record<string, string | number | undefined>> | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** A stream is sent once: a request with one that is refused for its token is not sent again. */
  readonly body?: string | Uint8Array | Readable | AsyncIterable<Uint8Array> | undefined;
  /** Statuses that are answers rather than errors (404 for a HEAD); default 2xx. */
  readonly accept?: readonly number[] | undefined;
  readonly signal: AbortSignal | undefined;
}

export interface SwiftApiSettings {
  readonly maxSockets: number;
  /** How to get a token: a login made with the API's connection pool, or a fixed session. */
  readonly auth: ((dispatcher: Dispatcher) => SwiftLogin) | SwiftSession;
  /** Used instead of the storage URL the identity service names (e.g. an internal address). */
  readonly storageUrl?: string | undefined;
}

/**
 * Swift's object storage API (https://docs.openstack.org/api-ref/object-store/) over one
 * keep-alive undici Agent, with the token of a shared session. Throws SwiftHttpError for error
 * statuses and undici's errors for network failures, untranslated, and never retries but in one
 * case: a request refused with 401 whose body can be sent again goes once more with a renewed
 * token (a token can expire between its check and its use).
 */
export class SwiftApi {
  readonly #agent: Agent;
  readonly #sessions: SwiftSessions;
  readonly #storageUrl: string | undefined;

  constructor(settings: SwiftApiSettings) {
    this.#agent = new Agent({ connections: settings.maxSockets, keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
    this.#sessions = new SwiftSessions(typeof settings.auth === 'function' ? settings.auth(this.#agent) : settings.auth);
    this.#storageUrl = settings.storageUrl;
  }

  /** Sends a request; resolves with the answer (whose body the caller must consume or dump). */
  async call(request: SwiftRequest): Promise<Dispatcher.ResponseData> {
    let session = await this.#sessions.session(request.signal);
    let answer = await this.#send(session, request);
    if (answer.statusCode === 401 && this.#sessions.refused(session) && !isStream(request.body)) {
      await answer.body.dump();
      session = await this.#sessions.session(request.signal);
      answer = await this.#send(session, request);
    }
    const ok = request.accept?.includes(answer.statusCode) ?? (answer.statusCode >= 200 && answer.statusCode < 300);
    if (ok) return answer;
    throw new SwiftHttpError(answer.statusCode, await answer.body.text().catch(() => ''));
  }

  /** Sends a request and reads its answer as text. */
  async text(request: SwiftRequest): Promise<{ status: number; headers: Dispatcher.ResponseData['headers']; text: string }> {
    const answer = await this.call(request);
    return { status: answer.statusCode, headers: answer.headers, text: await answer.body.text() };
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }

  #send(session: SwiftSession, request: SwiftRequest): Promise<Dispatcher.ResponseData> {
    const url = new URL(this.#storageUrl ?? session.storageUrl);
    let path = `${url.pathname.replace(/\/+$/, '')}/${encodeName(request.container)}`;
    if (request.object !== undefined) path += `/${encodeName(request.object)}`;
    const query = Object.entries(request.query ?? {})
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');
    return this.#agent.request({
      origin: url.origin,
      path: query === '' ? path : `${path}?${query}`,
      method: request.method,
      headers: { ...request.headers, 'x-auth-token': session.token },
      body: bodyOf(request.body),
      signal: request.signal ?? null,
    });
  }
}

/** undici sends strings, bytes and Readables; other async iterables go through a Readable. */
function bodyOf(body: SwiftRequest['body']): string | Uint8Array | Readable | null {
  if (body === undefined) return null;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable) return body;
  return Readable.from(body);
}

function isStream(body: SwiftRequest['body']): boolean {
  return body instanceof Readable || (typeof body === 'object' && !(body instanceof Uint8Array) && Symbol.asyncIterator in body);
}
