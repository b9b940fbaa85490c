import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A user the test Keystone knows, and the one project it may scope tokens to. */
export interface KeystoneTestUser {
  readonly name: string;
  readonly password: string;
  /** Domain name; default "Default" (id "default"). */
  readonly domain?: string;
  readonly project: string;
  readonly projectDomain?: string;
}

export interface KeystoneEndpoint {
  readonly interface: 'public' | 'internal' | 'admin';
  readonly region: string;
  readonly url: string;
}

export interface KeystoneTestServerOptions {
  /** The real Swift's TempAuth, which issues the tokens this server hands out as subject tokens. */
  readonly tempAuth: { readonly authUrl: string; readonly user: string; readonly key: string };
  readonly users: readonly KeystoneTestUser[];
  /**
   * The object-store endpoints of the catalog; default public and internal in "RegionOne", both
   * at the storage URL TempAuth names.
   */
  readonly endpoints?: readonly KeystoneEndpoint[];
}

export interface KeystoneTestServer {
  /** The identity API's root: `http://127.0.0.1:<port>/v3`. */
  readonly authUrl: string;
  /** Token requests answered so far, successful or not. */
  readonly tokenRequests: number;
  stop(): Promise<void>;
}

/**
 * A test server for the part of OpenStack Keystone's identity API v3 that dora's swift://
 * backend uses (https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization):
 * `POST /v3/auth/tokens` with the `password` method (user by name and domain name or id, or by
 * id) and a project scope (by name and domain, or by id) → 201 with the token in
 * `X-Subject-Token` and a token body with `expires_at` and a catalog whose `object-store`
 * endpoints lead to the real Swift; a wrong user, password or project → 401; a malformed body
 * → 400. The subject token is a real TempAuth token the server gets from the real Swift, so
 * Swift accepts it. No Keystone server runs on these machines; everything else of Keystone
 * (token validation, unscoped tokens, other methods, the admin API) is absent.
 */
export async function startKeystoneTestServer(options: KeystoneTestServerOptions): Promise<KeystoneTestServer> {
  let tokenRequests = 0;
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, keystoneError(500, 'Internal Server Error', String(error))));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v3/auth/tokens') return send(res, 404, keystoneError(404, 'Not Found', `Could not find ${path}.`));
    if (req.method !== 'POST') return send(res, 405, keystoneError(405, 'Method Not Allowed', `${req.method} is not allowed.`));
    tokenRequests++;
    const auth = parseAuth(body);
    if (typeof auth === 'string') return send(res, 400, keystoneError(400, 'Bad Request', auth));
    const user = options.users.find((u) => matchesUser(u, auth) && u.password === auth.password && matchesProject(u, auth));
    if (user === undefined) return send(res, 401, keystoneError(401, 'Unauthorized', 'The request you have made requires authentication.'));
    const { token, storageUrl, expiresInS } = await tempAuthToken(options.tempAuth);
    const endpoints = options.endpoints ?? [
      { interface: 'public', region: 'RegionOne', url: storageUrl },
      { interface: 'internal', region: 'RegionOne', url: storageUrl },
    ];
    const now = Date.now();
    send(res, 201, { token: tokenBody(user, endpoints, now, now + expiresInS * 1000) }, { 'x-subject-token': token });
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    authUrl: `http://127.0.0.1:${port}/v3`,
    get tokenRequests() {
      return tokenRequests;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** What a password authentication request asks for. */
interface PasswordAuth {
  readonly user: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  readonly password: string;
  readonly project: { id?: string; name?: string; domain?: { id?: string; name?: string } } | undefined;
}

/** The request's password authentication, or what is wrong with it (a 400's message). */
function parseAuth(body: string): PasswordAuth | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'The request body is not JSON.';
  }
  const auth = (parsed as { auth?: { identity?: { methods?: unknown; password?: { user?: PasswordAuth['user'] & { password?: unknown } } }; scope?: { project?: PasswordAuth['project'] } } })
    .auth;
  const methods = auth?.identity?.methods;
  if (!Array.isArray(methods) || !methods.includes('password')) return "Expecting to find identity.methods with 'password' in auth.";
  const user = auth?.identity?.password?.user;
  if (user === undefined || typeof user.password !== 'string') return 'Expecting to find password.user.password in identity.';
  if (user.id === undefined && (user.name === undefined || user.domain === undefined)) return 'A user needs an id, or a name and a domain.';
  const project = auth?.scope?.project;
  if (project !== undefined && project.id === undefined && (project.name === undefined || project.domain === undefined)) return 'A project needs an id, or a name and a domain.';
  return { user, password: user.password, project };
}

