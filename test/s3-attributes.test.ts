import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { rawRequest } from './raw-request.js';
import { s3Rejects } from './s3-assertions.js';

const md5 = (data: string | Buffer): string => `"${createHash('md5').update(data).digest('hex')}"`;


describe('the S3 API keeps content types, user metadata, MD5 ETags and tags', () => {
  let dataDir: string;
  let dora: Embedded;
  let moto: S3ServerHandle;
  let s3: S3Client;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dora-s3-attrs-'));
    dora = await startEmbedded({ dataDir });
    moto = await startMotoServer();
    await createBucket(moto, 'native');
    await dora.mounts.add({ path: '/native', uri: 's3://native/', options: s3Options(moto) });
    s3 = new S3Client({
      endpoint: dora.s3Url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'local' }));
  });
  after(async () => {
    s3.destroy();
    await dora.stop();
    await moto.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const bucket of ['local', 'native']) {
    it(`round-trips Content-Type and x-amz-meta-* and answers the MD5 as ETag (${bucket === 'local' ? 'file:// sidecar' : 's3:// native'})`, async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc.json', Body: '{"a":1}', ContentType: 'application/json', Metadata: { owner: 'ana', note: 'two words' } }));
      assert.equal(put.ETag, md5('{"a":1}'));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc.json' }));
      assert.equal(head.ContentType, 'application/json');
      assert.deepEqual(head.Metadata, { owner: 'ana', note: 'two words' });
      assert.equal(head.ETag, md5('{"a":1}'));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc.json' }));
      assert.equal(await got.Body?.transformToString(), '{"a":1}');
      assert.equal(got.ETag, md5('{"a":1}'));
      assert.equal(got.ContentType, 'application/json');
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.ETag]), [['doc.json', md5('{"a":1}')]], 'no sidecar is listed; listings carry the same ETag');
      const plain = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
      const plainHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
      assert.equal(plainHead.ETag, plain.ETag);
      assert.deepEqual(plainHead.Metadata, {});
    });

    it(`copies metadata and tags with COPY and replaces them with REPLACE (${bucket})`, async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'copy me', ContentType: 'text/plain', Metadata: { a: '1' }, Tagging: 'team=data' }));
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'same', CopySource: `${bucket}/src` }));
      const same = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'same' }));
      assert.equal(same.ContentType, 'text/plain');
      assert.deepEqual(same.Metadata, { a: '1' });
      assert.equal(same.ETag, md5('copy me'));
      assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'same' }))).TagSet, [{ Key: 'team', Value: 'data' }]);
      await s3.send(new CopyObjectCommand({
        Bucket: bucket, Key: 'other', CopySource: `${bucket}/src`,
        MetadataDirective: 'REPLACE', ContentType: 'text/csv', Metadata: { b: '2' },
        TaggingDirective: 'REPLACE', Tagging: 'stage=clean',
      }));
      const other = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'other' }));
      assert.equal(other.ContentType, 'text/csv');
      assert.deepEqual(other.Metadata, { b: '2' });
      assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'other' }))).TagSet, [{ Key: 'stage', Value: 'clean' }]);
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src`, MetadataDirective: 'REPLACE', Metadata: { c: '3' } }));
      assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }))).Metadata, { c: '3' }, 'copying onto itself with REPLACE updates metadata');
    });

    it(`gets, puts and deletes object tags, and refuses invalid ones (${bucket})`, async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 't', Tagging: 'a=1&b=two%20words' }));
      const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
      assert.deepEqual(tags.TagSet?.map((t) => [t.Key, t.Value]).sort(), [['a', '1'], ['b', 'two words']]);
      await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'only', Value: '' }] } }));
      assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet, [{ Key: 'only', Value: '' }]);
      await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
      assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet ?? [], []);
      const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      await s3Rejects(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: eleven } })), 'InvalidTag', 400);
      await s3Rejects(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'aws:x', Value: 'v' }] } })), 'InvalidTag', 400);
      await s3Rejects(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'k'.repeat(129), Value: 'v' }] } })), 'InvalidTag', 400);
      await s3Rejects(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'd', Value: '1' }, { Key: 'd', Value: '2' }] } })), 'InvalidTag', 400);
      await s3Rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'badtags', Body: 'x', Tagging: 'aws:a=1' })), 'InvalidTag', 400);
      await s3Rejects(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'missing' })), 'NoSuchKey', 404);
      await s3Rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'badtags' })), '', 404);
      const malformed = await rawRequest(dora.s3Url, `/${bucket}/tagged?tagging`, { method: 'PUT', body: Buffer.from('<Tagging><TagSet><Tag>') });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body, /<Code>MalformedXML<\/Code>/);
    });

    it(`keeps multipart uploads' content type, metadata and tags (${bucket})`, async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ContentType: 'video/mp4', Metadata: { m: 'p' }, Tagging: 'kind=video' }));
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'only part' }));
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp' }));
      assert.equal(head.ContentType, 'video/mp4');
      assert.deepEqual(head.Metadata, { m: 'p' });
      assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'mp' }))).TagSet, [{ Key: 'kind', Value: 'video' }]);
    });
  }

  it('keeps UTF-8 metadata and answers it RFC 2047-encoded, and refuses more than 2 KiB of metadata', async () => {
    const utf8 = Buffer.from('Zoë – 東京', 'utf8').toString('latin1'); // the bytes a client puts in the header
    const put = await rawRequest(dora.s3Url, '/local/utf8', { method: 'PUT', headers: { 'x-amz-meta-city': utf8, 'content-length': '1' }, body: Buffer.from('u') });
    assert.equal(put.status, 200, put.body);
    const head = await rawRequest(dora.s3Url, '/local/utf8', { method: 'HEAD' });
    assert.equal(head.headers['x-amz-meta-city'], `=?UTF-8?B?${Buffer.from('Zoë – 東京').toString('base64')}?=`);
    assert.equal(head.headers['content-type'], 'binary/octet-stream', "S3's type for an object stored without one");
    const big = await rawRequest(dora.s3Url, '/local/big-meta', { method: 'PUT', headers: { 'x-amz-meta-a': 'x'.repeat(2100), 'content-length': '1' }, body: Buffer.from('b') });
    assert.equal(big.status, 400);
    assert.match(big.body, /<Code>MetadataTooLarge<\/Code>/);
    await s3Rejects(s3.send(new HeadObjectCommand({ Bucket: 'local', Key: 'big-meta' })), '', 404);
  });

  it('tags buckets: NoSuchTagSet until tagged, 50 at most, and deleting them', async () => {
    await s3Rejects(s3.send(new GetBucketTaggingCommand({ Bucket: 'local' })), 'NoSuchTagSet', 404);
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'local', Tagging: { TagSet: [{ Key: 'cost-center', Value: '42' }] } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'local' }))).TagSet, [{ Key: 'cost-center', Value: '42' }]);
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await s3Rejects(s3.send(new PutBucketTaggingCommand({ Bucket: 'local', Tagging: { TagSet: many } })), 'InvalidTag', 400);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'local' }));
    await s3Rejects(s3.send(new GetBucketTaggingCommand({ Bucket: 'local' })), 'NoSuchTagSet', 404);
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'native', Tagging: { TagSet: [{ Key: 'store', Value: 'moto' }] } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'native' }))).TagSet, [{ Key: 'store', Value: 'moto' }], "a mount at the store's bucket root keeps the bucket's own tags");
    await s3Rejects(s3.send(new GetBucketTaggingCommand({ Bucket: 'nobucket' })), 'NoSuchBucket', 404);
  });

  it('keeps sidecars out of listings and leaves none behind when the objects go', async () => {
    const dir = join(dataDir, 'root', 'local', 'hidden');
    await s3.send(new PutObjectCommand({ Bucket: 'local', Key: 'hidden/a', Body: 'a', Metadata: { k: 'v' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'local', Key: 'hidden/b', Body: 'b' }));
    assert.equal((await readdir(dir)).filter((n) => n.startsWith('.dora-meta-')).length, 2, 'each file has its sidecar on disk');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'local', Prefix: 'hidden/' }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['hidden/a', 'hidden/b']);
    await s3.send(new DeleteObjectCommand({ Bucket: 'local', Key: 'hidden/a' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'local', Key: 'hidden/b' }));
    await assert.rejects(readdir(dir), { code: 'ENOENT' }, 'the emptied prefix went, sidecars and all');
  });
});
