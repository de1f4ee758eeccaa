/**
 * Compile hints for ipcat's bundle, made at build time from training runs.
 *
 * Deno caches V8's compiled code for every module, but makes the cache when the module is
 * compiled: a function V8 compiles lazily, on its first call, is compiled again at every start
 * (~2 ms of the one-shot `send`; docs/design-notes.md "Startup"). V8 compiles eagerly, so into
 * the cache, a function expression written in parentheses (its heuristic for functions called
 * at once). This tool runs the bundle the way shell loops run `ipcat send` (to a Unix socket and
 * a TCP port, with and without options, against echo servers of its own) with V8's function
 * events logged, takes the functions V8 compiled in those runs, and rewrites exactly those so
 * that V8 compiles them eagerly: an expression `f = () => …` becomes `f = (() => …)` (an async
 * arrow, which V8 leaves lazy even so, an async function when it uses nothing of the arrow's
 * own), an object method `m(x) {…}` becomes `m: (function (x) {…})`, a declaration
 * `function f() {…}` becomes `var f = (function f() {…});` at the start of its scope, where the
 * declaration was initialised, and a class method a property defined by a static block first in
 * its class body. Constructors, getters, setters, private methods and what uses `super` are left
 * as they are (no eager form keeps their meaning).
 *
 * `deno run -A tools/eager_compile.ts DIR` rewrites the bundle's files in DIR (bin/ipcat.d) in
 * place; the Makefile keeps the bundle as it was when this fails.
 * @module
 */
import * as acorn from "acorn";

/** A parsed node with its fields (acorn's ESTree). */
// deno-lint-ignore no-explicit-any
type Node = acorn.Node & Record<string, any>;

/** The comment that marks a declaration to hoist between the two passes of {@linkcode compileEagerly}. */
const MARK = "/*@eager*/";
/** What the first line of a rewritten file says after the count. */
export const HINTS = "functions compiled eagerly (tools/eager_compile.ts)";

/** The constant a method's static block names its key by; a source that has it is refused. */
const KEY = "__eager_key";

const parse = (source: string): Node =>
  acorn.parse(source, { ecmaVersion: "latest", sourceType: "module", preserveParens: true }) as Node;

const isFunction = (node: Node) =>
  node.type === "FunctionExpression" || node.type === "FunctionDeclaration" ||
  node.type === "ArrowFunctionExpression";

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const key in node) {
    const value = node[key];
    for (const child of Array.isArray(value) ? value : [value]) {
      if (child && typeof child.type === "string") out.push(child);
    }
  }
  return out;
}

/** Whether `node` has a function in it (its text would then carry edits of its own). */
const containsFunction = (node: Node): boolean => isFunction(node) || children(node).some(containsFunction);

/** Whether an arrow function uses what it takes from where it is written (`this`, `arguments`…). */
function usesLexical(arrow: Node): boolean {
  const visit = (node: Node): boolean =>
    node.type === "ThisExpression" || node.type === "Super" || node.type === "MetaProperty" ||
    (node.type === "Identifier" && node.name === "arguments") ||
    ((node === arrow || node.type === "ArrowFunctionExpression" || !isFunction(node)) &&
      children(node).some(visit));
  return visit(arrow);
}

/** Whether `fn` (a method's function) uses `super`, which only a method may. */
function usesSuper(fn: Node): boolean {
  const visit = (node: Node): boolean =>
    node.type === "Super" ||
    ((node === fn || node.type === "ArrowFunctionExpression" || !isFunction(node)) &&
      children(node).some(visit));
  return visit(fn);
}

interface Edit {
  at: number;
  end: number;
  text: string;
  order: number;
}

function apply(source: string, edits: Edit[]): string {
  edits.sort((a, b) => a.at - b.at || a.order - b.order);
  let out = "";
  let pos = 0;
  for (const edit of edits) {
    if (edit.at < pos) throw new Error(`overlapping edits at offset ${edit.at}`);
    out += source.slice(pos, edit.at) + edit.text;
    pos = edit.end;
  }
  return out + source.slice(pos);
}

/**
 * The end offsets of the functions V8 compiled, by script URL, from the log of a run with
 * `--log-function-events` (`script-details,ID,URL,…` and `function,EVENT,ID,START,END,…` lines).
 */
export function compiledFunctions(log: string): Map<string, Set<number>> {
  const urls = new Map<string, string>();
  const lines = log.split("\n");
  for (const line of lines) {
    const fields = line.split(",");
    if (fields[0] === "script-details" && fields[2]) urls.set(fields[1], fields[2]);
  }
  const compiled = new Map<string, Set<number>>();
  for (const line of lines) {
    const [kind, event, script, , end] = line.split(",");
    const url = urls.get(script);
    if (kind !== "function" || url === undefined) continue;
    if (event !== "interpreter" && event !== "parse-function") continue;
    if (!compiled.has(url)) compiled.set(url, new Set());
    compiled.get(url)!.add(Number(end));
  }
  return compiled;
}

