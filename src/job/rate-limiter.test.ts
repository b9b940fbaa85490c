import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('paces takes at its rate after the burst, however large each take is', async () => {
    const limiter = new RateLimiter(1_000_000, 100_000); // 1 MB/s, 0.1 s saved
    const started = performance.now();
    for (let i = 0; i < 6; i++) await limiter.take(100_000); // 0.6 MB: 0.1 s of burst, then 0.5 s
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds >= 0.45 && seconds < 0.8, `took ${seconds} s`);
    const large = performance.now();
    await limiter.take(300_000); // larger than the burst: waits it off
    assert.ok((performance.now() - large) / 1000 >= 0.25);
  });

  it('stops waiting when aborted', async () => {
    const limiter = new RateLimiter(1000, 0);
    await assert.rejects(limiter.take(10_000, AbortSignal.timeout(50)), { name: 'AbortError' });
  });
});
