import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import { rejectsAuth } from '../../testing/s3-auth-assertions.js';
import { isS3AuthError } from './s3-auth-error.js';
import { CredentialStore } from './s3-credentials.js';
import { verifyRequest, type SigV4Request, type VerifyOptions } from './sigv4-verifier.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const rejects = rejectsAuth;

describe('verifyRequest with the examples of the AWS SigV4 documentation', () => {
  const store = CredentialStore.from({ AKIAIOSFODNN7EXAMPLE: { secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } });
  const options = { now: new Date('2013-05-24T00:05:00Z') };
  const auth = (signedHeaders: string, signature: string): string =>
    `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
  const host = 'examplebucket.s3.amazonaws.com';

  const getObject: SigV4Request = {
    method: 'GET',
    path: '/test.txt',
    query: '',
    headers: {
      host,
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: auth('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
    },
  };

  it('accepts GET Object and reports the signed empty payload hash', () => {
    const result = verifyRequest(getObject, store, options);
    assert.equal(result.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
    assert.deepEqual(result.payload, { kind: 'sha256', hex: EMPTY_SHA256 });
  });

  it('accepts PUT Object whose key has a "$" and whose Date header is signed too', () => {
    const result = verifyRequest(
      {
        method: 'PUT',
        path: '/test%24file.text',
        query: '',
        headers: {
          host,
          date: 'Fri, 24 May 2013 00:00:00 GMT',
          'x-amz-date': '20130524T000000Z',
          'x-amz-storage-class': 'REDUCED_REDUNDANCY',
          'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
          'content-length': '21',
          authorization: auth('date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd'),
        },
      },
      store,
      options,
    );
    assert.deepEqual(result.payload, { kind: 'sha256', hex: '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072' });
  });

  it('accepts sub-resource and parameter queries (?lifecycle, ?max-keys=2&prefix=J)', () => {
    const headers = { host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z' };
    const signed = 'host;x-amz-content-sha256;x-amz-date';
    verifyRequest({ method: 'GET', path: '/', query: 'lifecycle', headers: { ...headers, authorization: auth(signed, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543') } }, store, options);
    verifyRequest({ method: 'GET', path: '/', query: '?max-keys=2&prefix=J', headers: { ...headers, authorization: auth(signed, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7') } }, store, options);
  });

  it('accepts the presigned GET example within its 86400 s and refuses it after', () => {
    const request: SigV4Request = {
      method: 'GET',
      path: '/test.txt',
      query:
        'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
        '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host },
    };
    const result = verifyRequest(request, store, { now: new Date('2013-05-24T23:59:59Z') });
    assert.deepEqual(result.payload, { kind: 'unsigned' });
    assert.throws(() => verifyRequest(request, store, { now: new Date('2013-05-25T00:00:01Z') }), rejects('AccessDenied', /expired/));
  });

  it('rejects a tampered range header, path or signature with SignatureDoesNotMatch and explains the canonical request', () => {
    const tampered = [
      { ...getObject, headers: { ...getObject.headers, range: 'bytes=0-99' } },
      { ...getObject, path: '/test.txT' },
      { ...getObject, query: 'versionId=1' },
      { ...getObject, method: 'DELETE' },
    ];
    for (const request of tampered) assert.throws(() => verifyRequest(request, store, options), rejects('SignatureDoesNotMatch'));
    try {
      verifyRequest(tampered[0] ?? getObject, store, options);
    } catch (error) {
      assert.ok(isS3AuthError(error));
      assert.match(error.details.CanonicalRequest ?? '', /^GET\n\/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-99\n/);
      assert.match(error.details.StringToSign ?? '', /^AWS4-HMAC-SHA256\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
    }
    const header = String(getObject.headers.authorization);
    const badSignature = header.replace(/Signature=f0/, 'Signature=f1');
    assert.throws(() => verifyRequest({ ...getObject, headers: { ...getObject.headers, authorization: badSignature } }, store, options), rejects('SignatureDoesNotMatch'));
  });

  it('accepts the upper-case hex of a signature', () => {
    const header = String(getObject.headers.authorization).replace(/Signature=(\w+)/, (_, s: string) => `Signature=${s.toUpperCase()}`);
    verifyRequest({ ...getObject, headers: { ...getObject.headers, authorization: header } }, store, options);
  });
});

describe('verifyRequest with requests captured from the AWS CLI (botocore 1.43)', () => {
  const store = CredentialStore.from({ AKIDCLI: { secret: 'cli/secret+key' } });
  const common = { host: ['127.0.0.1:18998'], 'accept-encoding': ['identity'], 'amz-sdk-request': ['attempt=1'] };

  // aws s3 cp small.txt 's3://bucket/dir/ü and spaces+plus%pct~(x).txt' --metadata 'note=a  b'
  const upload: SigV4Request = {
    method: 'PUT',
    path: '/bucket/dir/%C3%BC%20and%20spaces%2Bplus%25pct~%28x%29.txt',
    query: '',
    headers: {
      ...common,
      'x-amz-meta-note': ['a  b'],
      'x-amz-sdk-checksum-algorithm': ['CRC32'],
      'content-type': ['text/plain'],
      'user-agent': ['aws-cli/1.45.11 md/Botocore#1.43.11'],
      expect: ['100-continue'],
      'x-amz-checksum-crc32': ['jvqhiA=='],
      'x-amz-date': ['20261121T212954Z'],
      'x-amz-content-sha256': ['04d0a6bb2bf7b02f10f24fbe070305e1d87d00ca3b2c8dab925bbc3329b62f83'],
      authorization: [
        'AWS4-HMAC-SHA256 Credential=AKIDCLI/20261121/eu-west-3/s3/aws4_request, SignedHeaders=content-type;host;x-amz-checksum-crc32;' +
          'x-amz-content-sha256;x-amz-date;x-amz-meta-note;x-amz-sdk-checksum-algorithm, Signature=5e5356f6c016b8bd1377dd8acf3511917d3a00a72784d87f899f8cc22b0ba466',
      ],
      'amz-sdk-invocation-id': ['c13bf7a1-6bfa-43e6-9286-4f9894463988'],
      'content-length': ['23'],
    },
  };

  // aws s3api list-objects-v2 --bucket bucket --prefix 'dir/ü a+b' --delimiter / --max-keys 7
  const list: SigV4Request = {
    method: 'GET',
    path: '/bucket',
    query: 'list-type=2&delimiter=%2F&max-keys=7&prefix=dir%2F%C3%BC%20a%2Bb&encoding-type=url',
    headers: {
      ...common,
      'x-amz-date': ['20261121T212955Z'],
      'x-amz-content-sha256': [EMPTY_SHA256],
      authorization: [
        'AWS4-HMAC-SHA256 Credential=AKIDCLI/20261121/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, ' +
          'Signature=f215f3ea25873f7bf046abfc3f4b013a0182f462e46c740c929caf5c65bf67f4',
      ],
    },
  };

  // aws s3 presign (s3v4) of the uploaded key, --expires-in 3600
  const presigned: SigV4Request = {
    method: 'GET',
    path: '/bucket/dir/%C3%BC%20and%20spaces%2Bplus%25pct~%28x%29.txt',
    query:
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDCLI%2F20261121%2Feu-west-3%2Fs3%2Faws4_request&X-Amz-Date=20261121T212956Z' +
      '&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=8d71c76f9fea03f834d48d651300b846a4953e4d3b0d217f6c9d5a3bcf9d46d4',
    headers: { host: ['127.0.0.1:18998'], 'user-agent': ['curl/8.5.0'] },
  };

  const options: VerifyOptions = { now: new Date('2026-11-21T21:30:00Z'), region: 'eu-west-3' };

  it('accepts an upload whose key has UTF-8, spaces, + and %, and whose metadata has inner spaces to fold', () => {
    const result = verifyRequest(upload, store, options);
    assert.deepEqual(result, { accessKeyId: 'AKIDCLI', payload: { kind: 'sha256', hex: '04d0a6bb2bf7b02f10f24fbe070305e1d87d00ca3b2c8dab925bbc3329b62f83' } });
  });

  it('accepts a listing whose query parameters arrive unsorted and percent-encoded', () => {
    verifyRequest(list, store, options);
  });

  it('accepts its presigned URL, with unsigned headers such as user-agent, until it expires', () => {
    verifyRequest(presigned, store, options);
    assert.throws(() => verifyRequest(presigned, store, { ...options, now: new Date('2026-11-21T22:30:00Z') }), rejects('AccessDenied', /expired/));
  });

  it('rejects the same requests with a changed key, query value or metadata', () => {
    const checks: SigV4Request[] = [
      { ...upload, path: upload.path.replace('%2Bplus', '%20plus') },
      { ...upload, headers: { ...upload.headers, 'x-amz-meta-note': ['a  c'] } },
      { ...list, query: list.query.replace('max-keys=7', 'max-keys=8') },
      { ...list, query: `${list.query}&start-after=z` },
      { ...presigned, path: presigned.path.replace('dir', 'Dir') },
    ];
    for (const request of checks) assert.throws(() => verifyRequest(request, store, options), rejects('SignatureDoesNotMatch'));
  });

  it('rejects a credential scoped to another region when the region is configured', () => {
    assert.throws(() => verifyRequest(list, store, { ...options, region: 'us-east-1' }), rejects('AuthorizationHeaderMalformed', /region "eu-west-3"/));
    assert.throws(() => verifyRequest(presigned, store, { ...options, region: 'us-east-1' }), rejects('AuthorizationQueryParametersError'));
  });
});

describe('verifyRequest with requests signed by the AWS SDK for JavaScript (SignatureV4)', () => {
  const accessKeyId = 'AKIDSDK';
  const secretAccessKey = 'sdk/Secret+Key=with/odd+chars';
  const store = CredentialStore.from({ [accessKeyId]: { secret: secretAccessKey } });
  const signingDate = new Date('2024-03-10T12:00:00Z');
  const options: VerifyOptions = { now: new Date('2024-03-10T12:05:00Z') };
  const signer = new SignatureV4({
    service: 's3',
    region: 'eu-central-1',
    credentials: { accessKeyId, secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
  });

  /** The S3 client's encoding of a key into the path: each segment with encodeURIComponent, plus !'()*. */
  const escapeUri = (text: string): string =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const s3Path = (bucket: string, key: string): string => `/${bucket}/${key.split('/').map(escapeUri).join('/')}`;

  /** What the server receives for a signed request: the query built as the SDK's HTTP handler builds it. */
  function received(request: HttpRequest): SigV4Request {
    const query = Object.entries(request.query ?? {})
      .flatMap(([name, value]): string[] => {
        const values: readonly string[] = value === null ? [] : typeof value === 'string' ? [value] : value;
        return values.map((v) => `${escapeUri(name)}=${escapeUri(v)}`);
      })
      .join('&');
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
    return { method: request.method, path: request.path, query, headers };
  }

  /** Presigns as @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD, hoisted into the query as X-Amz-Content-Sha256. */
  const presign = (toSign: HttpRequest, expiresIn: number, hashHeader = 'X-Amz-Content-Sha256'): Promise<HttpRequest> =>
    signer.presign({ ...toSign, headers: { ...toSign.headers, [hashHeader]: 'UNSIGNED-PAYLOAD' } }, { signingDate, expiresIn });

  function request(method: string, key: string, query: QueryParameterBag, headers: Record<string, string> = {}, body?: string): HttpRequest {
    return {
      method,
      protocol: 'http:',
      hostname: 'localhost',
      port: 9000,
      path: s3Path('bucket', key),
      query,
      headers: { host: 'localhost:9000', ...headers },
      ...(body === undefined ? {} : { body }),
    };
  }

  const keys = ['plain.txt', 'dir/with spaces.txt', 'ünïcödé/日本語 🎉.txt', 'a+b%c&d=e?.txt', "quote's (1)*!~.txt", 'slashes//double/'];
  const queries: QueryParameterBag[] = [
    {},
    { 'x-id': 'GetObject' },
    { 'response-content-type': 'text/plain; charset=utf-8', 'response-content-disposition': 'attachment; filename="a b.txt"' },
    { prefix: 'a b+c/ü', delimiter: '/', 'list-type': '2', uploads: '' },
    { tags: ['z', 'a', 'm'] },
  ];

  it('accepts header-signed GET and PUT for keys with spaces, unicode, +, % and reserved characters', async () => {
    for (const key of keys) {
      for (const query of queries) {
        const get = await signer.sign(request('GET', key, query), { signingDate });
        assert.deepEqual(verifyRequest(received(get), store, options).payload, { kind: 'sha256', hex: EMPTY_SHA256 }, `GET ${key}`);
        const put = await signer.sign(request('PUT', key, query, { 'content-type': 'text/plain', 'x-amz-meta-note': '  folded   spaces  ' }, 'body'), { signingDate });
        const result = verifyRequest(received(put), store, options);
        assert.equal(result.accessKeyId, accessKeyId);
        assert.equal(result.payload.kind, 'sha256', `PUT ${key}`);
      }
    }
  });

  it('accepts presigned GET and PUT for the same keys and queries', async () => {
    for (const key of keys) {
      for (const query of queries) {
        for (const method of ['GET', 'PUT']) {
          const presigned = await presign(request(method, key, query, { 'content-type': 'application/octet-stream' }), 3600);
          assert.ok('X-Amz-Signature' in (presigned.query ?? {}));
          assert.equal(presigned.query?.['X-Amz-Content-Sha256'], 'UNSIGNED-PAYLOAD');
          assert.deepEqual(verifyRequest(received(presigned), store, options).payload, { kind: 'unsigned' }, `${method} ${key}`);
        }
      }
    }
    const lowerCase = await presign(request('GET', 'k', {}), 3600, 'x-amz-content-sha256');
    assert.deepEqual(verifyRequest(received(lowerCase), store, options).payload, { kind: 'unsigned' });
  });

  it('accepts a path whose characters the client escaped differently on the wire than when signing', async () => {
    const signed = received(await signer.sign(request('GET', "it's (here)!.txt", {}), { signingDate }));
    assert.equal(signed.path, '/bucket/it%27s%20%28here%29%21.txt');
    verifyRequest({ ...signed, path: "/bucket/it's%20(here)!.txt" }, store, options);
    verifyRequest({ ...signed, path: '/bucket/it%27s%20%28here%29%21%2etxt' }, store, options);
    // An encoded slash is not a slash: it may name another key or bucket.
    const nested = received(await signer.sign(request('GET', 'a/b', {}), { signingDate }));
    assert.throws(() => verifyRequest({ ...nested, path: '/bucket/a%2Fb' }, store, options), rejects('SignatureDoesNotMatch'));
  });

  it('rejects tampered presigned URLs: path, query parameter, expiry, signed header', async () => {
    const presigned = received(await presign(request('PUT', 'dir/a b.txt', { 'x-id': 'PutObject' }, { 'content-type': 'text/plain' }), 600));
    verifyRequest(presigned, store, options);
    const tampered: SigV4Request[] = [
      { ...presigned, path: '/bucket/dir/a%20c.txt' },
      { ...presigned, method: 'DELETE' },
      { ...presigned, query: presigned.query.replace('X-Amz-Expires=600', 'X-Amz-Expires=6000') },
      { ...presigned, query: `${presigned.query}&acl=` },
      { ...presigned, headers: { ...presigned.headers, 'content-type': 'text/html' } },
      { ...presigned, query: presigned.query.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`) },
    ];
    for (const request of tampered) assert.throws(() => verifyRequest(request, store, options), rejects('SignatureDoesNotMatch'));
  });

  it('refuses unsigned x-amz-* headers added to a presigned or header-signed request', async () => {
    const presigned = received(await presign(request('PUT', 'k', {}), 600));
    const withMeta = { ...presigned, headers: { ...presigned.headers, 'x-amz-meta-injected': 'yes' } };
    assert.throws(() => verifyRequest(withMeta, store, options), rejects('AccessDenied', /x-amz-meta-injected/));
    const signed = received(await signer.sign(request('PUT', 'k', {}, {}, 'x'), { signingDate }));
    const withCopy = { ...signed, headers: { ...signed.headers, 'x-amz-copy-source': '/other/secret' } };
    assert.throws(() => verifyRequest(withCopy, store, options), rejects('AccessDenied'));
    // Informational only, and not every SDK signs it.
    verifyRequest({ ...signed, headers: { ...signed.headers, 'x-amz-user-agent': 'aws-sdk-rust/1.0' } }, store, options);
  });

  it('compares header values as bytes on the wire, so UTF-8 metadata verifies', async () => {
    const signed = received(await signer.sign(request('PUT', 'k', {}, { 'x-amz-meta-name': 'zoë 日本' }, 'x'), { signingDate }));
    const wire = Buffer.from('zoë 日本', 'utf8').toString('latin1');
    verifyRequest({ ...signed, headers: { ...signed.headers, 'x-amz-meta-name': wire } }, store, options);
  });

  it('canonicalises repeated headers from headersDistinct as comma-joined values', async () => {
    const signed = received(await signer.sign(request('GET', 'k', {}, { 'x-amz-meta-list': 'one,two' }), { signingDate }));
    verifyRequest({ ...signed, headers: { ...signed.headers, 'x-amz-meta-list': ['one', ' two '] } }, store, options);
  });

  it('rejects an unknown access key with InvalidAccessKeyId and a wrong secret with SignatureDoesNotMatch', async () => {
    const signed = received(await signer.sign(request('GET', 'k', {}), { signingDate }));
    assert.throws(() => verifyRequest(signed, CredentialStore.from({ OTHER: { secret: 'x' } }), options), rejects('InvalidAccessKeyId'));
    assert.throws(() => verifyRequest(signed, CredentialStore.from({ [accessKeyId]: { secret: 'wrong' } }), options), rejects('SignatureDoesNotMatch'));
  });

  it('rejects a request signed more than the allowed skew away from the server clock, either way', async () => {
    const signed = received(await signer.sign(request('GET', 'k', {}), { signingDate }));
    verifyRequest(signed, store, { now: new Date(signingDate.getTime() + 15 * 60_000) });
    verifyRequest(signed, store, { now: new Date(signingDate.getTime() - 15 * 60_000) });
    for (const offset of [15 * 60_000 + 1000, -15 * 60_000 - 1000]) {
      assert.throws(() => verifyRequest(signed, store, { now: new Date(signingDate.getTime() + offset) }), (error: unknown) => {
        assert.ok(isS3AuthError(error, 'RequestTimeTooSkewed'));
        assert.equal(error.status, 403);
        assert.equal(error.details.RequestTime, '20240310T120000Z');
        return true;
      });
    }
    assert.throws(() => verifyRequest(signed, store, { now: new Date(signingDate.getTime() + 61_000), maxSkewMs: 60_000 }), rejects('RequestTimeTooSkewed'));
  });

  it('rejects presigned URLs that expired, are not valid yet, or claim more than seven days', async () => {
    const presigned = received(await presign(request('GET', 'k', {}), 60));
    assert.throws(() => verifyRequest(presigned, store, { now: new Date(signingDate.getTime() + 61_000) }), rejects('AccessDenied', /expired/));
    assert.throws(() => verifyRequest(presigned, store, { now: new Date(signingDate.getTime() - 16 * 60_000) }), rejects('AccessDenied', /not valid yet/));
    const week = received(await presign(request('GET', 'k', {}), 604_800));
    verifyRequest(week, store, { now: new Date(signingDate.getTime() + 604_000_000) });
    const tooLong = { ...week, query: week.query.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801') };
    assert.throws(() => verifyRequest(tooLong, store, options), rejects('AuthorizationQueryParametersError', /604800/));
  });

  it('describes streaming payloads with their decoded length, trailers and signing context', async () => {
    const headers = {
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '1234',
      'x-amz-trailer': 'x-amz-checksum-crc32c',
    };
    const signed = received(await signer.sign(request('PUT', 'k', {}, headers), { signingDate }));
    const { payload } = verifyRequest(signed, store, options);
    assert.equal(payload.kind, 'streaming-signed');
    assert.ok(payload.kind === 'streaming-signed');
    assert.equal(payload.trailer, true);
    assert.equal(payload.decodedContentLength, 1234);
    assert.deepEqual(payload.trailerNames, ['x-amz-checksum-crc32c']);
    assert.equal(payload.scope, '20240310/eu-central-1/s3/aws4_request');
    assert.equal(payload.amzDate, '20240310T120000Z');
    assert.equal(payload.seedSignature, /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1]);

    const unsigned = received(await signer.sign(request('PUT', 'k', {}, { ...headers, 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), { signingDate }));
    assert.deepEqual(verifyRequest(unsigned, store, options).payload, {
      kind: 'streaming-unsigned-trailer',
      decodedContentLength: 1234,
      trailerNames: ['x-amz-checksum-crc32c'],
    });
  });

  it('rejects payload declarations it cannot honour', async () => {
    const sign = async (headers: Record<string, string>): Promise<SigV4Request> => received(await signer.sign(request('PUT', 'k', {}, headers), { signingDate }));
    assert.throws(() => verifyRequest({ ...received(request('PUT', 'k', {})), headers: {} }, store, options), rejects('AccessDenied', /anonymous/));
    const noLength = await sign({ 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' });
    assert.throws(() => verifyRequest(noLength, store, options), (error: unknown) => isS3AuthError(error, 'MissingContentLength') && error.status === 411);
    const badLength = await sign({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '-1' });
    assert.throws(() => verifyRequest(badLength, store, options), rejects('InvalidArgument'));
    const unknown = await sign({ 'x-amz-content-sha256': 'SOMETHING-ELSE' });
    assert.throws(() => verifyRequest(unknown, store, options), rejects('InvalidArgument', /x-amz-content-sha256 must be/));
    const sigv4a = await sign({ 'x-amz-content-sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '1' });
    assert.throws(() => verifyRequest(sigv4a, store, options), rejects('InvalidRequest', /SigV4a/));
  });

  it('requires x-amz-content-sha256 for a header-signed request that has a body', async () => {
    const signed = received(await signer.sign(request('PUT', 'k', {}, { 'x-amz-content-sha256': EMPTY_SHA256, 'content-length': '5' }), { signingDate }));
    const { 'x-amz-content-sha256': _, ...withoutHash } = signed.headers;
    assert.throws(() => verifyRequest({ ...signed, headers: withoutHash }, store, options), rejects('MissingSecurityHeader'));
  });

  it('rejects a request that uses the Authorization header and a presigned query at once', async () => {
    const presigned = received(await presign(request('GET', 'k', {}), 60));
    const signed = received(await signer.sign(request('GET', 'k', {}), { signingDate }));
    assert.throws(() => verifyRequest({ ...presigned, headers: signed.headers }, store, options), rejects('InvalidArgument', /two mechanisms/));
  });
});
