/**
 * The one-shot `send ADDR [MSG...]` (no argument starting with `-`) as a program of its own,
 * the form shell loops run once per message. The launcher `make` writes runs this module
 * directly for that form (one bundle loaded, not the entry's too: ~0.9 ms a start); `cli.ts`
 * imports it for the same form otherwise (`deno run cli.ts`, the compiled binary). Either way it
 * runs `send` through {@linkcode runWithoutOptions} and exits with its code. Where `send`'s
 * flags cannot be had without Stricli, it goes on to the full path: as the main module by
 * running `cli.ts`, imported by returning to it.
 *
 * `IPCAT_DEBUG=startup` marks are those of `cli.ts`: `entry` (run directly), `loaded`, `ran`.
 * @module
 */
import { runWithoutOptions } from "./_plain_send.ts";

// cli.ts's marks, written again: a module both imported would be a chunk of its own that the
// entry reads at every start (make bundles this module apart).
const mark = Deno.env.get("IPCAT_DEBUG") === "startup"
  ? (step: string) => {
    try {
      Deno.stderr.writeSync(
        new TextEncoder().encode(`ipcat: startup: ${step} at ${performance.now().toFixed(1)} ms\n`),
      );
    } catch {
      // stderr closed: the marks are for people.
    }
  }
  : () => {};

if (import.meta.main) mark("entry");
mark("loaded");
const code = await runWithoutOptions(Deno.args.slice(1));
if (code !== undefined) {
  mark("ran");
  Deno.exit(code);
}
if (import.meta.main) {
  // The entry beside this module: cli.js in the bundle (this is bin/ipcat.d/oneshot/), cli.ts
  // in the sources.
  await import(String(new URL(import.meta.url.endsWith(".ts") ? "../cli.ts" : "../cli.js", import.meta.url)));
}
