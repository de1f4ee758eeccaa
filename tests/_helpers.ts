/**
 * Test helpers: run the real `bin/ipcat` binary, start servers and wait for their
 * `listening on` line, make temp dirs that clean themselves up.
 * @module
 */
import assert from "node:assert/strict";

/** The binary every end-to-end test drives. */
export const IPCAT: string = new URL("../bin/ipcat", import.meta.url).pathname;

const te = new TextEncoder();
const td = new TextDecoder();

/** A temp directory removed on dispose. Socket paths must stay under 107 bytes. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ipcat-", dir: "/tmp" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** What a finished command printed and returned. */
export interface Result {
  /** Exit code. */
  code: number;
  /** stdout as UTF-8 text. */
  stdout: string;
  /** stderr as UTF-8 text. */
  stderr: string;
  /** stdout as it was, for binary output. */
  stdoutBytes: Uint8Array;
}

/** Options for {@linkcode run}. */
export interface RunOptions {
  /** Fed to stdin, which is then closed. @default {""} */
  stdin?: string | Uint8Array;
  /** Variables added to the inherited environment. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/** Run a command to completion, feeding `stdin`. */
export async function run(cmd: string, args: string[], options: RunOptions = {}): Promise<Result> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
    cwd: options.cwd,
  }).spawn();
  const writer = child.stdin.getWriter();
  const input = options.stdin ?? "";
  // Fed while the output is read: a command that answers as it reads must not deadlock.
  const feeding = (async () => {
    await writer.write(typeof input === "string" ? te.encode(input) : input);
    await writer.close();
  })().catch(() => {});
  const out = await child.output();
  await feeding;
  return {
    code: out.code,
    stdout: td.decode(out.stdout),
    stderr: td.decode(out.stderr),
    stdoutBytes: out.stdout,
  };
}

/** Run `bin/ipcat` with `args`. */
export function ipcat(args: string[], options: RunOptions = {}): Promise<Result> {
  return run(IPCAT, args, options);
}

/** Read lines from a stream as they come, keeping all of them. */
export class LineCollector {
  /** Every complete line so far (and a last unterminated one once the stream ends). */
  lines: string[] = [];
  #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  /** Resolves once the stream has ended. */
  done: Promise<void>;

  /** Start reading `stream` now. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      let buffered = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let nl;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          this.lines.push(line);
          this.#waiters = this.#waiters.filter((w) => !(w.test(line) && (w.resolve(line), true)));
        }
      }
      if (buffered) this.lines.push(buffered);
    })();
  }

  /** Resolve with the first line (already seen or future) matching `test`. */
  waitFor(test: RegExp | ((line: string) => boolean), what = String(test), ms = 60_000): Promise<string> {
    const fn = typeof test === "function" ? test : (line: string) => test.test(line);
    const seen = this.lines.find(fn);
    if (seen !== undefined) return Promise.resolve(seen);
    // A line that never comes fails the test with what was seen, instead of hanging the suite.
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new Promise<string>((resolve, reject) => {
      this.#waiters.push({ test: fn, resolve });
      this.done.then(() => reject(new Error(`stream ended before ${what}; got:\n${this.lines.join("\n")}`)));
      timer = setTimeout(
        () => reject(new Error(`no line ${what} after ${ms} ms; got:\n${this.lines.join("\n")}`)),
        ms,
      );
    }).finally(() => clearTimeout(timer));
  }

  /** All lines so far, joined with `\n`. */
  get text(): string {
    return this.lines.join("\n");
  }
}

