import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { PutObjectCommand, S3Client, type ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { AwsChunkedDecoder } from './aws-chunked-decoder.js';
import type { StreamingPayload } from './request-payload.js';
import { CredentialStore } from './s3-credentials.js';
import { isS3AuthError, type S3AuthErrorCode } from './s3-auth-error.js';
import { verifyRequest, type SigV4Request } from './sigv4-verifier.js';

/** The body in pieces of `size` bytes, so that framing falls across piece boundaries. */
async function* pieces(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < body.length; offset += size) yield body.subarray(offset, offset + size);
}

async function decode(body: Buffer | AsyncIterable<Uint8Array>, payload: StreamingPayload, pieceSize = 1000): Promise<{ data: Buffer; trailers: Record<string, string> }> {
  const decoder = new AwsChunkedDecoder(Buffer.isBuffer(body) ? pieces(body, pieceSize) : body, payload);
  const parts: Buffer[] = [];
  for await (const part of decoder) parts.push(part);
  return { data: Buffer.concat(parts), trailers: { ...decoder.trailers } };
}

async function rejectsWith(promise: Promise<unknown>, s3Code: S3AuthErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isS3AuthError(error), `expected an S3AuthError, got ${String(error)}`);
    assert.equal(error.s3Code, s3Code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

// The chunked upload example of the AWS documentation: 65 KiB of "a" in a 64 KiB chunk, a 1 KiB chunk and the final one.
const AWS_EXAMPLE_REQUEST: SigV4Request = {
  method: 'PUT',
  path: '/examplebucket/chunkObject.txt',
  query: '',
  headers: {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,' +
      'Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  },
};
const AWS_EXAMPLE_CHUNKS = [
  `10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n${'a'.repeat(65536)}\r\n`,
  `400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n${'a'.repeat(1024)}\r\n`,
  '0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
];
const AWS_EXAMPLE_BODY = Buffer.from(AWS_EXAMPLE_CHUNKS.join(''), 'latin1');

function awsExamplePayload(overrides: Partial<StreamingPayload> = {}): StreamingPayload {
  const store = CredentialStore.from({ AKIAIOSFODNN7EXAMPLE: { secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } });
  const { payload } = verifyRequest(AWS_EXAMPLE_REQUEST, store, { now: new Date('2013-05-24T00:00:00Z') });
  assert.equal(payload.kind, 'streaming-signed');
  return { ...(payload as StreamingPayload), ...overrides } as StreamingPayload;
}

/** A small STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) encoder written from the specification. */
function encodeSigned(payload: StreamingPayload & { kind: 'streaming-signed' }, chunks: Buffer[], trailers?: Record<string, string>): Buffer {
  const sign = (stringToSign: string): string => createHmac('sha256', payload.signingKey).update(stringToSign).digest('hex');
  const hash = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
  const empty = hash('');
  let previous = payload.seedSignature;
  const out: Buffer[] = [];
  for (const chunk of [...chunks, Buffer.alloc(0)]) {
    previous = sign(['AWS4-HMAC-SHA256-PAYLOAD', payload.amzDate, payload.scope, previous, empty, hash(chunk)].join('\n'));
    out.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk, Buffer.from(chunk.length > 0 ? '\r\n' : ''));
  }
  if (trailers === undefined) {
    out.push(Buffer.from('\r\n'));
  } else {
    const canonical = Object.entries(trailers).map(([name, value]) => `${name}:${value}\n`).join('');
    const signature = sign(['AWS4-HMAC-SHA256-TRAILER', payload.amzDate, payload.scope, previous, hash(canonical)].join('\n'));
    out.push(Buffer.from(`${canonical.replaceAll('\n', '\r\n')}x-amz-trailer-signature:${signature}\r\n\r\n`));
  }
  return Buffer.concat(out);
}

const crc32Base64 = (data: Buffer): string => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc32(data));
  return bytes.toString('base64');
};

