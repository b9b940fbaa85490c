import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { openPayloadBody } from './open-payload-body.js';
import { isS3AuthError, type S3AuthErrorCode } from './s3-auth-error.js';
import { assertPayloadHash } from './verify-sha256-payload.js';

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');
const source = (...parts: string[]): AsyncIterable<Uint8Array> => Readable.from(parts.map((p) => Buffer.from(p)));
const read = async (body: AsyncIterable<Uint8Array>): Promise<string> => {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts).toString();
};
const failsWith = (s3Code: S3AuthErrorCode) => (error: unknown): boolean => isS3AuthError(error, s3Code);

describe('openPayloadBody', () => {
  it('passes an unsigned body through untouched', async () => {
    const body = openPayloadBody(source('any ', 'bytes'), { kind: 'unsigned' });
    assert.equal(await read(body), 'any bytes');
    assert.deepEqual(body.trailers, {});
  });

  it('passes a signed body through when it hashes to the declared x-amz-content-sha256, in upper or lower case', async () => {
    assert.equal(await read(openPayloadBody(source('hello ', 'world'), { kind: 'sha256', hex: sha256('hello world') })), 'hello world');
    assert.equal(await read(openPayloadBody(source(''), { kind: 'sha256', hex: sha256('') })), '');
    assertPayloadHash(sha256('x'), sha256('x').toUpperCase());
  });

  it('fails with XAmzContentSHA256Mismatch at the end when the body hashes differently', async () => {
    const body = openPayloadBody(source('hello ', 'world'), { kind: 'sha256', hex: sha256('hello there') });
    await assert.rejects(read(body), (error: unknown) => {
      assert.ok(isS3AuthError(error, 'XAmzContentSHA256Mismatch'));
      assert.equal(error.status, 400);
      assert.equal(error.details.ClientComputedContentSHA256, sha256('hello there'));
      return true;
    });
  });

  it('checks the body against its Content-Length when given', async () => {
    const payload = { kind: 'sha256', hex: sha256('12345') } as const;
    assert.equal(await read(openPayloadBody(source('123', '45'), payload, { contentLength: 5 })), '12345');
    await assert.rejects(read(openPayloadBody(source('123'), payload, { contentLength: 5 })), failsWith('IncompleteBody'));
    await assert.rejects(read(openPayloadBody(source('123', '456'), payload, { contentLength: 5 })), failsWith('InvalidRequest'));
  });

  it('decodes aws-chunked payloads and exposes their verified trailers', async () => {
    const payload = { kind: 'streaming-unsigned-trailer', decodedContentLength: 5, trailerNames: ['x-amz-checksum-crc32'] } as const;
    const body = openPayloadBody(source('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n'), payload);
    assert.equal(await read(body), 'hello');
    assert.deepEqual(body.trailers, { 'x-amz-checksum-crc32': 'NhCmhg==' });
  });

  it('refuses a trailer announcing a checksum algorithm it cannot verify', () => {
    const payload = { kind: 'streaming-unsigned-trailer', decodedContentLength: 5, trailerNames: ['x-amz-checksum-md5'] } as const;
    assert.throws(() => openPayloadBody(source(''), payload), failsWith('InvalidRequest'));
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(read(openPayloadBody(source('x'), { kind: 'sha256', hex: sha256('x') }, { signal: controller.signal })), { name: 'AbortError' });
  });
});