/** A running `ipcat serve` (or other long-running process) with its output collected. */
export interface Running extends AsyncDisposable {
  /** The process. */
  child: Deno.ChildProcess;
  /** Address from the `listening on` line. */
  address: string;
  /** Its stdout, collected as it comes. */
  stdout: LineCollector;
  /** Its stderr, collected as it comes. */
  stderr: LineCollector;
  /** Send a signal and wait for exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Spawn a long-running command; stdin is piped unless `stdin: "null"`. */
export function spawn(
  cmd: string,
  args: string[],
  options: { stdin?: "piped" | "null"; env?: Record<string, string> } = {},
): Deno.ChildProcess {
  return new Deno.Command(cmd, {
    args,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
}

/** Start `ipcat serve ARGS` and wait for its `listening on ADDR` line. */
export async function startServe(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<Running> {
  return await startListening(IPCAT, ["serve", ...args], options);
}

/** Start any ipcat command that prints `listening on ADDR`, and wait for that line. */
export async function startListening(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: "piped" | "null" } = {},
): Promise<Running> {
  const child = spawn(cmd, args, options);
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    // Signalled every time until it exits: a dispose after a stop that timed out still kills.
    if (!exited) {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
    }
    const result = await status;
    await Promise.all([stdout.done, stderr.done]);
    return result;
  };
  let address: string;
  try {
    const line = await Promise.race([
      stderr.waitFor(/listening on /),
      child.status.then((s) => {
        throw new Error(`exited ${s.code} before listening: ${stderr.text}`);
      }),
    ]);
    address = line.replace(/^.*listening on /, "").trim();
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  }
  return {
    child,
    address,
    stdout,
    stderr,
    stop,
    [Symbol.asyncDispose]: async () => void await stop("SIGKILL"),
  };
}

/** Wait until `test()` is true, polling; fails after `ms`. For state with no event to await. */
export async function until(
  test: () => boolean | Promise<boolean>,
  ms = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolve with `promise`, or fail the test if it takes longer than `ms` (a hang guard, not a sync). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Does a command exist on PATH? */
export function have(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null", stderr: "null" })
      .outputSync()
      .success;
  } catch {
    return false;
  }
}

export { assert };

/**
 * Long or short form of a fault/fuzz test: `make stress` and `make fuzz` set
 * `IPCAT_STRESS=1`, and tests scale their counts up with it. `make test` runs the short form.
 */
export const STRESS = Deno.env.get("IPCAT_STRESS") === "1";

/** `short` in `make test`, `long` under `make stress`/`make fuzz`. */
export function scaled(short: number, long: number): number {
  return STRESS ? long : short;
}

/**
 * Report a measured figure (time to serve the next client, RSS per pending byte, fds
 * before/after…). Printed on stderr, and appended as `name<TAB>value<TAB>unit` to the
 * file named by `IPCAT_FIGURES` when set: `make stress` collects them into
 * `.bench/reliability.tsv`, from which README's Reliability section is written.
 */
export function figure(name: string, value: number | string, unit = ""): void {
  const line = `${name}\t${value}\t${unit}\n`;
  Deno.stderr.writeSync(new TextEncoder().encode(`figure: ${line}`));
  const file = Deno.env.get("IPCAT_FIGURES");
  if (file) Deno.writeTextFileSync(file, line, { append: true });
}

/** A peer process started by {@linkcode startPeer}, killed and reaped on dispose. */
export interface Peer extends AsyncDisposable {
  /** The process. */
  child: Deno.ChildProcess;
  /** Its stdout, line by line. */
  stdout: LineCollector;
  /** Its stderr, line by line. */
  stderr: LineCollector;
}

/**
 * Start a test peer (a Python server, say) and wait until it prints a line matching `ready`
 * on stdout; fails with its stderr if it exits first.
 */
export async function startPeer(
  cmd: string,
  args: string[],
  options: { stdin?: "piped" | "null"; ready?: RegExp } = {},
): Promise<Peer> {
  const child = spawn(cmd, args, { stdin: options.stdin });
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  const peer: Peer = {
    child,
    stdout,
    stderr,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      if (options.stdin === "piped") await child.stdin.close().catch(() => {});
      await child.status;
      await Promise.all([stdout.done, stderr.done]);
    },
  };
  try {
    await Promise.race([
      stdout.waitFor(options.ready ?? /^listening$/),
      child.status.then((s) => {
        throw new Error(`${cmd} exited ${s.code}: ${stderr.text}`);
      }),
    ]);
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
  return peer;
}

/** Paths of the certificates {@linkcode makeCerts} writes, each PEM. */
export interface TestCerts {
  /** A throwaway CA. */
  ca: string;
  /** A server certificate it issued for localhost and 127.0.0.1 (CA:FALSE), and its key. */
  cert: string;
  /** The server certificate's key. */
  key: string;
  /** A client certificate it issued (CN=alice, clientAuth), and its key. */
  clientCert: string;
  /** The client certificate's key. */
  clientKey: string;
  /** A certificate made "the usual quick way": self-signed, CA:TRUE, CN=localhost, no subjectAltName. */
  quick: string;
  /** The quick certificate's key. */
  quickKey: string;
}

/** Make the certificates of {@linkcode TestCerts} in `dir` with openssl. */
export async function makeCerts(dir: string): Promise<TestCerts> {
  const sh = `
    set -e
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=ipcat test CA"
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=alice"
    printf 'extendedKeyUsage=clientAuth\\n' > client.cnf
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.cnf
    openssl req -x509 -newkey rsa:2048 -nodes -keyout quick.key -out quick.pem -days 2 -subj /CN=localhost
  `;
  const made = await run("sh", ["-c", sh], { cwd: dir });
  assert.equal(made.code, 0, made.stderr);
  const at = (name: string) => `${dir}/${name}`;
  return {
    ca: at("ca.pem"),
    cert: at("server.pem"),
    key: at("server.key"),
    clientCert: at("client.pem"),
    clientKey: at("client.key"),
    quick: at("quick.pem"),
    quickKey: at("quick.key"),
  };
}

/** `bytes` split at `cuts` (each taken modulo its length + 1), for decoders fed in any chunks. */
export function chop(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}
