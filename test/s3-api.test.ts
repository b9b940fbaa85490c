import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectVersionsCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { sha256 } from '../src/testing/assertions.js';
import { rawRequest } from './raw-request.js';
import { s3Rejects } from './s3-assertions.js';

const run = promisify(execFile);



/** Sends a PUT that promises 100 bytes, sends 10, and hangs up. */
function shortBody(base: string, path: string): Promise<void> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end(`PUT ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 100\r\n\r\n0123456789`);
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
    socket.resume();
  });
}

describe('the S3 API', () => {
  let dataDir: string;
  let dora: Embedded;
  let s3: S3Client;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dora-s3api-'));
    dora = await startEmbedded({ dataDir });
    s3 = new S3Client({
      endpoint: dora.s3Url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
  });
  after(async () => {
    s3.destroy();
    await dora.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates, heads, lists and deletes buckets as top-level directories', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    await s3Rejects(s3.send(new CreateBucketCommand({ Bucket: 'alpha' })), 'BucketAlreadyOwnedByYou', 409);
    await s3.send(new HeadBucketCommand({ Bucket: 'alpha' }));
    const listed = await s3.send(new ListBucketsCommand({}));
    assert.ok(listed.Buckets?.some((b) => b.Name === 'alpha'));
    await s3Rejects(s3.send(new HeadBucketCommand({ Bucket: 'missing' })), '', 404);
    await s3Rejects(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })), 'InvalidBucketName', 400);
    await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'deep/in/side.txt', Body: 'x' }));
    await s3Rejects(s3.send(new DeleteBucketCommand({ Bucket: 'alpha' })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'alpha', Key: 'deep/in/side.txt' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'alpha' })); // the emptied prefixes went with their last key
    await s3Rejects(s3.send(new HeadBucketCommand({ Bucket: 'alpha' })), '', 404);
  });

  it('puts and gets objects, whole and by range, and answers conditions', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'data.bin', Body: data }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data.bin' }));
    assert.equal(sha256(await got.Body?.transformToByteArray() ?? new Uint8Array()), sha256(data));
    assert.equal(got.ContentLength, data.length);
    assert.ok(put.ETag !== undefined);
    for (const [range, from, to] of [['bytes=0-0', 0, 1], ['bytes=100-', 100, data.length], ['bytes=-10', data.length - 10, data.length], ['bytes=5-1000000000', 5, data.length]] as const) {
      const part = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data.bin', Range: range }));
      assert.ok(Buffer.from(await part.Body?.transformToByteArray() ?? []).equals(data.subarray(from, to)), range);
      assert.equal(part.ContentRange, `bytes ${from}-${to - 1}/${data.length}`);
    }
    await s3Rejects(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data.bin', Range: `bytes=${data.length}-` })), 'InvalidRange', 416);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'data.bin' }));
    await s3Rejects(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data.bin', IfNoneMatch: head.ETag })), '', 304);
    await s3Rejects(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data.bin', IfMatch: '"other"' })), 'PreconditionFailed', 412);
    await s3Rejects(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data.bin', IfModifiedSince: new Date(Date.now() + 60_000) })), '', 304);
    const typed = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data.bin', Range: 'bytes=0-3', ResponseContentType: 'text/plain', ResponseContentDisposition: 'attachment' }));
    assert.equal(typed.ContentType, 'text/plain');
    assert.equal(typed.ContentDisposition, 'attachment');
    await s3Rejects(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'missing' })), 'NoSuchKey', 404);
    await s3Rejects(s3.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'k' })), 'NoSuchBucket', 404);
  });

  it('lists past 1,000 keys with v2 tokens, start-after, v1 markers, delimiters and URL encoding', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'many' }));
    const keys = Array.from({ length: 1050 }, (_, i) => `logs/${String(i).padStart(4, '0')}.txt`);
    const extra = ['logs/sub/a.txt', 'logs/sub/b.txt', 'other/with space+plus.txt', 'top.txt'];
    for (let i = 0; i < keys.length + extra.length; i += 50) {
      await Promise.all([...keys, ...extra].slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: 'many', Key, Body: Key }))));
    }
    const all: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'many', ContinuationToken: token }));
      all.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
      token = page.NextContinuationToken;
      pages += 1;
    } while (token !== undefined);
    assert.equal(pages, 2);
    assert.deepEqual(all, [...keys, ...extra].sort());
    const level = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Prefix: 'logs/', Delimiter: '/', MaxKeys: 2000 }));
    assert.equal(level.KeyCount, 1000);
    assert.equal(level.IsTruncated, true);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Prefix: 'logs/', Delimiter: '/', ContinuationToken: level.NextContinuationToken }));
    assert.deepEqual(rest.CommonPrefixes?.map((p) => p.Prefix), ['logs/sub/']);
    assert.equal((rest.Contents ?? []).length, 50);
    const root = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/' }));
    assert.deepEqual(root.CommonPrefixes?.map((p) => p.Prefix), ['logs/', 'other/']);
    assert.deepEqual(root.Contents?.map((c) => c.Key), ['top.txt']);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'many', StartAfter: 'logs/1048.txt', MaxKeys: 3 }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['logs/1049.txt', 'logs/sub/a.txt', 'logs/sub/b.txt']);
    const partial = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Prefix: 'logs/00', MaxKeys: 5 }));
    assert.deepEqual(partial.Contents?.map((c) => c.Key), keys.slice(0, 5));
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'many', Marker: 'logs/1049.txt', Prefix: 'logs/' }));
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['logs/sub/a.txt', 'logs/sub/b.txt']);
    const encoded = await rawRequest(dora.s3Url, '/many?list-type=2&prefix=other/&encoding-type=url', { method: 'GET' });
    assert.match(encoded.body, /<Key>other\/with%20space%2Bplus.txt<\/Key>/);
  });

  it('lists versions as an unversioned bucket does and deletes many objects at once, reporting keys it cannot delete', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bulk' }));
    const keys = Array.from({ length: 30 }, (_, i) => `d/${i}.txt`);
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: 'bulk', Key, Body: Key }))));
    const verbose = await s3.send(new DeleteObjectsCommand({ Bucket: 'bulk', Delete: { Objects: [...keys.slice(0, 10), 'missing.txt', 'a//b'].map((Key) => ({ Key })) } }));
    assert.equal(verbose.Deleted?.length, 11);
    assert.deepEqual(verbose.Errors?.map((e) => [e.Key, e.Code]), [['a//b', 'InvalidArgument']]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'bulk', MaxKeys: 5 }));
    assert.equal(versions.Versions?.length, 5);
    assert.ok(versions.Versions?.every((v) => v.VersionId === 'null' && v.IsLatest === true));
    assert.equal(versions.IsTruncated, true);
    const rest = await s3.send(new ListObjectVersionsCommand({ Bucket: 'bulk', KeyMarker: versions.NextKeyMarker }));
    assert.equal(rest.Versions?.length, 15);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'bulk', Delete: { Quiet: true, Objects: keys.slice(10).map((Key) => ({ Key })) } }));
    assert.equal(quiet.Deleted, undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: 'bulk' }));
    const malformed = await rawRequest(dora.s3Url, '/many?delete', { method: 'POST', body: Buffer.from('<Delete><Object>') });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body, /<Code>MalformedXML<\/Code>/);
  });

  it('copies objects within and across buckets, honouring copy-source conditions', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'copysrc' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'copydst' }));
    const data = randomBytes(2 * 1024 * 1024 + 3);
    await s3.send(new PutObjectCommand({ Bucket: 'copysrc', Key: 'a/source.bin', Body: data }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: 'copydst', Key: 'b/copy.bin', CopySource: 'copysrc/a/source.bin' }));
    assert.ok(copied.CopyObjectResult?.ETag !== undefined);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'copydst', Key: 'b/copy.bin' }));
    assert.equal(sha256(await got.Body?.transformToByteArray() ?? new Uint8Array()), sha256(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'copysrc', Key: 'a/source.bin' }));
    await s3Rejects(s3.send(new CopyObjectCommand({ Bucket: 'copydst', Key: 'c', CopySource: 'copysrc/a/source.bin', CopySourceIfNoneMatch: head.ETag })), 'PreconditionFailed', 412);
    await s3Rejects(s3.send(new CopyObjectCommand({ Bucket: 'copydst', Key: 'c', CopySource: 'copysrc/a/missing' })), 'NoSuchKey', 404);
    await s3Rejects(s3.send(new CopyObjectCommand({ Bucket: 'copysrc', Key: 'a/source.bin', CopySource: 'copysrc/a/source.bin' })), 'InvalidRequest', 400);
    await s3.send(new CopyObjectCommand({ Bucket: 'copysrc', Key: 'a/source.bin', CopySource: 'copysrc/a/source.bin', MetadataDirective: 'REPLACE' }));
  });

  it('assembles multipart uploads from uploaded and copied parts, and refuses bad part lists', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'multi' }));
    const one = randomBytes(5 * 1024 * 1024);
    const two = randomBytes(1234);
    await s3.send(new PutObjectCommand({ Bucket: 'multi', Key: 'source.bin', Body: two }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'big/assembled.bin' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'big/assembled.bin', UploadId, PartNumber: 1, Body: one }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: 'multi', Key: 'big/assembled.bin', UploadId, PartNumber: 2, CopySource: 'multi/source.bin', CopySourceRange: 'bytes=0-1233' }));
    const listedParts = await s3.send(new ListPartsCommand({ Bucket: 'multi', Key: 'big/assembled.bin', UploadId }));
    assert.deepEqual(listedParts.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, one.length], [2, two.length]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'multi' }));
    assert.deepEqual(uploads.Uploads?.map((u) => u.UploadId), [UploadId]);
    await s3Rejects(s3.send(new HeadObjectCommand({ Bucket: 'multi', Key: 'big/assembled.bin' })), '', 404); // invisible until complete
    const parts = [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }];
    await s3Rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'big/assembled.bin', UploadId, MultipartUpload: { Parts: [...parts].reverse() } })), 'InvalidPartOrder', 400);
    await s3Rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'big/assembled.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } })), 'InvalidPart', 400);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'big/assembled.bin', UploadId, MultipartUpload: { Parts: parts } }));
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'big/assembled.bin' }));
    assert.equal(sha256(await got.Body?.transformToByteArray() ?? new Uint8Array()), sha256(Buffer.concat([one, two])));
    await s3Rejects(s3.send(new ListPartsCommand({ Bucket: 'multi', Key: 'big/assembled.bin', UploadId })), 'NoSuchUpload', 404);
    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'small.bin' }));
    const s1 = await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'small.bin', UploadId: small.UploadId, PartNumber: 1, Body: two }));
    const s2 = await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'small.bin', UploadId: small.UploadId, PartNumber: 2, Body: two }));
    await s3Rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'small.bin', UploadId: small.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: s1.ETag }, { PartNumber: 2, ETag: s2.ETag }] } })), 'EntityTooSmall', 400);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'small.bin', UploadId: small.UploadId }));
    await s3Rejects(s3.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'small.bin', UploadId: small.UploadId })), 'NoSuchUpload', 404);
    await s3Rejects(s3.send(new HeadObjectCommand({ Bucket: 'multi', Key: 'small.bin' })), '', 404);
  });

  it('refuses keys that would leave their bucket, bad digests and short bodies, writing nothing', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'safe' }));
    for (const key of ['../escape', 'a/../../b', 'a//b', './x', '%2e%2e/x']) {
      const res = await rawRequest(dora.s3Url, `/safe/${key}`, { method: 'PUT', body: Buffer.from('x') });
      assert.equal(res.status, 400, key);
      assert.match(res.body, /<Code>InvalidArgument<\/Code>/);
    }
    const bad = await rawRequest(dora.s3Url, '/safe/digest.txt', { method: 'PUT', headers: { 'content-md5': Buffer.alloc(16).toString('base64') }, body: Buffer.from('hello') });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>BadDigest<\/Code>/);
    assert.match(bad.body, /<RequestId>[0-9A-F]{16}<\/RequestId>/);
    await s3Rejects(s3.send(new HeadObjectCommand({ Bucket: 'safe', Key: 'digest.txt' })), '', 404);
    await shortBody(dora.s3Url, '/safe/short.txt');
    await new Promise((r) => setTimeout(r, 200));
    await s3Rejects(s3.send(new HeadObjectCommand({ Bucket: 'safe', Key: 'short.txt' })), '', 404);
    const unknown = await rawRequest(dora.s3Url, '/safe?cors', { method: 'GET' });
    assert.equal(unknown.status, 501);
    assert.ok(typeof unknown.headers['x-amz-request-id'] === 'string');
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: 'safe' }));
    assert.equal(listing.KeyCount, 0);
  });

  it('works with the aws CLI and boto3', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'any', AWS_SECRET_ACCESS_KEY: 'any', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const aws = (...args: string[]) => run('aws', ['--endpoint-url', dora.s3Url, '--no-sign-request', ...args], { env });
    const file = join(dataDir, 'cli.bin');
    const data = randomBytes(5 * 1024 * 1024);
    await writeFile(file, data);
    await aws('s3', 'mb', 's3://clitest');
    await aws('s3', 'cp', file, 's3://clitest/in/cli.bin');
    const big = join(dataDir, 'big.bin');
    const bigData = randomBytes(200 * 1024 * 1024);
    await writeFile(big, bigData);
    await aws('s3', 'cp', big, 's3://clitest/big.bin'); // 8 MiB parts: a 25-part multipart upload
    await aws('s3', 'cp', 's3://clitest/big.bin', `${big}.back`);
    assert.equal(sha256(await readFile(`${big}.back`)), sha256(bigData));
    await aws('s3', 'rm', 's3://clitest/big.bin');
    const { stdout } = await aws('s3', 'ls', 's3://clitest/in/');
    assert.match(stdout, /5242880 cli.bin/);
    await aws('s3', 'cp', 's3://clitest/in/cli.bin', `${file}.back`);
    assert.equal(sha256(await readFile(`${file}.back`)), sha256(data));
    await aws('s3', 'cp', file, 's3://clitest/in/copy2.bin');
    await aws('s3', 'rm', '--recursive', 's3://clitest/in/');
    await aws('s3', 'cp', file, 's3://clitest/in/cli.bin');
    const script = [
      'import boto3, sys',
      'from botocore import UNSIGNED',
      'from botocore.config import Config',
      `s3 = boto3.client("s3", endpoint_url="${dora.s3Url}", region_name="us-east-1", config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))`,
      's3.put_object(Bucket="clitest", Key="boto/k.txt", Body=b"from boto3")',
      'print(s3.get_object(Bucket="clitest", Key="boto/k.txt", Range="bytes=5-9")["Body"].read().decode())',
      'print(sorted(o["Key"] for o in s3.list_objects_v2(Bucket="clitest")["Contents"]))',
    ].join('\n');
    const boto = await run('python3', ['-c', script], { env });
    assert.equal(boto.stdout, "boto3\n['boto/k.txt', 'in/cli.bin']\n");
  });
});
