import type { Dispatcher } from 'undici';
import { header, type SwiftLogin } from './swift-auth.js';
import { SwiftHttpError, SwiftProtocolError } from './swift-errors.js';

export type KeystoneInterface = 'public' | 'internal' | 'admin';

/** A user's password and the project to scope the token to (Keystone's identity API v3). */
export interface KeystoneSettings {
  /** The identity API's root, ending in `/v3`. */
  readonly authUrl: string;
  readonly user: string;
  readonly password: string;
  /** The user's domain name; Keystone's own is "Default". */
  readonly userDomain: string;
  readonly project: string;
  readonly projectDomain: string;
  /** The catalog region of the object store; default the first one listed. */
  readonly region?: string | undefined;
  readonly interface: KeystoneInterface;
}

/** The part of a token's catalog dora reads (https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization). */
interface CatalogEntry {
  type?: unknown;
  endpoints?: { interface?: unknown; region?: unknown; region_id?: unknown; url?: unknown }[];
}

/**
 * Keystone v3 password authentication with a project scope: `POST {authUrl}/auth/tokens`;
 * the token is the `X-Subject-Token` header, the storage URL the catalog's `object-store`
 * endpoint of the wanted interface (and region).
 */
export function keystoneLogin(dispatcher: Dispatcher, settings: KeystoneSettings): SwiftLogin {
  const service = `Keystone at ${settings.authUrl} for user ${JSON.stringify(settings.user)}`;
  const url = new URL(`${settings.authUrl.replace(/\/+$/, '')}/auth/tokens`);
  const body = JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: settings.user, domain: { name: settings.userDomain }, password: settings.password } },
      },
      scope: { project: { name: settings.project, domain: { name: settings.projectDomain } } },
    },
  });
  return async (signal) => {
    const answer = await dispatcher.request({
      origin: url.origin,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
      signal,
    });
    const text = await answer.body.text();
    if (answer.statusCode < 200 || answer.statusCode >= 300) throw new SwiftHttpError(answer.statusCode, keystoneMessage(text), service);
    const token = header(answer.headers, 'x-subject-token');
    let parsed: { token?: { catalog?: unknown; expires_at?: unknown } } | undefined;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (token === undefined || parsed?.token === undefined) {
      throw new SwiftProtocolError('UNAVAILABLE', `${service} answered without X-Subject-Token or a token body`);
    }
    const storageUrl = objectStoreUrl(parsed.token.catalog, settings, service);
    const expires = typeof parsed.token.expires_at === 'string' ? Date.parse(parsed.token.expires_at) : NaN;
    return { token, storageUrl, expiresAtMs: Number.isFinite(expires) ? expires : undefined };
  };
}

/**
 * The URL of the catalog's object-store endpoint with the wanted interface, in the wanted region
 * (matched against `region_id` and the older `region`) or else the first listed. Throws
 * INVALID_ARGUMENT naming what the catalog does offer.
 */
export function objectStoreUrl(catalog: unknown, want: { region?: string | undefined; interface: KeystoneInterface }, service: string): string {
  const entries = Array.isArray(catalog) ? (catalog as CatalogEntry[]) : [];
  const endpoints = entries.filter((e) => e.type === 'object-store').flatMap((e) => (Array.isArray(e.endpoints) ? e.endpoints : []));
  const found = endpoints.find((e) => e.interface === want.interface && typeof e.url === 'string' && (want.region === undefined || e.region_id === want.region || e.region === want.region));
  if (found !== undefined) return found.url as string;
  const offered = endpoints.map((e) => `${String(e.interface)} in ${String(e.region_id ?? e.region)}`);
  const wanted = `object-store endpoint with interface "${want.interface}"${want.region === undefined ? '' : ` in region "${want.region}"`}`;
  throw new SwiftProtocolError('INVALID_ARGUMENT', `the catalog from ${service} has no ${wanted} (${offered.length === 0 ? 'it lists no object store' : `it lists: ${offered.join(', ')}`})`);
}

/** Keystone's errors are `{"error": {"code", "title", "message"}}`: the message. */
function keystoneMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message : text;
  } catch {
    return text;
  }
}
