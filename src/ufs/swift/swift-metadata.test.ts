import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributesFromHeaders, base32, fromBase32, metadataHeaders } from './swift-metadata.js';

/** Headers as Swift gives them back: names lower-cased by undici, values as sent. */
function roundTrip(metadata: Record<string, string>): Record<string, string> {
  const sent = metadataHeaders(metadata);
  const received = Object.fromEntries(Object.entries(sent).map(([k, v]) => [k.toLowerCase().replace(/_/g, '-'), v]));
  return attributesFromHeaders(received).metadata;
}

describe('swift metadata', () => {
  it('sends plain names and printable values as they are', () => {
    assert.deepEqual(metadataHeaders({ owner: 'ana', 'x-note': 'with spaces', v2: '100%' }), {
      'x-object-meta-owner': 'ana',
      'x-object-meta-x-note': 'with spaces',
      'x-object-meta-v2': '100%',
    });
  });

  it('encodes what Swift or HTTP would change, and decodes it back exactly', () => {
    const metadata = {
      under_score: 'u',
      'Upper': 'case',
      '-lead': 'dash',
      'ünï': 'cödé',
      padded: ' x ',
      tab: 'a\tb',
      empty: '',
      'dora-enc-mzxw6': 'a name that looks encoded',
    };
    const headers = metadataHeaders(metadata);
    assert.equal(headers['x-object-meta-empty'], '');
    assert.ok(Object.keys(headers).every((k) => /^x-object-meta-[a-z0-9-]+$/.test(k)), Object.keys(headers).join(', '));
    assert.ok(Object.values(headers).every((v) => /^[\x20-\x7e]*$/.test(v)));
    assert.deepEqual(roundTrip(metadata), metadata);
  });

  it('reads the content type and UTF-8 values other clients write', () => {
    const latin1 = Buffer.from('naïve', 'utf8').toString('latin1');
    assert.deepEqual(attributesFromHeaders({ 'content-type': 'text/csv', 'x-object-meta-word': latin1, 'x-object-meta-raw': 'caf\xe9' }), {
      contentType: 'text/csv',
      metadata: { word: 'naïve', raw: 'caf\xe9' },
    });
  });

  it('base32 round-trips any bytes', () => {
    assert.equal(base32(Buffer.from('foobar')), 'mzxw6ytboi');
    for (const text of ['', 'f', 'fo', 'foo', 'ünï-cödé 😀']) assert.equal(fromBase32(base32(Buffer.from(text))), text);
    assert.equal(fromBase32('not!base32'), undefined);
  });
});
