import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a fault's `match` sees of a request. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query as the client sent them: `/bucket/key?list-type=2&continuation-token=…`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface FaultOptions {
  /** Only requests this accepts take the fault (and count toward its n); default every request. */
  match?: ((request: ProxiedRequest) => boolean) | undefined;
}

export interface FailOptions extends FaultOptions {
  /** Default 503. */
  status?: number | undefined;
  /** The S3 error code in the XML body; default `SlowDown`. */
  code?: string | undefined;
}

export interface FaultProxyOptions {
  /** Latency added before each request is handled; default 0. */
  delayMs?: number;
}

type Fault =
  | { readonly kind: 'fail'; readonly status: number; readonly code: string }
  | { readonly kind: 'stall' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'cut'; readonly afterBytes: number }
  | { readonly kind: 'stall-after'; readonly afterBytes: number };

interface PendingFault {
  readonly fault: Fault;
  readonly match: ((request: ProxiedRequest) => boolean) | undefined;
  remaining: number;
}

const LOG_LIMIT = 10_000;

/** Connection-level headers a proxy must not pass on (RFC 9110 §7.6.1), and `expect`, which it answers itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect']);

/**
 * Starts an HTTP reverse proxy to `target` (`http://127.0.0.1:port`) on a free port of
 * 127.0.0.1, which injects the faults a real object store shows: throttling errors, requests
 * that never answer, connections reset or cut mid-body, and latency. For tests and benchmarks.
 */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new FaultProxy(server, new URL(target), options.delayMs ?? 0);
}

/**
 * Forwards every request to the target unchanged (the client's Host header included: S3
 * signatures cover it), streaming bodies both ways over a keep-alive agent, except those a
 * pending fault claims. Each request takes at most one fault: the oldest pending one it matches.
 */
export class FaultProxy {
  /** e.g. `http://127.0.0.1:41234`: the endpoint to give clients. */
  readonly url: string;
  readonly #server: Server;
  readonly #target: URL;
  readonly #agent = new Agent({ keepAlive: true });
  readonly #faults: PendingFault[] = [];
  #delayMs: number;
  #requests = 0;
  readonly #log: ProxiedRequest[] = [];

