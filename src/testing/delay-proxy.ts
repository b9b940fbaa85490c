import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface DelayProxyOptions {
  /** One-way delay added to every chunk, in each direction (ms); a round trip costs twice this. Default 0. */
  delayMs?: number;
  /**
   * The link's bandwidth in each direction, in bytes per second, shared by every connection
   * (chunks queue for the link one after another); default unlimited.
   */
  bytesPerSecond?: number;
  /**
   * Most bytes one connection may have unacknowledged in one direction: the sender is paused past
   * this until bytes are "acknowledged" one delay after they arrive, as a TCP window does, so one
   * connection moves at most `windowBytes` per round trip. Default 4 MiB (about Linux's default
   * largest receive window).
   */
  windowBytes?: number;
}

const DEFAULT_WINDOW = 4 * 1024 * 1024;

/** One direction of the link, shared by every connection: when its last queued byte leaves. */
interface Link {
  freeAt: number;
}

/**
 * Starts a TCP proxy to `target` (`{ host, port }`) on a free port of 127.0.0.1 that behaves like
 * a slow network link: every chunk is delayed by `delayMs` in each direction, in order, through
 * an optional shared bandwidth cap and a per-connection window. For tests and benchmarks that need
 * a store "far away"; unlike FaultProxy it does not parse HTTP, so it adds no HTTP overhead.
 */
export async function startDelayProxy(target: { host: string; port: number }, options: DelayProxyOptions = {}): Promise<DelayProxy> {
  // Half-open: each direction's end is delayed like its data, so neither side may end the other early.
  const server = createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new DelayProxy(server, target, options);
}

export class DelayProxy {
  /** e.g. `http://127.0.0.1:41234`: the endpoint to give HTTP clients. */
  readonly url: string;
  readonly port: number;
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  readonly #links: { up: Link; down: Link } = { up: { freeAt: 0 }, down: { freeAt: 0 } };
  #delayMs: number;
  readonly #msPerByte: number;
  readonly #windowBytes: number;
  #connections = 0;
  #bytes = 0;

  constructor(server: Server, target: { host: string; port: number }, options: DelayProxyOptions) {
    const { delayMs = 0, bytesPerSecond, windowBytes = DEFAULT_WINDOW } = options;
    if (!(delayMs >= 0)) throw new RangeError(`Cannot delay by ${delayMs} ms: not a number ≥ 0`);
    if (bytesPerSecond !== undefined && !(bytesPerSecond > 0)) throw new RangeError(`Cannot cap the link at ${bytesPerSecond} bytes/s: not a number > 0`);
    if (!(windowBytes > 0)) throw new RangeError(`Cannot use a window of ${windowBytes} bytes: not a number > 0`);
    this.#server = server;
    this.#target = target;
    this.#delayMs = delayMs;
    this.#msPerByte = bytesPerSecond === undefined ? 0 : 1000 / bytesPerSecond;
    this.#windowBytes = windowBytes;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    server.on('connection', (client) => this.#accept(client));
  }

  /** Connections accepted since start. */
  get connections(): number {
    return this.#connections;
  }

  /** Bytes forwarded since start, both directions. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The one-way delay for chunks that arrive from now on. */
  setDelay(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Cannot delay by ${ms} ms: not a number ≥ 0`);
    this.#delayMs = ms;
  }

  /** Closes every connection and stops listening. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #accept(client: Socket): void {
    this.#connections += 1;
    const upstream = connect({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true });
    const destroyBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.once('error', destroyBoth);
      socket.once('close', () => this.#sockets.delete(socket));
    }
    this.#pipe(client, upstream, this.#links.up);
    this.#pipe(upstream, client, this.#links.down);
  }

  /**
   * Moves `from`'s bytes to `to` through `link`: each chunk leaves once the link has carried the
   * chunks before it (at the capped rate) plus the delay; its window credit returns one delay
   * later still (the acknowledgement's trip back). The end of the stream travels the same way.
   */
  #pipe(from: Socket, to: Socket, link: Link): void {
    type Entry = { readonly chunk: Buffer | null; readonly dueAt: number };
    const pending: Entry[] = [];
    const unacked: { readonly bytes: number; readonly ackAt: number }[] = [];
    let head = 0; // index of the first pending entry (shifting arrays per chunk is O(n))
    let ackHead = 0;
    let inFlight = 0;
    let timer: NodeJS.Timeout | undefined;
    let blocked = false; // `to` asked us to wait for 'drain'

    const schedule = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (to.destroyed) return;
      const next = Math.min(blocked ? Infinity : (pending[head]?.dueAt ?? Infinity), unacked[ackHead]?.ackAt ?? Infinity);
      if (next === Infinity) return;
      timer = setTimeout(flush, Math.max(0, next - performance.now()));
    };
    const flush = (): void => {
      timer = undefined;
      const now = performance.now();
      while (!blocked && head < pending.length && pending[head]!.dueAt <= now) {
        const { chunk } = pending[head++]!;
        if (chunk === null) {
          to.end();
          continue;
        }
        this.#bytes += chunk.length;
        unacked.push({ bytes: chunk.length, ackAt: now + this.#delayMs });
        if (!to.write(chunk)) {
          blocked = true;
          to.once('drain', () => {
            blocked = false;
            flush();
          });
        }
      }
      while (ackHead < unacked.length && unacked[ackHead]!.ackAt <= now) inFlight -= unacked[ackHead++]!.bytes;
      if (head > 1024 && head * 2 > pending.length) {
        pending.splice(0, head);
        head = 0;
      }
      if (ackHead > 1024 && ackHead * 2 > unacked.length) {
        unacked.splice(0, ackHead);
        ackHead = 0;
      }
      if (inFlight < this.#windowBytes && from.isPaused()) from.resume();
      schedule();
    };
    const enqueue = (chunk: Buffer | null): void => {
      const now = performance.now();
      const sent = Math.max(now, link.freeAt) + (chunk?.length ?? 0) * this.#msPerByte;
      if (chunk !== null && this.#msPerByte > 0) link.freeAt = sent;
      const last = pending[pending.length - 1];
      pending.push({ chunk, dueAt: Math.max(sent + this.#delayMs, head < pending.length && last !== undefined ? last.dueAt : 0) });
      if (chunk !== null) {
        inFlight += chunk.length;
        if (inFlight >= this.#windowBytes) from.pause();
      }
      if (timer === undefined) schedule();
    };
    let ended = false;
    from.on('data', (chunk: Buffer) => enqueue(chunk));
    from.once('end', () => {
      ended = true;
      enqueue(null);
    });
    // Closed without an end (destroyed, reset): the link is gone, so is the other side.
    from.once('close', () => {
      if (!ended) to.destroy();
    });
    to.once('close', () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    });
  }
}
