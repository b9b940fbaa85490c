import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { DoraError } from '../common/errors.js';
import { withOnwardHeaders } from '../observe/onward-headers.js';
import { errorFromBody, isNetworkFailure, requestError } from './remote-error.js';

/** A server the client talks to, named in error messages as e.g. `worker http://127.0.0.1:29999`. */
export interface Peer {
  readonly role: 'worker' | 'coordinator';
  /** Base URL; a path prefix, if any, is kept. */
  readonly url: string;
}

export interface HttpCall {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** e.g. '/v1/stat' */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: string | Uint8Array | Readable;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  /** What the call attempts, the head of every error message: `Cannot stat "/x"`. */
  readonly attempt: string;
  /** False for calls that must not be sent twice (rename); default true. */
  readonly idempotent?: boolean;
}

/** An answer with a 2xx status; the body must be consumed or destroyed. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Dispatcher.ResponseData['body'];
}

export interface HttpTransportOptions {
  /** How long opening a connection may take; default 5 s. */
  readonly connectTimeoutMs?: number;
  /** How long a peer may stay silent waiting for headers or between body chunks; default 2 min. */
  readonly idleTimeoutMs?: number;
}

/** Error bodies longer than this are cut: they are for messages only. */
const MAX_ERROR_BODY = 64 * 1024;

/** Codes of a pooled connection the peer closed while it sat idle: worth one immediate retry. */
const STALE_CONNECTION_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * HTTP calls to dora servers over one keep-alive connection pool. Answers with an error status
 * become the DoraError their body describes; a peer that cannot be reached becomes UNAVAILABLE
 * (see `isUnreachable`); an abort becomes CANCELLED.
 */
export class HttpTransport {
  readonly #agent: Agent;

  constructor(options: HttpTransportOptions = {}) {
    const idle = options.idleTimeoutMs ?? 120_000;
    this.#agent = new Agent({
      connect: { timeout: options.connectTimeoutMs ?? 5_000 },
      headersTimeout: idle,
      bodyTimeout: idle,
      keepAliveTimeout: 10_000,
    });
  }

  /** Sends `call` and resolves once a 2xx answer's headers arrive. */
  async send(peer: Peer, call: HttpCall): Promise<HttpAnswer> {
    const server = `${peer.role} ${peer.url}`;
    const replayable = call.idempotent !== false && (call.body === undefined || typeof call.body === 'string' || call.body instanceof Uint8Array);
    let answer: Dispatcher.ResponseData;
    try {
      answer = await this.#request(peer, call).catch((error: unknown) => {
        if (!replayable || call.signal?.aborted === true || !isStaleConnection(error)) throw error;
        return this.#request(peer, call);
      });
    } catch (error) {
      throw requestError(error, call.attempt, server, call.signal);
    }
    if (answer.statusCode >= 200 && answer.statusCode < 300) return { status: answer.statusCode, headers: answer.headers, body: answer.body };
    throw await errorFromAnswer(answer, call, server);
  }

  /** `send`, then the answer's JSON body. */
  async json<T>(peer: Peer, call: HttpCall): Promise<T> {
    const answer = await this.send(peer, call);
    try {
      return (await answer.body.json()) as T;
    } catch (error) {
      if (isNetworkFailure(error) || call.signal?.aborted === true) throw requestError(error, call.attempt, `${peer.role} ${peer.url}`, call.signal);
      throw new DoraError('INTERNAL', `${call.attempt}: ${peer.role} ${peer.url} answered with malformed JSON`, { cause: error });
    }
  }

  /** `send` for calls answered without a body (204). */
  async empty(peer: Peer, call: HttpCall): Promise<void> {
    const answer = await this.send(peer, call);
    await answer.body.dump();
  }

  /** Closes every pooled connection; calls afterwards fail with FAILED_PRECONDITION. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  #request(peer: Peer, call: HttpCall): Promise<Dispatcher.ResponseData> {
    const base = new URL(peer.url);
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) query.set(name, String(value));
    const search = query.size === 0 ? '' : `?${query.toString()}`;
    // The request being served and the trace it belongs to travel on to the worker.
    const headers = withOnwardHeaders({ ...call.headers });
    return this.#agent.request({
      origin: base.origin,
      path: `${base.pathname.replace(/\/+$/, '')}${call.path}${search}`,
      method: call.method,
      headers,
      body: call.body ?? null,
      signal: call.signal ?? null,
      idempotent: call.idempotent !== false && call.body === undefined,
    });
  }
}

function isStaleConnection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE_CONNECTION_CODES.has(code);
}

async function errorFromAnswer(answer: Dispatcher.ResponseData, call: HttpCall, server: string): Promise<DoraError> {
  let text = '';
  try {
    for await (const chunk of answer.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > MAX_ERROR_BODY) break;
    }
  } catch {
    // The status alone still says what happened.
  } finally {
    answer.body.destroy();
  }
  return errorFromBody(answer.statusCode, text, call.attempt, server);
}
