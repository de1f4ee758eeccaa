// tools/eager_compile.ts: the rewrite keeps what the code does, makes what it marks eager, and
// `make` applied it to the one-shot bundle.
import assert from "node:assert/strict";
import * as acorn from "acorn";
import { compiledFunctions, compileEagerly, HINTS } from "../tools/eager_compile.ts";

/** Every function's end offset in `source`: compile all of them eagerly. */
function allEnds(source: string): Set<number> {
  const ends = new Set<number>();
  const walk = (node: { type: string; end: number }) => {
    if (/Function/.test(node.type)) ends.add(node.end);
    for (const value of Object.values(node)) {
      for (const child of Array.isArray(value) ? value : [value]) {
        if (child && typeof child === "object" && typeof child.type === "string") walk(child);
      }
    }
  };
  walk(acorn.parse(source, { ecmaVersion: "latest", sourceType: "module" }));
  return ends;
}

const importCode = (code: string) => import(`data:text/javascript;base64,${btoa(code)}`);

const SAMPLE = `
export const early = later(2); // a declaration is callable before its line
function later(x) { return x * 10; }
class Base { hello() { return "base"; } }
export class Counter extends Base {
  #count = 0;
  static made = Counter.create();
  static create() { return new Counter(); }
  add(n = 1) { this.#count += n; return this; }
  get count() { return this.#count; }
  hello() { return "counter:" + super.hello(); }
  #secret() { return this.#count; }
  reveal() { return this.#secret(); }
  async twice(n) { await null; return this.add(n).add(n).count; }
  *[Symbol.iterator]() { yield this.#count; }
}
export function nested(x) {
  if (x > 0) {
    function inBlock() { return "block"; }
    return inBlock() + inner();
  }
  function inner() { return "inner"; }
  return inner();
}
export const object = {
  plain(x) { return x + 1; },
  async later(x) { return x * 2; },
  *gen() { yield 1; yield 2; },
  ["com" + "puted"](x) { return "computed " + x; },
  get got() { return "got"; },
  self() { return this === object; },
};
export const arrows = {
  expr: (x) => x * 3,
  block: (x) => { return x * 4; },
  asyncExpr: async (x) => x * 5,
  asyncBlock: async (x, y = 1) => { return x * y; },
  asyncThis: async function () { return (async () => this.tag)(); },
  tag: "mine",
};
export const names = [later.name, object.plain.name, Counter.prototype.add.name];
`;

async function observe(code: string) {
  const m = await importCode(code);
  const counter = new m.Counter();
  return {
    early: m.early,
    made: m.Counter.made instanceof m.Counter,
    count: counter.add(2).add().count,
    hello: counter.hello(),
    reveal: counter.reveal(),
    twice: await counter.twice(1),
    iterated: [...counter],
    nested: [m.nested(1), m.nested(0)],
    object: [
      m.object.plain(1),
      await m.object.later(2),
      [...m.object.gen()],
      m.object.computed(3),
      m.object.got,
      m.object.self(),
    ],
    arrows: [
      m.arrows.expr(1),
      m.arrows.block(1),
      await m.arrows.asyncExpr(1),
      await m.arrows.asyncBlock(2, 3),
      await m.arrows.asyncThis(),
    ],
    enumerable: Object.keys(m.Counter.prototype),
    names: m.names,
  };
}

Deno.test("eager compile: the rewritten code does what the original did", async () => {
  const { code, functions } = compileEagerly(SAMPLE, allEnds(SAMPLE));
  assert.ok(functions >= 18, `${functions} functions rewritten`);
  assert.deepEqual(await observe(code), await observe(SAMPLE));
});

