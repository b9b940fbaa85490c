/**
 * The authentication pieces wired into a real HTTP server, driven by the AWS SDK over the network:
 * verifyRequest or acceptAnonymousRequest, CredentialStore.authorize, then openPayloadBody.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';
import { acceptAnonymousRequest } from './anonymous-policy.js';
import { openPayloadBody } from './open-payload-body.js';
import { CredentialStore } from './s3-credentials.js';
import { isS3AuthError } from './s3-auth-error.js';
import { verifyRequest } from './sigv4-verifier.js';

interface TestServer {
  endpoint: string;
  port: number;
  objects: Map<string, Buffer>;
  close(): void;
}

/** A toy S3 endpoint: path-style /bucket/key, PUT stores, GET reads or lists. Only authentication is real. */
async function startServer(store: CredentialStore): Promise<TestServer> {
  const objects = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = isS3AuthError(error) ? error.status : 500;
      const code = isS3AuthError(error) ? error.s3Code : 'InternalError';
      const message = error instanceof Error ? error.message : String(error);
      const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
      // The body may be unread: close the connection rather than leave it to be parsed as a request.
      res.writeHead(status, { 'content-type': 'application/xml', connection: 'close' }).end(xml);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const mark = url.indexOf('?'); // the first '?' only: a query value may hold another
    const [path, query] = mark === -1 ? [url, ''] : [url.slice(0, mark), url.slice(mark + 1)];
    const request = { method: req.method ?? 'GET', path, query, headers: req.headersDistinct };
    const { accessKeyId, payload } = store.size === 0
      ? acceptAnonymousRequest(request, req.socket.remoteAddress)
      : verifyRequest(request, store, { now: new Date() });
    const [bucket = '', ...keyParts] = path.slice(1).split('/').map(decodeURIComponent);
    const key = keyParts.join('/');
    const writes = req.method === 'PUT' || req.method === 'DELETE';
    if (accessKeyId !== undefined) store.authorize(accessKeyId, bucket, writes ? 'write' : 'read');

    if (req.method === 'PUT') {
      const contentLength = req.headers['content-length'];
      const body = openPayloadBody(req, payload, contentLength === undefined ? {} : { contentLength: Number(contentLength) });
      const parts: Uint8Array[] = [];
      for await (const part of body) parts.push(part);
      objects.set(`${bucket}/${key}`, Buffer.concat(parts)); // only once the body verified completely
      res.writeHead(200, { etag: '"1"' }).end();
    } else if (key !== '') {
      const object = objects.get(`${bucket}/${key}`);
      if (object === undefined) res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code><Message>no</Message></Error>');
      else res.writeHead(200, { 'content-length': object.length }).end(object);
    } else {
      const prefix = new URLSearchParams(query).get('prefix') ?? '';
      const keys = [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1));
      const contents = keys.map((k) => `<Contents><Key>${escapeXml(k)}</Key><Size>1</Size></Contents>`).join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, port, objects, close: () => server.close() };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function client(endpoint: string, accessKeyId: string, secretAccessKey: string, extra: { systemClockOffset?: number } = {}): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 2, ...extra });
}

const KEYS = ['plain.txt', 'dir/with spaces.txt', 'ünïcödé/日本語 🎉.txt', 'a+b%c&d=e?#.txt', "quote's (1)*!~.txt"];

