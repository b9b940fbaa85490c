import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../conf/resolve-config.js';
import { startFaultProxy, type FaultProxy } from '../../testing/fault-proxy.js';
import { startMotoServer } from '../../testing/moto-server.js';
import { createBucket, s3Options } from '../../testing/s3-fixture.js';
import type { S3ServerHandle } from '../../testing/s3-server-handle.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import type { UfsCallEvent } from './with-metrics.js';
import { resilientUfs, ufsPolicies } from './resilient-ufs.js';

describe('resilientUfs()', () => {
  let moto: S3ServerHandle;
  let proxy: FaultProxy;
  before(async () => {
    moto = await startMotoServer();
    await createBucket(moto, 'resilient');
    proxy = await startFaultProxy(moto.endpoint);
  });
  after(async () => {
    await proxy.stop();
    await moto.stop();
  });

  it('takes its policies from the resolved configuration', async () => {
    const config = await resolveConfig({ env: { DORA_UFS_TIMEOUT: '250ms' }, flags: { 'ufs.retry.maxAttempts': '3', 'ufs.s3.partSize': '8MiB' } });
    const policies = ufsPolicies(config);
    assert.equal(policies.timeout.callMs, 250);
    assert.equal(policies.retry.maxAttempts, 3);
    assert.equal(policies.retry.baseDelayMs, 100);
    assert.equal(policies.tuning.partSize, 8 * 1024 * 1024);
  });

  it('times out a stalled attempt, retries it, and observes every attempt', async () => {
    const config = await resolveConfig({ env: {}, flags: { 'ufs.timeout': '300ms', 'ufs.retry.baseDelay': '10ms' } });
    const policies = ufsPolicies(config);
    const events: UfsCallEvent[] = [];
    const raw = await createDefaultUfsRegistry(policies.tuning).create('s3://resilient/', { ...s3Options(moto), endpoint: proxy.url });
    const ufs = resilientUfs(raw, policies, { observe: (e) => events.push(e) });
    await ufs.write('k', Buffer.from('value'));
    proxy.stallNext(1);
    const started = Date.now();
    const status = await ufs.stat('k');
    assert.equal(status.size, 5);
    assert.ok(Date.now() - started < 3000, 'one deadline, then a quick retry');
    assert.deepEqual(events.filter((e) => e.op === 'stat').map((e) => e.outcome), ['DEADLINE_EXCEEDED', 'ok']);
    proxy.reset();
    await ufs.close();
  });
});
