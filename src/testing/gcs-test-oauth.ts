import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';

export type GcsTestRole = 'writer' | 'reader';

/** Who a bearer token stands for. */
export interface GcsTestPrincipal {
  readonly email: string;
  readonly role: GcsTestRole;
}

/** An OAuth 2.0 error answer: `{"error","error_description"}` with its status. */
export interface OAuthRefusal {
  readonly status: number;
  readonly error: string;
  readonly description: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_S = 3600;
const CLOCK_SKEW_S = 60;

/**
 * The test server's stand-in for Google's OAuth 2.0 token endpoint and its access tokens:
 * service accounts are registered with a public key; the JWT bearer grant (RFC 7523) is
 * checked as Google documents it (RS256 signature by the account's key, `iss` the account,
 * `aud` the token URI, a `scope`, `iat`/`exp` at most an hour apart and current), and answered
 * with an opaque access token that expires after `tokenLifetimeS`.
 */
export class GcsTestOAuth {
  readonly tokenUri: string;
  /** Lifetime of new access tokens, in seconds. */
  tokenLifetimeS = 3600;
  /** Assertions exchanged so far (accepted or not). */
  tokenRequests = 0;
  readonly #accounts = new Map<string, { publicKey: KeyObject; role: GcsTestRole }>();
  readonly #tokens = new Map<string, GcsTestPrincipal & { expiresAt: number }>();

  constructor(tokenUri: string) {
    this.tokenUri = tokenUri;
  }

  /**
   * Makes a service account with a fresh RSA key pair and returns its JSON key file text, as the
   * Cloud console would. Unless `register` is false, the server knows the public key.
   */
  serviceAccountKey(email: string, options: { role?: GcsTestRole; register?: boolean } = {}): string {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    if (options.register !== false) this.#accounts.set(email, { publicKey, role: options.role ?? 'writer' });
    return JSON.stringify({
      type: 'service_account',
      project_id: 'dora-test',
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: String(Date.now()),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: this.tokenUri,
    });
  }

  /** An access token issued directly (as `gcloud auth print-access-token` would give one). */
  issue(principal: GcsTestPrincipal, lifetimeS = this.tokenLifetimeS): string {
    const token = `ya29.test-${randomBytes(24).toString('base64url')}`;
    this.#tokens.set(token, { ...principal, expiresAt: Date.now() + lifetimeS * 1000 });
    return token;
  }

  /** Makes every token issued so far invalid (as if they had all expired). */
  revokeAll(): void {
    this.#tokens.clear();
  }

  /** The principal of an `Authorization` header; undefined for none; 'invalid' for a bad or expired token. */
  principal(authorization: string | undefined): GcsTestPrincipal | 'invalid' | undefined {
    if (authorization === undefined) return undefined;
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    const found = token === undefined ? undefined : this.#tokens.get(token);
    if (found === undefined || found.expiresAt <= Date.now()) return 'invalid';
    return found;
  }

  /** POST to the token URI: the form body's grant, answered with a token or a refusal. */
  exchange(form: URLSearchParams): { access_token: string; expires_in: number; token_type: 'Bearer' } | OAuthRefusal {
    this.tokenRequests++;
    if (form.get('grant_type') !== JWT_BEARER) return refusal('unsupported_grant_type', `Invalid grant_type: ${form.get('grant_type') ?? ''}`);
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return refusal('invalid_request', 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe');
    const [head = '', body = '', signature = ''] = parts;
    let header: { alg?: unknown };
    let claims: { iss?: unknown; scope?: unknown; aud?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString()) as typeof header;
      claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as typeof claims;
    } catch {
      return refusal('invalid_request', 'Invalid JWT: not base64url-encoded JSON');
    }
    if (header.alg !== 'RS256') return refusal('invalid_request', 'Invalid JWT: alg must be RS256');
    const account = typeof claims.iss === 'string' ? this.#accounts.get(claims.iss) : undefined;
    if (account === undefined) return refusal('invalid_grant', 'Invalid grant: account not found');
    if (!verify('RSA-SHA256', Buffer.from(`${head}.${body}`), account.publicKey, Buffer.from(signature, 'base64url'))) {
      return refusal('invalid_grant', 'Invalid JWT Signature.');
    }
    if (claims.aud !== this.tokenUri) return refusal('invalid_grant', `Invalid JWT: aud must be ${this.tokenUri}`);
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').some((s) => s.startsWith('https://www.googleapis.com/auth/'))) {
      return refusal('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
    const now = Date.now() / 1000;
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat || exp - iat > MAX_ASSERTION_LIFETIME_S || iat > now + CLOCK_SKEW_S || exp < now - CLOCK_SKEW_S) {
      return refusal('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    const principal = { email: claims.iss as string, role: account.role };
    return { access_token: this.issue(principal), expires_in: this.tokenLifetimeS, token_type: 'Bearer' };
  }
}

function refusal(error: string, description: string): OAuthRefusal {
  return { status: 400, error, description };
}
