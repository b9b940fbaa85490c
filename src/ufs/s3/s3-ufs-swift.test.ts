import { after } from 'node:test';
import { s3ConformanceFixture } from '../../testing/s3-fixture.js';
import { startSwiftS3Server } from '../../testing/swift-s3-server.js';
import { runUfsConformance } from '../../testing/ufs-conformance.js';

// OpenStack Swift's s3api is a real disk-backed S3 implementation with its own quirks; it
// enforces signatures, so a wrong secret is a real permission error.
const swift = await startSwiftS3Server();
after(() => swift.stop());

runUfsConformance('s3:// on OpenStack Swift (s3api)', await s3ConformanceFixture(swift, { denied: { ...swift, secretAccessKey: 'wrong-secret' } }));
