import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { DoraError } from '../../common/errors.js';
import { GcsTokenError } from './gcs-errors.js';

/** How requests to Cloud Storage are authorized. */
export interface GcsAuth {
  /** The Authorization header for the next request; undefined sends none. Throws like a store call. */
  authorization(signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Forgets `authorization` after the store refused it (HTTP 401), so the next call gets a fresh
   * token. False when nothing fresher can be had (a fixed token, no credentials).
   */
  renew(authorization: string): boolean;
}

/** No credentials: requests go unauthenticated, which only public buckets answer. */
export const ANONYMOUS_AUTH: GcsAuth = { authorization: async () => undefined, renew: () => false };

/** An OAuth 2.0 access token obtained elsewhere (e.g. `gcloud auth print-access-token`); never renewed. */
export function accessTokenAuth(token: string): GcsAuth {
  const header = `Bearer ${token}`;
  return { authorization: async () => header, renew: () => false };
}

/** What dora uses of a service account's JSON key file. */
export interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: KeyObject;
  readonly privateKeyId: string | undefined;
  readonly tokenUri: string;
}

const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';
const ASSERTION_LIFETIME_S = 3600; // the longest Google accepts
const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

/** Reads a service account key (`"type": "service_account"`). Throws INVALID_ARGUMENT as `${context}: cause`. */
export function parseServiceAccountKey(text: string, context: string): ServiceAccountKey {
  const fail = (cause: string): never => {
    throw new DoraError('INVALID_ARGUMENT', `${context}: ${cause}`);
  };
  let key: Record<string, unknown> = {};
  try {
    key = JSON.parse(text) as Record<string, unknown>;
  } catch {
    fail('not JSON');
  }
  if (key['type'] !== 'service_account') fail(`not a service account key (type ${JSON.stringify(key['type'])})`);
  const { client_email: clientEmail, private_key: pem, private_key_id: keyId, token_uri: tokenUri = DEFAULT_TOKEN_URI } = key;
  if (typeof clientEmail !== 'string' || clientEmail === '') fail('"client_email" is missing');
  if (typeof pem !== 'string') fail('"private_key" is missing');
  if (typeof tokenUri !== 'string' || !/^https?:\/\/[^/]+/.test(tokenUri)) fail(`"token_uri" ${JSON.stringify(tokenUri)} is not an http(s) URL`);
  let privateKey: KeyObject | undefined;
  try {
    privateKey = createPrivateKey(pem as string);
  } catch (error) {
    fail(`"private_key" is not a PEM private key (${(error as Error).message})`);
  }
  return { clientEmail: clientEmail as string, privateKey: privateKey as KeyObject, privateKeyId: typeof keyId === 'string' ? keyId : undefined, tokenUri: tokenUri as string };
}

/**
 * A service account: signs a JWT (RS256) with the account's private key and exchanges it at the
 * key's `token_uri` for an access token (OAuth 2.0 JWT bearer grant, RFC 7523), which is cached
 * until shortly before it expires (a tenth of its life, at most 5 minutes, early). Concurrent
 * callers share one exchange; a caller's abort stops its wait, not the exchange.
 */
export class ServiceAccountAuth implements GcsAuth {
  readonly #key: ServiceAccountKey;
  readonly #dispatcher: Dispatcher;
  readonly #now: () => number;
  #token: { header: string; refreshAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(key: ServiceAccountKey, options: { dispatcher: Dispatcher; now?: () => number }) {
    this.#key = key;
    this.#dispatcher = options.dispatcher;
    this.#now = options.now ?? Date.now;
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    if (this.#token !== undefined && this.#now() < this.#token.refreshAt) return this.#token.header;
    this.#pending ??= this.#exchange().finally(() => (this.#pending = undefined));
    return untilAborted(this.#pending, signal);
  }

  renew(authorization: string): boolean {
    if (this.#token?.header === authorization) this.#token = undefined;
    return true;
  }

  async #exchange(): Promise<string> {
    const started = this.#now();
    const url = new URL(this.#key.tokenUri);
    const answer = await this.#dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: this.#assertion(started) }).toString(),
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
    });
    const text = await answer.body.text();
    if (answer.statusCode !== 200) throw new GcsTokenError(answer.statusCode, text, this.#key.clientEmail);
    const { access_token: token, expires_in: lifetime } = parseTokenAnswer(text);
    const lifetimeMs = lifetime * 1000;
    const header = `Bearer ${token}`;
    this.#token = { header, refreshAt: started + lifetimeMs - Math.min(300_000, lifetimeMs / 10) };
    return header;
  }

  /** The signed JWT: header.claims.signature, each base64url. */
  #assertion(nowMs: number): string {
    const iat = Math.floor(nowMs / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(this.#key.privateKeyId === undefined ? {} : { kid: this.#key.privateKeyId }) };
    const claims = { iss: this.#key.clientEmail, scope: SCOPE, aud: this.#key.tokenUri, iat, exp: iat + ASSERTION_LIFETIME_S };
    const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), this.#key.privateKey).toString('base64url')}`;
  }
}

function parseTokenAnswer(text: string): { access_token: string; expires_in: number } {
  let answer: { access_token?: unknown; expires_in?: unknown } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // reported below
  }
  if (typeof answer.access_token !== 'string' || typeof answer.expires_in !== 'number' || !(answer.expires_in > 0)) {
    throw new Error('the token endpoint answered without an access_token and expires_in');
  }
  return { access_token: answer.access_token, expires_in: answer.expires_in };
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
