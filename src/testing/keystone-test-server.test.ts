import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startKeystoneTestServer, type KeystoneTestServer } from './keystone-test-server.js';
import { startSwiftS3Server, type SwiftServerHandle } from './swift-s3-server.js';

function passwordAuth(user: Record<string, unknown>, project?: Record<string, unknown>): unknown {
  return { auth: { identity: { methods: ['password'], password: { user } }, ...(project === undefined ? {} : { scope: { project } }) } };
}

describe('startKeystoneTestServer()', () => {
  let swift: SwiftServerHandle;
  let keystone: KeystoneTestServer;
  before(async () => {
    swift = await startSwiftS3Server();
    keystone = await startKeystoneTestServer({
      tempAuth: { authUrl: swift.authUrl, user: swift.user, key: swift.key },
      users: [{ name: 'dora', password: 'secret', project: 'analytics' }],
    });
  });
  after(async () => {
    await keystone.stop();
    await swift.stop();
  });

  async function tokens(body: unknown): Promise<{ status: number; token: unknown; body: Record<string, unknown> }> {
    const answer = await request(`${keystone.authUrl}/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: answer.statusCode, token: answer.headers['x-subject-token'], body: (await answer.body.json()) as Record<string, unknown> };
  }

  it('issues a real Swift token with a catalog for password authentication scoped to a project', async () => {
    const { status, token, body } = await tokens(passwordAuth({ name: 'dora', domain: { name: 'Default' }, password: 'secret' }, { name: 'analytics', domain: { id: 'default' } }));
    assert.equal(status, 201);
    assert.equal(typeof token, 'string');
    const issued = body['token'] as { expires_at: string; project: { name: string }; catalog: { type: string; endpoints: { interface: string; region_id: string; url: string }[] }[] };
    assert.match(issued.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(issued.project.name, 'analytics');
    const store = issued.catalog.find((c) => c.type === 'object-store');
    assert.deepEqual(store?.endpoints.map((e) => [e.interface, e.region_id]), [['public', 'RegionOne'], ['internal', 'RegionOne']]);
    const listing = await request(`${store?.endpoints[0]?.url}?format=json`, { headers: { 'x-auth-token': token as string } });
    await listing.body.dump();
    assert.equal(listing.statusCode, 200, 'Swift accepts the token');
  });

  it('refuses a wrong password, user or project with 401 and a malformed request with 400', async () => {
    const project = { name: 'analytics', domain: { name: 'Default' } };
    assert.equal((await tokens(passwordAuth({ name: 'dora', domain: { name: 'Default' }, password: 'wrong' }, project))).status, 401);
    assert.equal((await tokens(passwordAuth({ name: 'eve', domain: { name: 'Default' }, password: 'secret' }, project))).status, 401);
    assert.equal((await tokens(passwordAuth({ name: 'dora', domain: { name: 'Default' }, password: 'secret' }, { ...project, name: 'other' }))).status, 401);
    const refused = await tokens(passwordAuth({ name: 'dora', domain: { name: 'Default' }, password: 'wrong' }, project));
    assert.deepEqual(refused.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    assert.equal((await tokens('{not json')).status, 400);
    assert.equal((await tokens({ auth: { identity: { methods: ['token'] } } })).status, 400);
  });
});
