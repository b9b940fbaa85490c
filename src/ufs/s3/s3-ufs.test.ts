import { after } from 'node:test';
import { startMotoServer } from '../../testing/moto-server.js';
import { s3ConformanceFixture } from '../../testing/s3-fixture.js';
import { runUfsConformance } from '../../testing/ufs-conformance.js';

const moto = startMotoServer();
const motoWithAuth = startMotoServer({ requireAuth: true });
after(async () => {
  await Promise.all([(await moto).stop(), (await motoWithAuth).stop()]);
});

runUfsConformance('s3:// on moto_server', await s3ConformanceFixture(await moto, { denied: await motoWithAuth }));