/**
 * `source` (an ES module) with the functions whose end offset is in `ends` rewritten so that V8
 * compiles them eagerly, and how many were.
 *
 * @example
 * ```ts
 * import { compileEagerly } from "./eager_compile.ts";
 *
 * const { code } = compileEagerly("function f(x) { return x; }\nf(1);", new Set([27]));
 * console.log(code); // "var f=(function f(x) { return x; });\nf(1);"
 * ```
 */
export function compileEagerly(
  source: string,
  ends: ReadonlySet<number>,
  options: { hoistTopLevel?: boolean } = {},
): { code: string; functions: number } {
  if (source.includes(KEY)) throw new Error(`the source already has ${KEY} in it`);
  const want = (fn: Node) => ends.has(fn.end);
  let functions = 0;
  // Pass 1: expressions are parenthesised, object methods become parenthesised function values,
  // declarations are marked for pass 2 (whose offsets pass 1 moves).
  const edits: Edit[] = [];
  const walk = (node: Node, parent: Node | undefined) => {
    if (
      node.type === "ArrowFunctionExpression" && node.async && want(node) && !usesLexical(node) &&
      !node.params.some(containsFunction)
    ) {
      // V8 compiles a parenthesised async arrow lazily all the same, an async function eagerly.
      const params = node.params.map((param: Node) => source.slice(param.start, param.end)).join(", ");
      const open = node.expression ? "{return " : "";
      edits.push({
        at: node.start,
        end: node.body.start,
        text: `(async function(${params})${open}`,
        order: 1,
      });
      edits.push({ at: node.end, end: node.end, text: node.expression ? "})" : ")", order: -1 });
      functions++;
    } else if (
      (node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") && want(node) &&
      parent?.type !== "ParenthesizedExpression" && parent?.type !== "MethodDefinition" &&
      !(parent?.type === "Property" && (parent.method || parent.kind !== "init"))
    ) {
      edits.push({ at: node.start, end: node.start, text: "(", order: 1 });
      edits.push({ at: node.end, end: node.end, text: ")", order: -1 });
      functions++;
    }
    if (
      node.type === "Property" && node.method && node.kind === "init" && want(node.value) &&
      !usesSuper(node.value) && !containsFunction(node.key)
    ) {
      const fn = node.value;
      const key = source.slice(node.key.start, node.key.end);
      const head = `${fn.async ? "async " : ""}function${fn.generator ? "*" : ""}`;
      edits.push({
        at: node.start,
        end: fn.start,
        text: `${node.computed ? `[${key}]` : key}:(${head}`,
        order: 1,
      });
      edits.push({ at: fn.end, end: fn.end, text: ")", order: -1 });
      functions++;
    }
    if (
      node.type === "MethodDefinition" && node.kind === "method" && want(node.value) &&
      node.key.type !== "PrivateIdentifier" && !containsFunction(node.key) && !usesSuper(node.value)
    ) {
      edits.push({ at: node.start, end: node.start, text: MARK, order: 0 });
    }
    if (
      node.type === "FunctionDeclaration" && want(node) &&
      (parent?.type === "Program" ? options.hoistTopLevel !== false : parent?.type === "BlockStatement")
    ) {
      edits.push({ at: node.start, end: node.start, text: MARK, order: 0 });
    }
    for (const child of children(node)) walk(child, node);
  };
  walk(parse(source), undefined);
  let code = apply(source, edits);
  // Pass 2: each marked declaration in a body or block moves to the start of it as a variable set
  // to the parenthesised function (initialised before any statement runs, as the declaration
  // was); each marked method becomes a property defined by a static block first in its class
  // body (run before any other static code of the class; a function written there reaches the
  // class's private names as the method did). Deepest first, so that a move never splits another.
  while (true) {
    const found: { node: Node; scope: Node; depth: number; functionBody: boolean }[] = [];
    const visit = (node: Node, depth: number, functionBody: boolean) => {
      for (const child of children(node)) {
        const marked = code.slice(child.start - MARK.length, child.start) === MARK;
        if (
          marked &&
          (child.type === "FunctionDeclaration" &&
              (node.type === "Program" || node.type === "BlockStatement") ||
            child.type === "MethodDefinition")
        ) {
          found.push({ node: child, scope: node, depth, functionBody });
        }
        visit(child, depth + 1, isFunction(node) && child.type === "BlockStatement");
      }
    };
    visit(parse(code), 0, false);
    if (!found.length) return { code, functions };
    const deepest = Math.max(...found.map((f) => f.depth));
    const moves: Edit[] = [];
    for (const { node, scope, functionBody } of found.filter((f) => f.depth === deepest)) {
      const at = scope.type === "Program" ? 0 : scope.start + 1;
      let text;
      if (node.type === "FunctionDeclaration") {
        const keyword = scope.type === "Program" || functionBody ? "var" : "let";
        text = `${keyword} ${node.id.name}=(${code.slice(node.start, node.end)});`;
      } else {
        const fn = node.value;
        const key = node.computed
          ? code.slice(node.key.start, node.key.end)
          : JSON.stringify(node.key.name ?? node.key.value);
        const head = `${fn.async ? "async " : ""}function${fn.generator ? "*" : ""}`;
        // Defined through an object literal's computed key, so that the function is named as
        // the method was (and the key evaluated once).
        text =
          `static{const ${KEY}=${key};Object.defineProperty(${node.static ? "this" : "this.prototype"},` +
          `${KEY},{value:({[${KEY}]:(${head}${
            code.slice(fn.start, fn.end)
          })})[${KEY}],writable:true,configurable:true})}`;
      }
      moves.push({ at, end: at, text, order: -1 });
      moves.push({ at: node.start - MARK.length, end: node.end, text: "", order: 0 });
      functions++;
    }
    code = apply(code, moves);
  }
}

/** The files (paths in `dir`) that their own static imports lead back to. */
function inCycles(dir: string, files: readonly string[]): Set<string> {
  const imports = new Map(files.map((file) => {
    const body = parse(Deno.readTextFileSync(`${dir}/${file}`)).body as Node[];
    const named = body.filter((node) => node.source)
      .map((node) => new URL(node.source.value, `file:///${file}`).pathname.slice(1));
    return [file, named];
  }));
  const reaches = (from: string, target: string, seen: Set<string>): boolean =>
    (imports.get(from) ?? []).some((next) =>
      next === target || (!seen.has(next) && seen.add(next) && reaches(next, target, seen))
    );
  return new Set(files.filter((file) => reaches(file, file, new Set())));
}

/** Echoes what each connection sends, then closes it. */
async function echo(listener: Deno.Listener) {
  for await (const conn of listener) {
    conn.readable.pipeTo(conn.writable).catch(() => conn.close());
  }
}

/** The `.js` files of `dir` and of its folders, as paths in it. */
function scripts(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) =>
    entry.isDirectory
      ? scripts(`${dir}/${entry.name}`).map((name) => `${entry.name}/${name}`)
      : entry.name.endsWith(".js")
      ? [entry.name]
      : []
  );
}

