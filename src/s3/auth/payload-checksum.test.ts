import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checksumAlgorithmOf, createPayloadChecksum, type ChecksumAlgorithm } from './payload-checksum.js';

const hexToBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

// The standard check value of each algorithm: its checksum of the ASCII bytes "123456789".
const CHECK_VALUES: Record<ChecksumAlgorithm, string> = {
  crc32: hexToBase64('cbf43926'),
  crc32c: hexToBase64('e3069283'),
  crc64nvme: hexToBase64('ae8b14860a799888'),
  sha1: hexToBase64('f7c3bc1d808e04732adf679965ccc34ca7ae3441'),
  sha256: hexToBase64('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'),
};

describe('createPayloadChecksum', () => {
  it('gives the standard check value of every algorithm, base64 of the big-endian value', () => {
    for (const [algorithm, expected] of Object.entries(CHECK_VALUES) as Array<[ChecksumAlgorithm, string]>) {
      const checksum = createPayloadChecksum(algorithm);
      checksum.update(Buffer.from('123456789'));
      assert.equal(checksum.digest(), expected, algorithm);
    }
  });

  it('gives the same value fed in pieces as in one go, including for empty input', () => {
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 31) % 256));
    for (const algorithm of Object.keys(CHECK_VALUES) as ChecksumAlgorithm[]) {
      const whole = createPayloadChecksum(algorithm);
      whole.update(data);
      const pieces = createPayloadChecksum(algorithm);
      for (let offset = 0; offset < data.length; offset += 777) pieces.update(data.subarray(offset, offset + 777));
      pieces.update(Buffer.alloc(0));
      assert.equal(pieces.digest(), whole.digest(), algorithm);
    }
    assert.equal(createPayloadChecksum('crc32').digest(), 'AAAAAA==');
    assert.equal(createPayloadChecksum('crc64nvme').digest(), 'AAAAAAAAAAA=');
  });

  it('names the algorithm of an x-amz-checksum-* header, and nothing else', () => {
    assert.equal(checksumAlgorithmOf('x-amz-checksum-crc64nvme'), 'crc64nvme');
    assert.equal(checksumAlgorithmOf('x-amz-checksum-md5'), undefined);
    assert.equal(checksumAlgorithmOf('x-amz-meta-crc32'), undefined);
  });
});
