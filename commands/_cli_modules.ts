/**
 * What cli.ts needs once it knows a command will run, besides Stricli, as one module: cli.ts
 * imports it with one dynamic import (each is a module-graph round of its own), so `--version`
 * and the one-shot `send` load none of it.
 * @module
 */
export * as flags from "./flags.ts";
export * as addresses from "../lib/address/mod.ts";
export * as stdio from "./stdio.ts";
export * as help from "./help.ts";
export * as argumentErrors from "./argument_errors.ts";
