import { hash } from 'node:crypto';

/**
 * Where `text` falls on the hash ring: the first 6 bytes of the MD5 of its UTF-8 bytes, read as a
 * big-endian unsigned integer (0 ≤ position < 2⁴⁸, exact in a double). A lone surrogate is
 * encoded as U+FFFD, as everywhere in Node.
 *
 * MD5 because any language computes it the same way (a client in another runtime can build the
 * same ring) and it spreads short, similar strings like `worker-1#17` evenly; it is not used for
 * security. 48 bits keep collisions among a million ring points rare (about 1 ring in 500), and
 * the ring orders points at the same position by member id.
 */
export function ringPosition(text: string): number {
  // The one-shot hash() with a 'binary' (latin1) digest, one char a byte, is the quickest way to
  // the bytes: about 0.4 µs, where a Buffer digest or createHash() take several times as long.
  const digest = hash('md5', text, 'binary');
  const high = (digest.charCodeAt(0) << 16) | (digest.charCodeAt(1) << 8) | digest.charCodeAt(2);
  const low = (digest.charCodeAt(3) << 16) | (digest.charCodeAt(4) << 8) | digest.charCodeAt(5);
  return high * 0x100_0000 + low;
}