/** Runs the training runs on the bundle in `dir` and rewrites it; prints what it did on stderr. */
async function main(dir: string) {
  const temp = await Deno.makeTempDir({ prefix: "ipcat-eager-" });
  const unix = Deno.listen({ transport: "unix", path: `${temp}/echo.sock` });
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  echo(unix);
  echo(tcp);
  try {
    const entry = `${dir}/cli.js`;
    // What shell loops run: the one-shot form to each kind of socket, and the full path.
    const runs = [
      ["send", `${temp}/echo.sock`, "hello"],
      ["send", `tcp:${tcp.addr.port}`, "hello", "world"],
      ["send", "--no-verbose", `${temp}/echo.sock`, "hello"],
      ["send", "-f", "length", `unix:${temp}/echo.sock`, "hello"],
    ];
    const compiled = new Map<string, Set<number>>();
    for (const [i, args] of runs.entries()) {
      const log = `${temp}/v8-${i}.log`;
      const { success, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--no-prompt",
          "--unstable-net",
          "--quiet",
          "--no-config",
          "--no-code-cache",
          `--v8-flags=--log-function-events,--no-logfile-per-isolate,--logfile=${log}`,
          entry,
          ...args,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!success) {
        const said = new TextDecoder().decode(stderr).trim();
        throw new Error(`the training run "ipcat ${args.join(" ")}" failed: ${said}`);
      }
      for (const [url, ends] of compiledFunctions(await Deno.readTextFile(log))) {
        compiled.set(url, new Set([...compiled.get(url) ?? [], ...ends]));
      }
    }
    const base = new URL(`${dir}/`, `file://${Deno.cwd()}/`);
    const files = scripts(dir);
    // A declaration hoisted as a variable is unset until its module runs: in an import cycle,
    // another module could call it before that.
    const cyclic = inCycles(dir, files);
    let total = 0;
    const rewritten: string[] = [];
    for (const file of files) {
      const ends = compiled.get(new URL(file, base).href);
      if (!ends?.size) continue;
      const source = Deno.readTextFileSync(`${dir}/${file}`);
      const { code, functions } = compileEagerly(source, ends, { hoistTopLevel: !cyclic.has(file) });
      parse(code);
      Deno.writeTextFileSync(`${dir}/${file}`, `// ${functions} ${HINTS}\n${code}`);
      total += functions;
      rewritten.push(file);
    }
    if (!rewritten.includes("cli.js")) throw new Error(`the training runs logged no function of ${entry}`);
    Deno.stderr.writeSync(
      new TextEncoder().encode(`${dir}: ${total} functions compiled eagerly in ${rewritten.length} files\n`),
    );
  } finally {
    unix.close();
    tcp.close();
    await Deno.remove(temp, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args[0]);
  } catch (error) {
    Deno.stderr.writeSync(new TextEncoder().encode(`eager_compile: ${(error as Error).message}\n`));
    Deno.exit(1);
  }
}