describe('AwsChunkedDecoder with STREAMING-AWS4-HMAC-SHA256-PAYLOAD', () => {
  it('decodes the AWS documentation example, verifying the chain from the seed signature, whatever the piece size', async () => {
    for (const pieceSize of [7, 4096, AWS_EXAMPLE_BODY.length]) {
      const { data } = await decode(AWS_EXAMPLE_BODY, awsExamplePayload(), pieceSize);
      assert.equal(data.length, 66560);
      assert.ok(data.equals(Buffer.alloc(66560, 'a')));
    }
  });

  it('fails with SignatureDoesNotMatch on a changed byte, and yields nothing of the chunk that failed', async () => {
    const tampered = Buffer.from(AWS_EXAMPLE_BODY);
    tampered[(AWS_EXAMPLE_CHUNKS[0]?.length ?? 0) + 100] = 0x62; // inside the second chunk's data
    const decoder = new AwsChunkedDecoder(pieces(tampered, 4096), awsExamplePayload());
    let yielded = 0;
    await rejectsWith(
      (async () => {
        for await (const part of decoder) yielded += part.length;
      })(),
      'SignatureDoesNotMatch',
    );
    assert.equal(yielded, 65536, 'only the first, verified chunk was released');
  });

  it('fails with SignatureDoesNotMatch on a changed chunk signature, a seed from another request, or swapped chunks', async () => {
    const badSignature = Buffer.from(AWS_EXAMPLE_BODY.toString('latin1').replace('chunk-signature=0055', 'chunk-signature=1055'), 'latin1');
    await rejectsWith(decode(badSignature, awsExamplePayload()), 'SignatureDoesNotMatch');
    await rejectsWith(decode(AWS_EXAMPLE_BODY, awsExamplePayload({ seedSignature: 'f'.repeat(64) })), 'SignatureDoesNotMatch');
    const [first = '', second = '', last = ''] = AWS_EXAMPLE_CHUNKS;
    const swapped = Buffer.from(second + first + last, 'latin1');
    await rejectsWith(decode(swapped, awsExamplePayload()), 'SignatureDoesNotMatch');
  });

  it('fails with IncompleteBody wherever the body is cut short', async () => {
    for (const cut of [0, 10, 90, 5000, 65626, 65627, 66700, AWS_EXAMPLE_BODY.length - 90, AWS_EXAMPLE_BODY.length - 3]) {
      await rejectsWith(decode(AWS_EXAMPLE_BODY.subarray(0, cut), awsExamplePayload()), 'IncompleteBody');
    }
  });

  it('tolerates a body that ends where its final empty line should be, since every byte was verified', async () => {
    const { data } = await decode(AWS_EXAMPLE_BODY.subarray(0, AWS_EXAMPLE_BODY.length - 2), awsExamplePayload());
    assert.equal(data.length, 66560);
  });

  it('fails when the chunks and x-amz-decoded-content-length disagree', async () => {
    await rejectsWith(decode(AWS_EXAMPLE_BODY, awsExamplePayload({ decodedContentLength: 66559 })), 'IncompleteBody', /more than the 66559 bytes/);
    await rejectsWith(decode(AWS_EXAMPLE_BODY, awsExamplePayload({ decodedContentLength: 70000 })), 'IncompleteBody', /66560 bytes, not the 70000/);
  });

  it('fails with InvalidRequest on malformed framing: bad size, no signature, missing CRLF, bytes after the end', async () => {
    const text = AWS_EXAMPLE_BODY.toString('latin1');
    const variants = [
      text.replace('10000;', 'xyz;'),
      text.replace('400;chunk-signature=', '400;chunk-sig='),
      text.replace(`${'a'.repeat(1024)}\r\n0;`, `${'a'.repeat(1024)}xx0;`),
      text.replace('\r\n400;', '\n400;'),
      `${text}garbage`,
    ];
    for (const variant of variants) await rejectsWith(decode(Buffer.from(variant, 'latin1'), awsExamplePayload()), 'InvalidRequest');
  });

  it('refuses a chunk header line longer than 4 KiB without reading on to its end', async () => {
    let served = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        served += 1024;
        yield Buffer.alloc(1024, '1');
      }
    }
    await rejectsWith(decode(endless(), awsExamplePayload()), 'InvalidRequest', /longer than 4096 bytes/);
    assert.ok(served <= 6 * 1024, `read ${served} bytes`);
  });

  it('refuses a chunk larger than the limit before reading its data', async () => {
    const payload = awsExamplePayload({ decodedContentLength: 64 * 1024 * 1024 });
    await rejectsWith(decode(Buffer.from(`1000001;chunk-signature=${'0'.repeat(64)}\r\n`), payload), 'InvalidRequest', /larger than the 16777216 allowed/);
    const decoder = new AwsChunkedDecoder(pieces(AWS_EXAMPLE_BODY, 1000), awsExamplePayload(), { maxChunkSize: 1024 });
    await rejectsWith(Readable.from(decoder).toArray(), 'InvalidRequest', /65536 bytes is larger than the 1024 allowed/);
  });

  it('verifies signed trailers (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER) and their checksum', async () => {
    const data = [Buffer.alloc(70_000, 'x'), Buffer.from('tail')];
    const all = Buffer.concat(data);
    const payload = awsExamplePayload({ decodedContentLength: all.length, trailer: true, trailerNames: ['x-amz-checksum-crc32'] });
    assert.ok(payload.kind === 'streaming-signed');
    const body = encodeSigned(payload, data, { 'x-amz-checksum-crc32': crc32Base64(all) });
    const decoded = await decode(body, payload, 999);
    assert.ok(decoded.data.equals(all));
    assert.deepEqual(decoded.trailers, { 'x-amz-checksum-crc32': crc32Base64(all) });
    // One byte at a time: every CR, LF and separator falls on a piece boundary somewhere.
    const small = [Buffer.from('first chunk'), Buffer.from('second')];
    const smallPayload = { ...payload, decodedContentLength: 17 };
    const smallBody = encodeSigned(smallPayload, small, { 'x-amz-checksum-crc32': crc32Base64(Buffer.concat(small)) });
    assert.equal((await decode(smallBody, smallPayload, 1)).data.toString(), 'first chunksecond');

    const forged = Buffer.from(body.toString('latin1').replace(crc32Base64(all), crc32Base64(Buffer.from('other'))), 'latin1');
    await rejectsWith(decode(forged, payload), 'SignatureDoesNotMatch', /trailer signature/);
    const unsignedTrailer = Buffer.from(body.toString('latin1').replace(/x-amz-trailer-signature:\w+\r\n/, ''), 'latin1');
    await rejectsWith(decode(unsignedTrailer, payload), 'SignatureDoesNotMatch', /missing/);
    const wrongChecksum = encodeSigned(payload, data, { 'x-amz-checksum-crc32': crc32Base64(Buffer.from('other')) });
    await rejectsWith(decode(wrongChecksum, payload), 'BadDigest');
  });

  it('reads but does not verify chunk signatures for anonymous requests (streaming-unverified)', async () => {
    const payload: StreamingPayload = { kind: 'streaming-unverified', trailer: false, decodedContentLength: 66560, trailerNames: [] };
    const body = Buffer.from(AWS_EXAMPLE_BODY.toString('latin1').replace('chunk-signature=0055', 'chunk-signature=1055'), 'latin1');
    assert.equal((await decode(body, payload)).data.length, 66560);
  });

  it('stops reading the source when the consumer stops, and can be iterated only once', async () => {
    let finished = false;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        yield* pieces(AWS_EXAMPLE_BODY, 1000);
      } finally {
        finished = true;
      }
    }
    const decoder = new AwsChunkedDecoder(source(), awsExamplePayload());
    for await (const _ of decoder) break;
    assert.ok(finished);
    await assert.rejects(Readable.from(decoder).toArray(), /only once/);
  });
});

