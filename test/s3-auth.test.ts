import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { sha256 } from '../src/testing/assertions.js';
import { s3Rejects } from './s3-assertions.js';

const run = promisify(execFile);


describe('the S3 API with credentials configured', () => {
  let dataDir: string;
  let dora: Embedded;
  const client = (accessKeyId: string, secretAccessKey: string): S3Client =>
    new S3Client({ endpoint: dora.s3Url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dora-s3auth-'));
    const credentialsFile = join(dataDir, 's3-credentials.yaml');
    await writeFile(credentialsFile, ['writer:', '  secret: writer-secret', 'reader:', '  secret: reader-secret', '  buckets:', '    shared: read', ''].join('\n'));
    dora = await startEmbedded({ dataDir, flags: { 's3.credentialsFile': credentialsFile } });
  });
  after(async () => {
    await dora.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('accepts SigV4-signed requests, aws-chunked streaming uploads included, from the SDK with its defaults', async () => {
    const s3 = client('writer', 'writer-secret');
    await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
    const data = randomBytes(3 * 1024 * 1024 + 5);
    // A stream of known length: the SDK sends it aws-chunked with a trailing checksum.
    await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'streamed.bin', Body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]), ContentLength: data.length }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'streamed.bin' }));
    assert.equal(sha256(await got.Body?.transformToByteArray() ?? new Uint8Array()), sha256(data));
    await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'buffer.txt', Body: 'plain body' }));
    s3.destroy();
  });

  it('refuses wrong secrets, unknown keys, unsigned requests and writes by a read-only key', async () => {
    const wrong = client('writer', 'not-the-secret');
    await s3Rejects(wrong.send(new HeadObjectCommand({ Bucket: 'shared', Key: 'buffer.txt' })), '', 403);
    await s3Rejects(wrong.send(new PutObjectCommand({ Bucket: 'shared', Key: 'x', Body: 'x' })), 'SignatureDoesNotMatch', 403);
    const unknown = client('stranger', 'whatever');
    await s3Rejects(unknown.send(new GetObjectCommand({ Bucket: 'shared', Key: 'buffer.txt' })), 'InvalidAccessKeyId', 403);
    const reader = client('reader', 'reader-secret');
    const read = await reader.send(new GetObjectCommand({ Bucket: 'shared', Key: 'buffer.txt' }));
    assert.equal(await read.Body?.transformToString(), 'plain body');
    await s3Rejects(reader.send(new PutObjectCommand({ Bucket: 'shared', Key: 'nope.txt', Body: 'x' })), 'AccessDenied', 403);
    const anonymous = await fetch(`${dora.s3Url}/shared/buffer.txt`);
    assert.equal(anonymous.status, 403);
    await s3Rejects(client('writer', 'writer-secret').send(new HeadObjectCommand({ Bucket: 'shared', Key: 'nope.txt' })), '', 404);
    for (const c of [wrong, unknown, reader]) c.destroy();
  });

  it('works with the signed aws CLI and its presigned URLs', async () => {
    // aws CLI v1 presigns with SigV2 unless told otherwise; dora accepts SigV4 only.
    const config = join(dataDir, 'aws-config');
    await writeFile(config, '[default]\ns3 =\n    signature_version = s3v4\n');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'writer', AWS_SECRET_ACCESS_KEY: 'writer-secret', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const aws = (...args: string[]) => run('aws', ['--endpoint-url', dora.s3Url, ...args], { env });
    const file = join(dataDir, 'signed.bin');
    const data = randomBytes(2 * 1024 * 1024);
    await writeFile(file, data);
    await aws('s3', 'cp', file, 's3://shared/cli/signed.bin');
    await aws('s3', 'cp', 's3://shared/cli/signed.bin', `${file}.back`);
    assert.equal(sha256(await readFile(`${file}.back`)), sha256(data));
    const { stdout } = await aws('s3', 'presign', 's3://shared/cli/signed.bin', '--expires-in', '300');
    const url = stdout.trim();
    const presigned = await fetch(url);
    assert.equal(presigned.status, 200);
    assert.equal(sha256(Buffer.from(await presigned.arrayBuffer())), sha256(data));
    const tampered = await fetch(url.replace('signed.bin', 'other.bin'));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  });
});