  constructor(server: Server, target: URL, delayMs: number) {
    this.#server = server;
    this.#target = target;
    this.#delayMs = delayMs;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Idle client connections stay open until stop(): a server closing one while the client
    // reuses it would be a fault nobody asked for.
    server.keepAliveTimeout = 0;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res));
  }

  /** The most recent requests (up to 10,000), oldest first: to count what reached the store. */
  get log(): readonly ProxiedRequest[] {
    return this.#log;
  }

  /** Requests seen since the proxy started, faulted or not. */
  get requests(): number {
    return this.#requests;
  }

  /** Answers the next `n` requests with an S3-style XML error (default 503 SlowDown). */
  failNext(n: number, status?: number, code?: string): void;
  failNext(n: number, options: FailOptions): void;
  failNext(n: number, statusOrOptions: number | FailOptions = {}, code?: string): void {
    const o = typeof statusOrOptions === 'number' ? { status: statusOrOptions, code } : statusOrOptions;
    this.#add(n, { kind: 'fail', status: o.status ?? 503, code: o.code ?? 'SlowDown' }, o);
  }

  /** Accepts the next `n` requests (reading their bodies) and never answers them, until stop(). */
  stallNext(n: number, options: FaultOptions = {}): void {
    this.#add(n, { kind: 'stall' }, options);
  }

  /** Destroys the connection of each of the next `n` requests as soon as it arrives (a TCP reset). */
  resetNext(n: number, options: FaultOptions = {}): void {
    this.#add(n, { kind: 'reset' }, options);
  }

  /**
   * Forwards the next request, but closes its connection once `afterBytes` bytes of the response
   * body are sent (0: right after the headers). A shorter body goes through whole.
   */
  cutNextResponse(afterBytes: number, options: FaultOptions = {}): void {
    this.#add(1, { kind: 'cut', afterBytes }, options);
  }

  /**
   * Forwards the next request, but sends nothing more after `afterBytes` bytes of the response
   * body, keeping the connection open until stop(). A shorter body goes through whole.
   */
  stallResponseAfter(afterBytes: number, options: FaultOptions = {}): void {
    this.#add(1, { kind: 'stall-after', afterBytes }, options);
  }

  /** Latency added before each request is handled from now on; 0 for none. */
  setDelay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Drops every pending fault (the delay stays). */
  reset(): void {
    this.#faults.length = 0;
  }

  /** Closes every connection, stalled ones included, and stops listening. */
  async stop(): Promise<void> {
    this.reset();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    this.#agent.destroy();
    await closed;
  }

  #add(n: number, fault: Fault, options: FaultOptions): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Cannot add a ${fault.kind} fault for ${n} requests: not a positive integer`);
    if ('afterBytes' in fault && !(Number.isInteger(fault.afterBytes) && fault.afterBytes >= 0)) {
      throw new RangeError(`Cannot add a ${fault.kind} fault after ${fault.afterBytes} bytes: not a non-negative integer`);
    }
    this.#faults.push({ fault, match: options.match, remaining: n });
  }

  /** The fault the request takes, if any, counting it down. */
  #take(req: IncomingMessage): Fault | undefined {
    const seen: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    const index = this.#faults.findIndex((f) => f.match === undefined || f.match(seen));
    const pending = this.#faults[index];
    if (pending === undefined) return undefined;
    if (--pending.remaining === 0) this.#faults.splice(index, 1);
    return pending.fault;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#requests += 1;
    this.#log.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    if (this.#log.length > LOG_LIMIT) this.#log.splice(0, this.#log.length - LOG_LIMIT);
    const fault = this.#take(req);
    if (this.#delayMs > 0) await sleep(this.#delayMs);
    if (res.destroyed) return;
    switch (fault?.kind) {
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'stall':
        req.resume();
        return;
      case 'fail':
        req.resume();
        req.once('end', () => sendError(res, fault.status, fault.code));
        return;
      default:
        this.#forward(req, res, fault);
    }
  }

  #forward(req: IncomingMessage, res: ServerResponse, fault: Extract<Fault, { afterBytes: number }> | undefined): void {
    const upstream = request({
      protocol: this.#target.protocol,
      hostname: this.#target.hostname,
      port: this.#target.port,
      method: req.method,
      path: req.url,
      headers: withoutHopByHop(req.rawHeaders),
      agent: this.#agent,
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.rawHeaders));
      if (fault === undefined) {
        answer.pipe(res);
        return;
      }
      sendUpTo(answer, res, fault.afterBytes, () => {
        answer.destroy(); // releases the target's connection
        if (fault.kind === 'cut') res.socket?.destroySoon();
        // 'stall-after': the client's connection stays open and silent until stop().
      });
    });
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else sendError(res, 502, 'BadGateway');
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}

/**
 * Pipes `source` into `sink` until `limit` bytes of it have gone, then stops reading it and
 * calls `then` once they are written; a shorter source is piped to its end.
 */
function sendUpTo(source: IncomingMessage, sink: ServerResponse, limit: number, then: () => void): void {
  if (limit === 0) {
    sink.flushHeaders();
    then();
    return;
  }
  let sent = 0;
  const onData = (chunk: Buffer): void => {
    const piece = chunk.subarray(0, limit - sent);
    sent += piece.byteLength;
    if (sent === limit) {
      source.off('data', onData);
      source.pause();
      sink.write(piece, () => then());
    } else if (!sink.write(piece)) {
      source.pause();
      sink.once('drain', () => source.resume());
    }
  };
  source.on('data', onData);
  source.on('end', () => {
    if (sent < limit) sink.end();
  });
}

function sendError(res: ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>Injected by the fault proxy</Message><RequestId>fault-proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A raw header list (name, value, name, value…) without connection-level headers. */
function withoutHopByHop(raw: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!HOP_BY_HOP.has(name.toLowerCase())) kept.push(name, raw[i + 1] as string);
  }
  return kept;
}
