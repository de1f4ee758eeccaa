/**
 * Byte buffers the decoders share.
 *
 * @module
 */
export { concatBytes } from "../bytes.ts";

/** Nothing held: shared, since an empty array can never be written to (one per decoder cost ~100 B each). */
const EMPTY = new Uint8Array(0);

/**
 * The bytes of an unfinished message, in one buffer that doubles as they arrive (at most
 * `limit` bytes, when the final size is known). A list of the pieces instead costs an
 * object per read: a peer dribbling one byte per write made each pending byte cost ~470.
 */
export class PendingBytes {
  #buffer = EMPTY;
  #length = 0;

  /** Bytes held so far. */
  get length(): number {
    return this.#length;
  }

  /** The bytes held so far, as a view valid until the next `append` or `take`. */
  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  /** Copy `bytes` in (the caller may reuse them); never grows past `limit` bytes. */
  append(bytes: Uint8Array, limit = Infinity): void {
    const need = this.#length + bytes.length;
    if (need > this.#buffer.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(need, 2 * this.#buffer.length, 64), Math.max(limit, need)),
      );
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#length);
    this.#length = need;
  }

  /** The bytes so far followed by `tail`, as one array; the buffer starts empty again. */
  take(tail: Uint8Array = EMPTY): Uint8Array {
    let out: Uint8Array;
    if (this.#length + tail.length === this.#buffer.length) {
      this.#buffer.set(tail, this.#length);
      out = this.#buffer;
    } else {
      // A view would pin the spare capacity for as long as the caller keeps the message.
      out = new Uint8Array(this.#length + tail.length);
      out.set(this.#buffer.subarray(0, this.#length));
      out.set(tail, this.#length);
    }
    this.#buffer = EMPTY;
    this.#length = 0;
    return out;
  }
}
