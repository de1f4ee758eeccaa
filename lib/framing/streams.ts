/**
 * Web Streams faces of the framing codecs. Kept out of `mod.ts`: referencing the stream
 * classes at module load makes Deno load its streams implementation (~3 ms at startup).
 *
 * @example
 * ```ts
 * import { parseFraming } from "./mod.ts";
 * import { FrameDecoderStream } from "./streams.ts";
 *
 * const bytes = ReadableStream.from([new TextEncoder().encode("a\nb"), new TextEncoder().encode("c\n")]);
 * for await (const messages of bytes.pipeThrough(new FrameDecoderStream(parseFraming("lines")))) {
 *   console.log(messages.map((m) => new TextDecoder().decode(m))); // ["a"], then ["bc"]
 * }
 * ```
 * @module
 */
import { DEFAULT_MAX_FRAME } from "./mod.ts";
import type { FrameDecoder, Framing } from "./types.ts";

/**
 * Web Streams face of a decoder: bytes in, one array of messages out per chunk that
 * completes any.
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Uint8Array[]> {
  /** Decode with `framing`, accepting messages of at most `maxFrame` bytes. */
  constructor(framing: Framing, maxFrame: number = DEFAULT_MAX_FRAME) {
    const decoder: FrameDecoder = framing.decoder(maxFrame);
    super({
      transform(chunk, controller) {
        const messages: Uint8Array[] = [];
        try {
          decoder.push(chunk, messages);
        } finally {
          // The messages before bad bytes still go downstream, ahead of the error.
          if (messages.length) controller.enqueue(messages);
        }
      },
      flush(controller) {
        const messages: Uint8Array[] = [];
        decoder.end(messages);
        if (messages.length) controller.enqueue(messages);
      },
    });
  }
}

/** Web Streams face of an encoder: arrays of messages in, one framed buffer out per array. */
export class FrameEncoderStream extends TransformStream<Uint8Array[], Uint8Array> {
  /** Encode with `framing`. */
  constructor(framing: Framing) {
    super({
      transform(messages, controller) {
        controller.enqueue(framing.encode(messages));
      },
    });
  }
}