function domainMatches(wanted: { id?: string; name?: string } | undefined, name: string): boolean {
  return wanted !== undefined && (wanted.name === name || wanted.id === domainId(name));
}

function matchesUser(user: KeystoneTestUser, auth: PasswordAuth): boolean {
  if (auth.user.id !== undefined) return auth.user.id === userId(user);
  return auth.user.name === user.name && domainMatches(auth.user.domain, user.domain ?? 'Default');
}

function matchesProject(user: KeystoneTestUser, auth: PasswordAuth): boolean {
  const project = auth.project;
  if (project === undefined) return false; // unscoped tokens have no catalog: not implemented
  if (project.id !== undefined) return project.id === projectId(user);
  return project.name === user.project && domainMatches(project.domain, user.projectDomain ?? 'Default');
}

function tokenBody(user: KeystoneTestUser, endpoints: readonly KeystoneEndpoint[], issuedAt: number, expiresAt: number): unknown {
  const domain = (name: string): { id: string; name: string } => ({ id: domainId(name), name });
  return {
    methods: ['password'],
    user: { id: userId(user), name: user.name, domain: domain(user.domain ?? 'Default'), password_expires_at: null },
    project: { id: projectId(user), name: user.project, domain: domain(user.projectDomain ?? 'Default') },
    is_domain: false,
    roles: [{ id: 'member-role', name: 'member' }],
    audit_ids: [randomUUID().replace(/-/g, '').slice(0, 22)],
    issued_at: keystoneTime(issuedAt),
    expires_at: keystoneTime(expiresAt),
    catalog: [
      {
        id: 'swift-service',
        type: 'object-store',
        name: 'swift',
        endpoints: endpoints.map((e, i) => ({ id: `swift-${i}`, interface: e.interface, region_id: e.region, region: e.region, url: e.url })),
      },
    ],
  };
}

/** Keystone writes times as `2015-11-06T15:32:17.000000Z`. */
function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function domainId(name: string): string {
  return name === 'Default' ? 'default' : `domain-${name}`;
}

function userId(user: KeystoneTestUser): string {
  return `user-${user.name}`;
}

function projectId(user: KeystoneTestUser): string {
  return `project-${user.project}`;
}

function keystoneError(code: number, title: string, message: string): unknown {
  return { error: { code, title, message } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A token from the real Swift's TempAuth (TempAuth hands out the same one until it expires). */
function tempAuthToken(tempAuth: KeystoneTestServerOptions['tempAuth']): Promise<{ token: string; storageUrl: string; expiresInS: number }> {
  return new Promise((resolve, reject) => {
    const req = request(tempAuth.authUrl, { headers: { 'x-auth-user': tempAuth.user, 'x-auth-key': tempAuth.key } }, (res) => {
      res.resume();
      const token = res.headers['x-auth-token'];
      const storageUrl = res.headers['x-storage-url'];
      if (res.statusCode !== 200 || typeof token !== 'string' || typeof storageUrl !== 'string') {
        reject(new Error(`TempAuth at ${tempAuth.authUrl} answered HTTP ${res.statusCode}`));
        return;
      }
      resolve({ token, storageUrl, expiresInS: Number(res.headers['x-auth-token-expires'] ?? 3600) });
    });
    req.on('error', reject);
    req.end();
  });
}
