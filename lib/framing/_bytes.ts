import { FrameError } from "../errors.ts";

/** Join byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

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