Deno.test("eager compile: each kind of function gets the form V8 compiles eagerly", () => {
  const { code } = compileEagerly(SAMPLE, allEnds(SAMPLE));
  // Declarations: a parenthesised function at the start of their scope.
  assert.match(code, /^var later=\(function later\(x\)/);
  assert.match(code, /\{let inBlock=\(function inBlock\(\)/);
  assert.match(code, /\{var inner=\(function inner\(\)/);
  // Methods: properties defined by a static block; super, private and accessors stay methods.
  const method = (target: string, key: string, head: string) =>
    `static{const __eager_key=${key};Object.defineProperty(${target},__eager_key,` +
    `{value:({[__eager_key]:(${head}`;
  assert.ok(code.includes(method("this.prototype", '"add"', "function(n = 1)")), code);
  assert.ok(code.includes(method("this", '"create"', "function()")), code);
  assert.ok(code.includes(method("this.prototype", "Symbol.iterator", "function*()")), code);
  assert.match(code, /hello\(\) \{ return "counter:" \+ super\.hello\(\); \}/);
  assert.match(code, /#secret\(\) \{/);
  assert.match(code, /get count\(\) \{/);
  // Object methods and expressions: parenthesised; an async arrow becomes an async function
  // unless it uses its `this`.
  assert.match(code, /plain:\(function\(x\)/);
  assert.match(code, /later:\(async function\(x\)/);
  assert.match(code, /\["com" \+ "puted"\]:\(function\(x\)/);
  assert.match(code, /get got\(\) \{/);
  assert.match(code, /expr: \(\(x\) => x \* 3\)/);
  assert.match(code, /asyncExpr: \(async function\(x\)\{return x \* 5\}\)/);
  assert.match(code, /asyncBlock: \(async function\(x, y = 1\)\{ return x \* y; \}\)/);
  assert.match(code, /return \(async \(\) => this\.tag\)\(\)/);
});

Deno.test("eager compile: only the functions named are rewritten", () => {
  const source =
    "function a() { return 1; }\nfunction b() { return 2; }\nexport function c() {}\nexport { a, b };\n";
  const ends = new Set([source.indexOf("}") + 1, source.lastIndexOf("{}") + 2]);
  const { code, functions } = compileEagerly(source, ends);
  // `c` is named too, but an exported declaration stays as it is.
  assert.equal(functions, 1);
  assert.equal(
    code,
    "var a=(function a() { return 1; });\nfunction b() { return 2; }\nexport function c() {}\nexport { a, b };\n",
  );
});

Deno.test("eager compile: the functions V8 compiled are read from its log, by script", () => {
  const log = [
    "script-details,7,file:///x/other.js,0,0,",
    "script-details,9,file:///x/bundle.js,0,0,",
    "function,parse-function,9,10,40,0.01,100,f",
    "function,interpreter,9,50,90,0.02,101,g",
    "function,first-execution,9,95,99,0,102,h",
    "function,interpreter,7,10,41,0.02,103,other",
    "function,interpreter,8,10,42,0.02,104,unnamed script",
  ].join("\n");
  assert.deepEqual(
    compiledFunctions(log),
    new Map([["file:///x/bundle.js", new Set([40, 90])], ["file:///x/other.js", new Set([41])]]),
  );
});

Deno.test("eager compile: a top-level declaration stays one when asked (a module in an import cycle)", () => {
  const source = "export const x = f();\nfunction f() { return 1; }\nexport { f };\n";
  const ends = new Set([source.indexOf("}") + 1]);
  assert.equal(compileEagerly(source, ends, { hoistTopLevel: false }).code, source);
  assert.match(compileEagerly(source, ends).code, /^var f=\(function f\(\)/);
});

Deno.test({
  name: "eager compile: make applied it to the entry, the one-shot bundle and the full path's chunks",
  ignore: !Deno.statSync(new URL("../bin/ipcat.d", import.meta.url)).isDirectory,
  fn: async () => {
    const dir = new URL("../bin/ipcat.d/", import.meta.url);
    const hinted = async (file: string) => {
      const first = (await Deno.readTextFile(new URL(file, dir))).split("\n", 1)[0];
      return first.endsWith(HINTS) ? Number(first.slice(3, first.indexOf(" ", 3))) : 0;
    };
    assert.ok(await hinted("oneshot/_plain_send.js") >= 30, "the one-shot bundle");
    assert.ok(await hinted("cli.js") >= 5, "the entry");
    const chunks = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".js") && e.name !== "cli.js");
    const counts = await Promise.all(chunks.map((e) => hinted(e.name)));
    assert.ok(counts.filter((n) => n > 0).length >= 5, "the full path's chunks");
  },
});
