/**
 * `--wait` (send, pipe, inspect): connecting to a server that may not be up yet.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address/mod.ts";
 * import { UnavailableError } from "./errors.ts";
 * import { connectWithWait } from "./retry.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/nobody.sock`);
 * try {
 *   await connectWithWait(address, 100);
 * } catch (error) {
 *   console.log(error instanceof UnavailableError); // true, after 100 ms of retries
 * }
 * ```
 * @module
 */
import type { Address, Connection, ConnectOptions } from "./address/types.ts";
import { connect } from "./address/mod.ts";
import { UnavailableError } from "./errors.ts";

/** How often `--wait` retries. */
const RETRY_MS = 25;

/**
 * Connect to `address`; while it is missing or refuses, retry until `waitMs` has passed.
 * The last `UnavailableError` is thrown when the wait runs out.
 */
export async function connectWithWait(
  address: Address,
  waitMs = 0,
  options: ConnectOptions = {},
): Promise<Connection> {
  const deadline = Date.now() + waitMs;
  while (true) {
    try {
      return await connect(address, options);
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      if (Date.now() >= deadline) {
        // The usual hint ("--wait 5s retries") is no help to someone who already waited.
        throw waitMs > 0 ? new UnavailableError(`${error.message}, still after waiting ${waitMs} ms`) : error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MS, deadline - Date.now())));
    }
  }
}