describe('S3 authentication over HTTP with the AWS SDK', () => {
  let server: TestServer;
  let s3: S3Client;
  const store = CredentialStore.from({
    writer: { secret: 'writer/secret+key' },
    reader: { secret: 'reader-secret', buckets: { bucket: 'read' } },
  });

  before(async () => {
    server = await startServer(store);
    s3 = client(server.endpoint, 'writer', 'writer/secret+key');
  });
  after(() => {
    s3.destroy();
    server.close();
  });

  it('stores and reads back objects with awkward keys, signed payloads (Buffer) and aws-chunked ones (stream)', async () => {
    for (const [index, key] of KEYS.entries()) {
      const data = Buffer.from(`object ${index}: ${key}`.repeat(100 * (index + 1)));
      const body = index % 2 === 0 ? data : Readable.from([data.subarray(0, 1000), data.subarray(1000)]);
      await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: body, ContentLength: data.length }));
      assert.ok(server.objects.get(`bucket/${key}`)?.equals(data), key);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: key, ResponseContentType: 'text/plain; charset=utf-8' }));
      assert.equal(await got.Body?.transformToString(), data.toString());
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'ünïcödé/日本', Delimiter: '/', MaxKeys: 7 }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['ünïcödé/日本語 🎉.txt']);
  });

  it('answers SignatureDoesNotMatch for a wrong secret and InvalidAccessKeyId for an unknown key, storing nothing', async () => {
    const wrongSecret = client(server.endpoint, 'writer', 'not-the-secret');
    const unknownKey = client(server.endpoint, 'stranger', 'x');
    try {
      await assert.rejects(wrongSecret.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'forged', Body: 'x' })), { name: 'SignatureDoesNotMatch' });
      await assert.rejects(unknownKey.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'plain.txt' })), { name: 'InvalidAccessKeyId' });
      assert.ok(!server.objects.has('bucket/forged'));
    } finally {
      wrongSecret.destroy();
      unknownKey.destroy();
    }
  });

  it('lets a read-only key read but answers AccessDenied when it writes', async () => {
    const reader = client(server.endpoint, 'reader', 'reader-secret');
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'shared', Body: 'data' }));
      const got = await reader.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'shared' }));
      assert.equal(await got.Body?.transformToString(), 'data');
      await assert.rejects(reader.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'shared', Body: 'overwritten' })), { name: 'AccessDenied' });
      await assert.rejects(reader.send(new GetObjectCommand({ Bucket: 'other', Key: 'shared' })), { name: 'AccessDenied' });
      assert.equal(server.objects.get('bucket/shared')?.toString(), 'data');
    } finally {
      reader.destroy();
    }
  });

  it('answers RequestTimeTooSkewed to a client whose clock is an hour off, which the SDK then corrects from the Date header', async () => {
    const skewed = client(server.endpoint, 'writer', 'writer/secret+key', { systemClockOffset: -3_600_000 });
    try {
      await assert.rejects(skewed.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'skewed', Body: 'late' })), { name: 'RequestTimeTooSkewed' });
      assert.ok(!server.objects.has('bucket/skewed'));
      assert.ok(Math.abs(skewed.config.systemClockOffset) < 60_000, 'the SDK adopted the server clock after the error');
      await skewed.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'skewed', Body: 'late' }));
      assert.equal(server.objects.get('bucket/skewed')?.toString(), 'late');
    } finally {
      skewed.destroy();
    }
  });

  it('serves presigned GET and PUT URLs fetched without any SDK, and refuses tampered ones', async () => {
    const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: { accessKeyId: 'writer', secretAccessKey: 'writer/secret+key' }, sha256: Sha256, uriEscapePath: false });
    const presign = async (method: string, path: string): Promise<string> => {
      const host = `127.0.0.1:${server.port}`;
      const signed = await signer.presign(
        { method, protocol: 'http:', hostname: '127.0.0.1', port: server.port, path, query: {}, headers: { host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } },
        { expiresIn: 300 },
      );
      return `${server.endpoint}${path}?${new URLSearchParams(signed.query as Record<string, string>).toString().replace(/\+/g, '%20')}`;
    };
    const path = '/bucket/presigned/a%20b%2Bc.txt';
    const put = await fetch(await presign('PUT', path), { method: 'PUT', body: 'via presigned PUT' });
    assert.equal(put.status, 200);
    assert.equal(server.objects.get('bucket/presigned/a b+c.txt')?.toString(), 'via presigned PUT');
    const getUrl = await presign('GET', path);
    const get = await fetch(getUrl);
    assert.equal(await get.text(), 'via presigned PUT');

    const otherKey = await fetch(getUrl.replace('a%20b', 'a%20c'));
    assert.equal(otherKey.status, 403);
    assert.match(await otherKey.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    const longer = await fetch(getUrl.replace('X-Amz-Expires=300', 'X-Amz-Expires=600'));
    assert.equal(longer.status, 403);
  });

  it('refuses a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload with a forged chunk and stores nothing', async () => {
    const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: { accessKeyId: 'writer', secretAccessKey: 'writer/secret+key' }, sha256: Sha256, uriEscapePath: false });
    const data = [Buffer.alloc(9000, 'a'), Buffer.alloc(500, 'b')];
    const decodedLength = 9500;
    const path = '/bucket/chunked.bin';
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path,
      query: {},
      headers: {
        host: `127.0.0.1:${server.port}`,
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-decoded-content-length': String(decodedLength),
      },
    });
    const seed = /Signature=(\w+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
    const amzDate = String(signed.headers['x-amz-date']);
    const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const hmac = (key: Buffer | string, text: string): Buffer => createHmac('sha256', key).update(text).digest();
    const signingKey = hmac(hmac(hmac(hmac('AWS4writer/secret+key', amzDate.slice(0, 8)), 'us-east-1'), 's3'), 'aws4_request');
    const sha = (d: Buffer | string): string => createHash('sha256').update(d).digest('hex');

    const encode = (chunks: Buffer[], forge?: number): Buffer => {
      let previous = seed;
      const out: Buffer[] = [];
      for (const [i, chunk] of [...chunks, Buffer.alloc(0)].entries()) {
        previous = hmac(signingKey, ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha(''), sha(chunk)].join('\n')).toString('hex');
        const sent = i === forge ? Buffer.from(chunk).fill('X', 0, 1) : chunk;
        out.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), sent, Buffer.from('\r\n'));
      }
      return Buffer.concat(out);
    };
    const send = (body: Buffer): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${server.endpoint}${path}`, { method: 'PUT', headers: { ...signed.headers, 'content-length': body.length } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
        });
        req.on('error', reject);
        req.end(body);
      });

    const forged = await send(encode(data, 1));
    assert.equal(forged.status, 403);
    assert.match(forged.text, /SignatureDoesNotMatch/);
    assert.ok(!server.objects.has('bucket/chunked.bin'));
    const truncated = await send(encode(data).subarray(0, 5000));
    assert.equal(truncated.status, 400);
    assert.match(truncated.text, /IncompleteBody/);
    assert.ok(!server.objects.has('bucket/chunked.bin'));
    const good = await send(encode(data));
    assert.equal(good.status, 200, good.text);
    assert.ok(server.objects.get('bucket/chunked.bin')?.equals(Buffer.concat(data)));
  });
});

describe('S3 over HTTP without credentials configured', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(CredentialStore.from({}));
  });
  after(() => server.close());

  it('accepts loopback clients whatever keys they sign with, still checking payload hashes and checksums', async () => {
    const s3 = client(server.endpoint, 'any', 'thing');
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k one', Body: 'signed payload' }));
      await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k two', Body: Readable.from([Buffer.from('chunked payload')]), ContentLength: 15 }));
      assert.equal(server.objects.get('b/k one')?.toString(), 'signed payload');
      assert.equal(server.objects.get('b/k two')?.toString(), 'chunked payload');
    } finally {
      s3.destroy();
    }
  });
});
