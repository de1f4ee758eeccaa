/**
 * Everything cli.ts needs once it knows a command will run, as one module: cli.ts imports
 * it with one dynamic import, so `--version` loads none of it, and a run pays for one module
 * load (Deno prepares a module graph for each dynamic import) instead of one per module.
 * @module
 */
export {
  ArgumentScannerError,
  buildApplication,
  buildCommand,
  buildRouteMap,
  run,
  text_en,
} from "@stricli/core";
export { commonAliases, commonFlags, connectTlsAliases, framingFlags } from "./flags.ts";
export { addressForms, addressSyntax, canConnect, canListen } from "../lib/address/mod.ts";
export {
  describe,
  FrameError,
  InterruptedError,
  TimeoutError,
  UnavailableError,
  UsageError,
} from "../lib/errors.ts";
export { denoStdio } from "./stdio.ts";
export { appHelp, commandHelp, describeCommand } from "./help.ts";
export { argumentErrorText } from "./argument_errors.ts";
