import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3ServerHandle } from './s3-server-handle.js';
import { startSwiftS3Server } from './swift-s3-server.js';

// Fails (rather than skips) when Swift is missing: the error names the apt-get command to run.
describe('startSwiftS3Server()', () => {
  let server: S3ServerHandle | undefined;
  let s3: S3Client | undefined;

  before(async () => {
    server = await startSwiftS3Server();
    s3 = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      // Swift's s3api rejects the SDK's default aws-chunked uploads with trailing checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('serves the AWS SDK a round trip: create bucket, put, ranged get, list, delete', async () => {
    assert.ok(server !== undefined && s3 !== undefined);
    assert.equal(server.name, 'swift');
    const Bucket = 'dora-swift-test';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'dir/hello.txt', Body: Buffer.from('hello, swift') }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'top.txt', Body: Buffer.from('top') }));

    const ranged = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/hello.txt', Range: 'bytes=7-11' }));
    assert.equal(await ranged.Body?.transformToString(), 'swift');
    assert.equal(ranged.ContentRange, 'bytes 7-11/12');

    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
    assert.deepEqual(listed.Contents?.map((object) => [object.Key, object.Size]), [['top.txt', 3]]);
    assert.deepEqual(listed.CommonPrefixes?.map((prefix) => prefix.Prefix), ['dir/']);

    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    const afterDelete = await s3.send(new ListObjectsV2Command({ Bucket }));
    assert.deepEqual(afterDelete.Contents?.map((object) => object.Key), ['top.txt']);
  });

  it('stop() ends the servers so the endpoint refuses connections', async () => {
    assert.ok(server !== undefined);
    await server.stop();
    await assert.rejects(get(`${server.endpoint}/healthcheck`), { code: 'ECONNREFUSED' });
  });
});

function get(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}
