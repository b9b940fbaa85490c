import type { HttpCall, HttpTransport, Peer } from './http-transport.js';

export interface Signalled {
  signal?: AbortSignal | undefined;
}

/** What each API of the coordinator (`client.jobs`, `client.cluster`, the mount and node calls) is built on: calls to it. */
export abstract class CoordinatorCalls {
  readonly #transport: HttpTransport;
  readonly #peer: Peer;

  constructor(transport: HttpTransport, peer: Peer) {
    this.#transport = transport;
    this.#peer = peer;
  }

  /** A call answered with JSON. */
  protected json<T>(call: HttpCall): Promise<T> {
    return this.#transport.json<T>(this.#peer, call);
  }

  /** A call answered without a body. */
  protected empty(call: HttpCall): Promise<void> {
    return this.#transport.empty(this.#peer, call);
  }
}
