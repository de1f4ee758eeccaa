import { FrameError } from "../errors.ts";

export { concatBytes } from "../bytes.ts";

/**
 * Run one decoder step that fills `out`; if it throws a `FrameError`, attach the messages
 * completed before the bad bytes (`error.decoded`) so a caller can deliver them first.
 */
export function keepDecoded(out: Uint8Array[], step: () => Uint8Array[]): Uint8Array[] {
  try {
    return step();
  } catch (error) {
    if (error instanceof FrameError) error.decoded = out;
    throw error;
  }
}