describe('AwsChunkedDecoder with STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies sent by the AWS SDK', () => {
  interface Captured {
    request: SigV4Request;
    body: Buffer;
  }
  const captured: Captured[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const url = req.url ?? '/';
      const mark = url.indexOf('?');
      const [path, query] = mark === -1 ? [url, ''] : [url.slice(0, mark), url.slice(mark + 1)];
      captured.push({ request: { method: req.method ?? '', path, query, headers: req.headersDistinct }, body: Buffer.concat(parts) });
      res.writeHead(200, { etag: '"0"' }).end();
    });
  });
  let client: S3Client;
  const store = CredentialStore.from({ AKIDSDK: { secret: 'sdk-secret' } });

  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    client = new S3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDSDK', secretAccessKey: 'sdk-secret' },
    });
  });
  after(() => {
    client.destroy();
    server.close();
  });

  /** Uploads `parts` as a stream (which makes the SDK send aws-chunked) and returns what arrived. */
  async function upload(key: string, parts: Buffer[], checksum?: ChecksumAlgorithm): Promise<Captured> {
    captured.length = 0;
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: Readable.from(parts), ContentLength: length, ...(checksum === undefined ? {} : { ChecksumAlgorithm: checksum }) }));
    const [request] = captured;
    assert.ok(request !== undefined);
    return request;
  }

  function payloadOf(request: SigV4Request): StreamingPayload {
    const { payload } = verifyRequest(request, store, { now: new Date() });
    assert.equal(payload.kind, 'streaming-unsigned-trailer');
    return payload as StreamingPayload;
  }

  it('decodes multi-chunk bodies and verifies each checksum algorithm the SDK offers', async () => {
    const parts = [Buffer.alloc(100_000, 'p'), Buffer.from('ü middle 🎉'), Buffer.alloc(33_333, 'q')];
    const all = Buffer.concat(parts);
    const algorithms: Array<[ChecksumAlgorithm | undefined, string]> = [
      [undefined, 'x-amz-checksum-crc32'],
      ['CRC32C', 'x-amz-checksum-crc32c'],
      ['CRC64NVME', 'x-amz-checksum-crc64nvme'],
      ['SHA1', 'x-amz-checksum-sha1'],
      ['SHA256', 'x-amz-checksum-sha256'],
    ];
    for (const [algorithm, trailer] of algorithms) {
      const { request, body } = await upload('dir/a b+c.bin', parts, algorithm);
      assert.equal(request.headers['x-amz-content-sha256']?.[0], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
      assert.deepEqual(body.toString('latin1').match(/^[0-9a-f]+(?=\r\n)/gm), ['186a0', 'e', '8235', '0']);
      const payload = payloadOf(request);
      assert.deepEqual(payload.trailerNames, [trailer]);
      for (const pieceSize of [333, 65536]) {
        const decoded = await decode(body, payload, pieceSize);
        assert.ok(decoded.data.equals(all), `${trailer}, pieces of ${pieceSize}`);
        assert.deepEqual(Object.keys(decoded.trailers), [trailer]);
      }
    }
  });

  it('decodes an SDK body delivered one byte at a time', async () => {
    const { request, body } = await upload('k', [Buffer.from('one '), Buffer.from('two '), Buffer.from('three')]);
    assert.equal((await decode(body, payloadOf(request), 1)).data.toString(), 'one two three');
  });

  it('fails with BadDigest when the data no longer matches the trailing checksum', async () => {
    const { request, body } = await upload('k', [Buffer.from('hello checksum world')], 'CRC32C');
    const tampered = Buffer.from(body.toString('latin1').replace('checksum', 'checksuM'), 'latin1');
    await rejectsWith(decode(tampered, payloadOf(request)), 'BadDigest', /x-amz-checksum-crc32c/);
  });

  it('fails with MalformedTrailerError when an announced trailer is missing or an unannounced one arrives', async () => {
    const { request, body } = await upload('k', [Buffer.from('some data')]);
    const text = body.toString('latin1');
    assert.match(text, /\r\n0\r\nx-amz-checksum-crc32:[\w+/=]+\r\n\r\n$/);
    const withoutTrailer = Buffer.from(text.replace(/x-amz-checksum-crc32:[\w+/=]+\r\n/, ''), 'latin1');
    await rejectsWith(decode(withoutTrailer, payloadOf(request)), 'MalformedTrailerError', /did not arrive/);
    const extra = Buffer.from(text.replace(/\r\n\r\n$/, '\r\nx-amz-meta-sneaky:1\r\n\r\n'), 'latin1');
    await rejectsWith(decode(extra, payloadOf(request)), 'MalformedTrailerError', /not announced/);
    const twice = Buffer.from(text.replace(/(x-amz-checksum-crc32:[\w+/=]+\r\n)/, '$1$1'), 'latin1');
    await rejectsWith(decode(twice, payloadOf(request)), 'MalformedTrailerError', /twice/);
  });

  it('fails with IncompleteBody when the body is truncated before its final chunk', async () => {
    const { request, body } = await upload('k', [Buffer.alloc(5000, 'z')]);
    await rejectsWith(decode(body.subarray(0, 2500), payloadOf(request)), 'IncompleteBody');
    await rejectsWith(decode(body.subarray(0, body.indexOf('\r\n0\r\n') + 2), payloadOf(request)), 'IncompleteBody');
  });
});
