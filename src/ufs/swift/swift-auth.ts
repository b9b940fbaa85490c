import type { Dispatcher } from 'undici';
import { SwiftHttpError, SwiftProtocolError } from './swift-errors.js';

/** A token and the storage URL (`https://host/v1/AUTH_account`) it is good for. */
export interface SwiftSession {
  readonly token: string;
  readonly storageUrl: string;
  /** When the identity service says the token stops working (ms since the epoch). */
  readonly expiresAtMs?: number | undefined;
}

/** Asks an identity service for a new session. Throws SwiftHttpError (a refusal) or a network error. */
export type SwiftLogin = (signal: AbortSignal) => Promise<SwiftSession>;

/** How long one login may take; it is shared by every waiting call, so no one caller's signal ends it. */
const LOGIN_TIMEOUT_MS = 30_000;
/** A token this close to its expiry is renewed before use rather than refused mid-request. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * The session every call of one store uses. Logs in lazily, once for all the calls waiting at
 * that moment; a failed login is not kept (the next call tries again). A token the store refuses
 * (401) is renewed once, by whichever call notices first; a token near its expiry is renewed
 * before use. A fixed token (no login) is never renewed.
 */
export class SwiftSessions {
  readonly #login: SwiftLogin | undefined;
  #pending: Promise<SwiftSession> | undefined;
  #current: SwiftSession | undefined;
  #renewAtMs = Infinity;

  /** `login`: how to get a session; or a fixed session made elsewhere (a pre-made token). */
  constructor(login: SwiftLogin | SwiftSession) {
    if (typeof login === 'function') {
      this.#login = login;
    } else {
      this.#login = undefined;
      this.#current = login;
      this.#pending = Promise.resolve(login);
    }
  }

  /** The session to use now, logging in if there is none. */
  async session(signal: AbortSignal | undefined): Promise<SwiftSession> {
    const session = await untilAborted(this.#pending ?? this.#start(), signal);
    if (this.#login === undefined || session !== this.#current || Date.now() < this.#renewAtMs) return session;
    return untilAborted(this.#start(), signal);
  }

  /**
   * The store refused `stale` (401): forgets it, unless another call already replaced it.
   * Returns whether asking for a session again can help (false for a fixed token).
   */
  refused(stale: SwiftSession): boolean {
    if (this.#login === undefined) return false;
    if (this.#current === stale) {
      this.#current = undefined;
      this.#pending = undefined;
    }
    return true;
  }

  #start(): Promise<SwiftSession> {
    const login = this.#login;
    if (login === undefined) throw new Error('a fixed session has no login');
    this.#renewAtMs = Infinity; // while renewing, the old token serves the calls that have it
    const pending = login(AbortSignal.timeout(LOGIN_TIMEOUT_MS)).then((session) => {
      if (this.#pending === pending) {
        this.#current = session;
        this.#renewAtMs = renewalTime(session);
      }
      return session;
    });
    this.#pending = pending;
    pending.catch(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    return pending;
  }
}

/** When to renew a token: a minute before it expires, or half-way through a shorter life. */
function renewalTime(session: SwiftSession): number {
  if (session.expiresAtMs === undefined) return Infinity;
  const life = session.expiresAtMs - Date.now();
  return session.expiresAtMs - Math.min(EXPIRY_MARGIN_MS, life / 2);
}

/** TempAuth (or any v1 auth, such as swauth): `GET authUrl` with X-Auth-User and X-Auth-Key. */
export function tempAuthLogin(dispatcher: Dispatcher, settings: { authUrl: string; user: string; key: string }): SwiftLogin {
  const service = `TempAuth at ${settings.authUrl} for user ${JSON.stringify(settings.user)}`;
  const url = new URL(settings.authUrl);
  return async (signal) => {
    const answer = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers: { 'x-auth-user': settings.user, 'x-auth-key': settings.key },
      signal,
    });
    const body = await answer.body.text();
    if (answer.statusCode < 200 || answer.statusCode >= 300) throw new SwiftHttpError(answer.statusCode, body, service);
    const token = header(answer.headers, 'x-auth-token') ?? header(answer.headers, 'x-storage-token');
    const storageUrl = header(answer.headers, 'x-storage-url');
    if (token === undefined || storageUrl === undefined) {
      throw new SwiftProtocolError('UNAVAILABLE', `${service} answered without X-Auth-Token and X-Storage-Url`);
    }
    const expiresIn = Number(header(answer.headers, 'x-auth-token-expires'));
    return { token, storageUrl, expiresAtMs: Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined };
  };
}

/** Waits for `promise`, or rejects with the signal's reason once it is aborted. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** A response header as one string. */
export function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
