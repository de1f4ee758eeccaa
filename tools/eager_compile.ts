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
 * that V8 compiles them eagerly, in forms that keep what the code does:
 *
 * - a function or arrow expression is parenthesised: `f = () => …` becomes `f = (() => …)`;
 * - an async arrow (which V8 leaves lazy even so) becomes an async function, when it uses
 *   nothing that is the arrow's own (`this`, `arguments`, `super`, `new.target`);
 * - a declaration `function f() {…}` becomes `var f = (function () {…});` at the start of its
 *   scope, where the declaration was initialised (unnamed, so that `f` inside is still the
 *   scope's), unless another declaration in that scope has its name, or (top level) the module is
 *   in an import cycle, where another module could call it before it runs.
 *
 * Where a parenthesis could join a line to the one before it (code without semicolons), the
 * semicolon that automatic insertion supplied is written out.
 *
 * Methods, getters, setters and constructors stay as they are: the forms that would make them
 * eager (a function-valued property; for a class, a static block defining it) change what they
 * are (constructible, defined later, in another order), and measured no faster. What still
 * differs is only the source text a function shows: `String(f)` of a moved declaration reads
 * `function(…)`, of a rewritten async arrow `async function(…)`.
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

/** Nodes after which automatic semicolon insertion may have ended a statement. */
const STATEMENT = /Statement$|^VariableDeclaration$|^ExportDefaultDeclaration$|^PropertyDefinition$/;
/** What the first line of a rewritten file says after the count. */
export const HINTS = "functions compiled eagerly (tools/eager_compile.ts)";

/** Options for {@linkcode compileEagerly}. */
export interface EagerOptions {
  /** Move top-level declarations (not in a module that an import cycle runs back to). @default {true} */
  hoistTopLevel?: boolean;
}

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
    // A direct eval can name any of them.
    (node.type === "CallExpression" && node.callee.type === "Identifier" && node.callee.name === "eval") ||
    ((node === arrow || node.type === "ArrowFunctionExpression" || !isFunction(node)) &&
      children(node).some(visit));
  return visit(arrow);
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

/** A field of V8's log as it was before V8 escaped it (`\x2C`, `\u00E9`, `\\`). */
function unescapeLog(field: string): string {
  return field.replace(
    /\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|(\\))/g,
    (_, x, u, backslash) => backslash ?? String.fromCharCode(parseInt(x ?? u, 16)),
  );
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
    // V8 escapes a comma in a field as \x2C (and so on).
    if (fields[0] === "script-details" && fields[2]) urls.set(fields[1], unescapeLog(fields[2]));
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
 * console.log(code); // "var f=(function(x) { return x; });;\nf(1);"
 * ```
 */
export function compileEagerly(
  source: string,
  ends: ReadonlySet<number>,
  options: EagerOptions = {},
): { code: string; functions: number } {
  const want = (fn: Node) => ends.has(fn.end);
  let functions = 0;
  const program = parse(source);
  // The marker for pass 2, unlike anything in the source.
  let mark = MARK;
  for (let i = 0; source.includes(mark); i++) mark = MARK.replace("*/", `${i}*/`);
  // Pass 1: expressions are parenthesised, declarations are marked for pass 2 (whose offsets
  // pass 1 moves).
  const edits: Edit[] = [];
  // Where two rewritten functions start or end at the same offset, the outer one opens first and
  // closes last.
  const open = (depth: number) => 1 + depth;
  const close = (depth: number) => -1 - depth;
  // A statement (or class field) that ends where a parenthesised arrow ends ended there by
  // automatic semicolon insertion, which a parenthesised expression does not get: a next line
  // starting with "(" or "[" would call or index it. It gets its semicolon written out.
  const ended = (node: Node, statement: { node: Node; parent?: Node } | undefined) => {
    if (statement === undefined || statement.node.end !== node.end || source[node.end - 1] === ";") return;
    if (statement.node.type === "VariableDeclaration" && /^For/.test(statement.parent?.type ?? "")) return;
    edits.push({ at: node.end, end: node.end, text: ";", order: 0 });
  };
  // An expression statement that now starts with "(" would continue a previous line ended by
  // automatic semicolon insertion; in a list of statements, an empty one first keeps it apart.
  const begun = (node: Node, statement: { node: Node; parent?: Node } | undefined) =>
    statement?.node.type === "ExpressionStatement" && statement.node.start === node.start &&
      /^(Program|BlockStatement|SwitchCase|StaticBlock)$/.test(statement.parent?.type ?? "")
      ? ";"
      : "";
  const walk = (
    node: Node,
    parent: Node | undefined,
    depth: number,
    statement: { node: Node; parent?: Node } | undefined,
  ) => {
    if (
      node.type === "ArrowFunctionExpression" && node.async && want(node) && !usesLexical(node) &&
      !node.params.some(containsFunction)
    ) {
      // V8 compiles a parenthesised async arrow lazily all the same, an async function eagerly.
      const params = node.params.map((param: Node) => source.slice(param.start, param.end)).join(", ");
      edits.push({
        at: node.start,
        end: node.body.start,
        text: `${begun(node, statement)}(async function(${params})${node.expression ? "{return " : ""}`,
        order: open(depth),
      });
      edits.push({ at: node.end, end: node.end, text: node.expression ? "})" : ")", order: close(depth) });
      ended(node, statement);
      functions++;
    } else if (
      (node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") && want(node) &&
      parent?.type !== "ParenthesizedExpression" && parent?.type !== "MethodDefinition" &&
      !(parent?.type === "Property" && (parent.method || parent.kind !== "init"))
    ) {
      edits.push({ at: node.start, end: node.start, text: `${begun(node, statement)}(`, order: open(depth) });
      edits.push({ at: node.end, end: node.end, text: ")", order: close(depth) });
      if (node.type === "ArrowFunctionExpression") ended(node, statement);
      functions++;
    }
    if (
      node.type === "FunctionDeclaration" && want(node) &&
      (parent?.type === "Program" ? options.hoistTopLevel !== false : parent?.type === "BlockStatement") &&
      // Two declarations of a name in one scope: the last one is the one; moving one could change that.
      parent!.body.filter((other: Node) =>
          other.type === "FunctionDeclaration" && other.id.name === node.id.name
        ).length === 1
    ) {
      edits.push({ at: node.start, end: node.start, text: mark, order: 0 });
    }
    const inner = STATEMENT.test(node.type) ? { node, parent } : statement;
    for (const child of children(node)) walk(child, node, depth + 1, inner);
  };
  walk(program, undefined, 0, undefined);
  let code = apply(source, edits);
  // Pass 2: each marked declaration in a body or block moves to the start of it as a variable set
  // to the parenthesised function (initialised before any statement runs, as the declaration
  // was). Deepest first, so that a move never splits another.
  while (true) {
    const found: { node: Node; scope: Node; depth: number; functionBody: boolean }[] = [];
    const visit = (node: Node, depth: number, functionBody: boolean) => {
      for (const child of children(node)) {
        const marked = code.slice(child.start - mark.length, child.start) === mark;
        if (marked && child.type === "FunctionDeclaration") {
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
      const at = scope.type === "Program" ? afterHashbang(code) : scope.start + 1;
      // Unnamed, so that inside it the name is still the scope's (which it may set), and named
      // after the variable all the same.
      const keyword = scope.type === "Program" || functionBody ? "var" : "let";
      const head = `${node.async ? "async " : ""}function${node.generator ? "*" : ""}`;
      const text = `${at === code.length ? "\n" : ""}${keyword} ${node.id.name}=(${head}${
        code.slice(node.id.end, node.end)
      });`;
      moves.push({ at, end: at, text, order: -1 });
      // A statement in its place, so that what stood either side of it stays apart.
      moves.push({ at: node.start - mark.length, end: node.end, text: ";", order: 0 });
      functions++;
    }
    code = apply(code, moves);
  }
}

/** Where code may be inserted first in a module: after its hashbang line, which must come first. */
function afterHashbang(code: string): number {
  if (!code.startsWith("#!")) return 0;
  const end = code.search(/[\n\r\u2028\u2029]/);
  return end < 0 ? code.length : end + 1;
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
    const files = scripts(dir);
    // The one-shot form runs from its own bundle, which the launcher runs directly.
    const oneshot = files.includes("oneshot/_oneshot_main.js") ? `${dir}/oneshot/_oneshot_main.js` : entry;
    // What shell loops run: the one-shot form to each kind of socket, and the full path.
    const runs = [
      [oneshot, "send", `${temp}/echo.sock`, "hello"],
      [oneshot, "send", `tcp:${tcp.addr.port}`, "hello", "world"],
      [entry, "send", "--no-verbose", `${temp}/echo.sock`, "hello"],
      [entry, "send", "-f", "length", `unix:${temp}/echo.sock`, "hello"],
    ];
    const compiled = new Map<string, Set<number>>();
    for (const [i, [main, ...args]] of runs.entries()) {
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
          main,
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
    // The log names scripts by URL: compared as real paths, whatever characters they hold.
    const realPath = (path: string) => {
      try {
        return Deno.realPathSync(path);
      } catch {
        return path;
      }
    };
    const byPath = new Map(
      [...compiled].filter(([url]) => url.startsWith("file:"))
        .map(([url, ends]) => [realPath(decodeURIComponent(new URL(url).pathname)), ends]),
    );
    // A declaration hoisted as a variable is unset until its module runs: in an import cycle,
    // another module could call it before that.
    const cyclic = inCycles(dir, files);
    let total = 0;
    const rewritten = new Map<string, string>();
    for (const file of files) {
      const ends = byPath.get(Deno.realPathSync(`${dir}/${file}`));
      if (!ends?.size) continue;
      const source = Deno.readTextFileSync(`${dir}/${file}`);
      const { code, functions } = compileEagerly(source, ends, { hoistTopLevel: !cyclic.has(file) });
      if (functions === 0) continue;
      parse(code);
      const at = afterHashbang(code);
      rewritten.set(file, `${code.slice(0, at)}// ${functions} ${HINTS}\n${code.slice(at)}`);
      total += functions;
    }
    if (!rewritten.has("cli.js")) throw new Error(`the training runs logged no function of ${entry}`);
    if (oneshot !== entry && !rewritten.has("oneshot/_oneshot_main.js")) {
      throw new Error(`the training runs logged no function of ${oneshot}`);
    }
    // Written once every file is rewritten: a failure leaves the bundle as it was.
    for (const [file, code] of rewritten) Deno.writeTextFileSync(`${dir}/${file}`, code);
    Deno.stderr.writeSync(
      new TextEncoder().encode(`${dir}: ${total} functions compiled eagerly in ${rewritten.size} files\n`),
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
