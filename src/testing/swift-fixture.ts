import { request } from 'undici';
import type { SwiftServerHandle } from './swift-s3-server.js';

/** Mount options that point the swift:// backend at a test Swift through TempAuth. */
export function swiftTempAuthOptions(server: SwiftServerHandle): Record<string, string> {
  return { authUrl: server.authUrl, user: server.user, key: server.key };
}

/** A TempAuth token of a test Swift and the storage URL it is good for. */
export async function swiftToken(server: SwiftServerHandle): Promise<{ token: string; storageUrl: string }> {
  const answer = await request(server.authUrl, { headers: { 'x-auth-user': server.user, 'x-auth-key': server.key } });
  await answer.body.dump();
  const token = answer.headers['x-auth-token'];
  const storageUrl = answer.headers['x-storage-url'];
  if (answer.statusCode !== 200 || typeof token !== 'string' || typeof storageUrl !== 'string') {
    throw new Error(`TempAuth at ${server.authUrl} answered HTTP ${answer.statusCode}`);
  }
  return { token, storageUrl };
}

/**
 * Calls Swift's API directly (to set up and inspect what a test's store did): `path` is below
 * the storage URL, e.g. `/container?format=json`. Returns the status and the body as text.
 */
export async function swiftRequest(server: SwiftServerHandle, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const { token, storageUrl } = await swiftToken(server);
  const answer = await request(`${storageUrl}${path}`, { method: method as 'GET', headers: { ...headers, 'x-auth-token': token } });
  return { status: answer.statusCode, headers: answer.headers, text: await answer.body.text() };
}

/** Creates a container (PUT is idempotent). */
export async function createSwiftContainer(server: SwiftServerHandle, container: string): Promise<void> {
  const { status, text } = await swiftRequest(server, 'PUT', `/${encodeURIComponent(container)}`);
  if (status !== 201 && status !== 202) throw new Error(`Cannot create container ${container}: HTTP ${status} ${text}`);
}

/** The names in a container (up to 10,000), or undefined when it does not exist. */
export async function swiftNames(server: SwiftServerHandle, container: string, prefix = ''): Promise<string[] | undefined> {
  const { status, text } = await swiftRequest(server, 'GET', `/${encodeURIComponent(container)}?format=json&prefix=${encodeURIComponent(prefix)}`);
  if (status === 404) return undefined;
  if (status === 204 || text.trim() === '') return [];
  return (JSON.parse(text) as { name: string }[]).map((row) => row.name);
}
