import { S3AuthError } from './s3-auth-error.js';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads framed bytes out of a body arriving in pieces of any size: lines of bounded length, and runs
 * of bytes handed out as views of the pieces (never copied, never gathered). Holds at most the piece
 * it is in and one line.
 */
export class ChunkedBodyReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  readonly #signal: AbortSignal | undefined;
  #buffer: Buffer = EMPTY;
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>, signal?: AbortSignal) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#signal = signal;
  }

  /**
   * The next line without its line ending, as latin1; undefined at the end of the body. Lines end in
   * CRLF, or also in a bare LF when `bareLf` is set.
   * @throws S3AuthError IncompleteBody when the body ends inside the line, InvalidRequest when the line
   *   is longer than `maxLength` bytes or does not end in CRLF.
   */
  async readLine(maxLength: number, bareLf = false): Promise<string | undefined> {
    const parts: Buffer[] = [];
    let length = 0;
    for (;;) {
      if (!(await this.#fill())) {
        if (length === 0) return undefined;
        throw incomplete('the body ended inside a chunk header or trailer line');
      }
      const lf = this.#buffer.indexOf(LF);
      const end = lf === -1 ? this.#buffer.length : lf;
      length += end;
      // One byte of slack for the CR that belongs to the line ending.
      if (length > maxLength + 1) throw malformed(`a chunk header or trailer line is longer than ${maxLength} bytes`);
      parts.push(this.#buffer.subarray(0, end));
      if (lf === -1) {
        this.#buffer = EMPTY;
        continue;
      }
      this.#buffer = this.#buffer.subarray(lf + 1);
      let line = parts.length === 1 ? (parts[0] ?? EMPTY) : Buffer.concat(parts);
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
      else if (!bareLf) throw malformed(`the line "${preview(line)}" does not end in CRLF`);
      if (line.length > maxLength) throw malformed(`a chunk header or trailer line is longer than ${maxLength} bytes`);
      return line.toString('latin1');
    }
  }

  /** Up to `max` bytes (at least one), as a view of the current piece; undefined at the end of the body. */
  async read(max: number): Promise<Buffer | undefined> {
    if (!(await this.#fill())) return undefined;
    const piece = this.#buffer.subarray(0, max);
    this.#buffer = this.#buffer.subarray(piece.length);
    return piece;
  }

  /** @throws S3AuthError IncompleteBody at the end of the body, InvalidRequest when the next bytes are not CRLF. */
  async expectCrlf(): Promise<void> {
    for (const expected of [CR, LF]) {
      if (!(await this.#fill())) throw incomplete('the body ended before the CRLF that closes a chunk');
      if (this.#buffer[0] !== expected) throw malformed('a chunk is longer than its declared size (no CRLF where it should end)');
      this.#buffer = this.#buffer.subarray(1);
    }
  }

  /** Whether the body has no bytes left. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Stops reading the source (which destroys a Node stream). Idempotent. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#buffer = EMPTY;
    await this.#iterator.return?.();
  }

  async #fill(): Promise<boolean> {
    while (this.#buffer.length === 0) {
      if (this.#done) return false;
      this.#signal?.throwIfAborted();
      const next = await this.#iterator.next();
      if (next.done === true) {
        this.#done = true;
        return false;
      }
      const piece = next.value;
      this.#buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    }
    return true;
  }
}

function preview(line: Buffer): string {
  const text = line.subarray(0, 64).toString('latin1');
  return line.length > 64 ? `${text}…` : text;
}

function incomplete(cause: string): S3AuthError {
  return new S3AuthError('IncompleteBody', `Cannot decode the aws-chunked body: ${cause}`);
}

function malformed(cause: string): S3AuthError {
  return new S3AuthError('InvalidRequest', `Cannot decode the aws-chunked body: ${cause}`);
}
