import { pipeline, Transform, type Readable } from 'node:stream';

/**
 * Passes `source` through, failing with `wrong()` when it carries more or fewer than `expected`
 * bytes: a datanode's answer sent without a Content-Length (chunked) can end early and still
 * look complete. Destroying the result destroys the source.
 */
export function exactLength(source: Readable, expected: number, wrong: () => Error): Readable {
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > expected ? wrong() : null, chunk);
    },
    flush(done) {
      done(seen === expected ? null : wrong());
    },
  });
  return pipeline(source, counted, () => undefined);
}
