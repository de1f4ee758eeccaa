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
  *values() { yield this.#count; }
}
// A computed key could turn out to be a moved method's: such a class keeps its methods.
export class Computed { *[Symbol.iterator]() { yield 1; } size() { return 1; } }
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
    iterated: [...counter.values(), ...new m.Computed(), new m.Computed().size()],
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
  assert.ok(functions >= 8, `${functions} functions rewritten`);
  assert.deepEqual(await observe(code), await observe(SAMPLE));
});

/**
 * Cases a hostile review found (2026-11-27), most in the methods the tool once rewrote too: each
 * module exports `result()`.
 */
const TRICKY: Record<string, string> = {
  "a declaration that replaces itself": `
    function config() { const v = { port: 1 }; config = () => v; return v; }
    export const result = () => [config().port, config().port, config.name];`,
  "a declaration wrapped after the fact": `
    let calls = 0;
    function fib(n) { calls++; return n < 2 ? n : fib(n - 1) + fib(n - 2); }
    const memo = (f) => { const m = new Map(); return (n) => m.has(n) ? m.get(n) : (m.set(n, f(n)), m.get(n)); };
    fib = memo(fib);
    export const result = () => [fib(25), calls];`,
  "an object method named __proto__": `
    const o = { __proto__() { return 1; }, "__proto__"() { return 2; } };
    export const result = () => [typeof o.__proto__, Object.getPrototypeOf(o) === Object.prototype];`,
  "a method and an accessor of one name": `
    class A { x() { return "method"; } get x() { return "getter"; } }
    class B { get y() { return "getter"; } y() { return "method"; } }
    export const result = () => [typeof new A().x, typeof new B().y];`,
  "two methods of one name": `
    class A { m() { return "first"; } m() { return "second"; } static s() { return 1; } s() { return 2; } }
    export const result = () => [new A().m(), A.s(), new A().s()];`,
  "two declarations of one name": `
    function outer() { function f() { return "first"; } function f() { return "second"; } return f(); }
    export const result = () => outer();`,
  "computed method keys": `
    let i = 0;
    const factory = { tag: "hello", make() { return class { [this.tag]() { return 1; } }; } };
    class K { 1() { return "one"; } [i++]() { return "a"; } [i++]() { return "b"; } "s p"() { return 2; } }
    class L { 1() { return "one"; } "s p"() { return 2; } }
    export const result = () => [Object.getOwnPropertyNames(factory.make().prototype), new K()[0](), new K()[1](),
      new K()[1].name, new K()["s p"](), new L()[1](), new L()["s p"](), Object.getOwnPropertyNames(L.prototype)];`,
  "a binding named Object": `
    const Object = { kind: "schema" };
    class A { m() { return 1; } }
    export const result = () => [new A().m(), Object.kind];`,
  "functions that end where another ends": `
    export const handler = (x) => async () => x + 1;
    export const make = async () => () => 1;
    export const result = async () => [await handler(1)(), (await make())()];`,
  "a hashbang": `#!/usr/bin/env -S deno run
    function f() { return 1; }
    export const result = () => f();`,
  "a BigInt method key": `
    class A { 1n() { return "big"; } }
    const o = { 2n() { return "big too"; } };
    export const result = () => [new A()[1](), o[2]()];`,
  "code without semicolons": `
    let r = 0
    const f = () => {}
    (() => { r += 1 })()
    const g = async () => {}
    ;[1, 2].forEach((n) => { r += n })
    const h = () => {}
    \`template\`
    function moved() { return 10 }
    (() => { r += moved() })()
    class C { x = () => 1
      ["y"] = 2 }
    for (let i = () => 0; r < 0;) r = i()
    export default () => {}
    const x = f
    async () => {}
    if (r) () => {}
    export const result = async () => [r, typeof f, typeof g, typeof h, new C().y, await g(), x === f];`,
  "a direct eval in an async arrow": `
    const o = { m(a, b) { return (async () => [eval("this") === o, eval("arguments.length")])(); } };
    export const result = async () => await o.m(1, 2);`,
  "a hashbang ending in CR":
    "#!/usr/bin/env -S deno run\rfunction f() { return 1; }\rexport const result = () => [f(), \`a\nb\`];",
  "a hashbang and nothing else on its line":
    "#!/usr/bin/env -S deno run\u2028function f() { return 1; }\nexport const result = () => f();",
  "the pass-2 marker in a comment": `
    function o() { /*@eager*/function f() { return 1; } function f() { return 2; } return f(); }
    export const result = () => o();`,
  "arguments and new.target in async arrows": `
    function outer() { return (async () => arguments.length)(); }
    function Maker() { this.got = (async () => new.target === Maker)(); }
    export const result = async () => [await outer(1, 2), await new Maker().got];`,
};

for (const [name, source] of Object.entries(TRICKY)) {
  Deno.test(`eager compile keeps what the code does: ${name}`, async () => {
    const { code } = compileEagerly(source.replace(/^\n/, ""), allEnds(source.replace(/^\n/, "")));
    const run = async (text: string) => {
      try {
        return await (await importCode(text)).result();
      } catch (error) {
        return `threw ${error}`;
      }
    };
    assert.deepEqual(await run(code), await run(source.replace(/^\n/, "")), code);
  });
}

Deno.test("eager compile: each kind of function gets the form V8 compiles eagerly", () => {
  const { code } = compileEagerly(SAMPLE, allEnds(SAMPLE));
  // Declarations: a parenthesised function at the start of their scope.
  assert.match(code, /^var later=\(function\(x\)/);
  assert.match(code, /\{let inBlock=\(function\(\)/);
  assert.match(code, /\{var inner=\(function\(\)/);
  // Methods, accessors and constructors stay as they are.
  assert.match(code, /static create\(\) \{ return new Counter\(\); \}/);
  assert.match(code, /add\(n = 1\) \{ this\.#count/);
  assert.match(code, /\*values\(\) \{/);
  assert.match(code, /get count\(\) \{/);
  assert.match(code, /plain\(x\) \{ return x \+ 1; \}/);
  assert.match(code, /async later\(x\) \{/);
  assert.match(code, /\["com" \+ "puted"\]\(x\) \{/);
  // Expressions: parenthesised; an async arrow becomes an async function unless it uses its
  // `this`.
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
    "var a=(function() { return 1; });;\nfunction b() { return 2; }\nexport function c() {}\nexport { a, b };\n",
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
  assert.match(compileEagerly(source, ends).code, /^var f=\(function\(\)/);
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
    assert.ok(await hinted("oneshot/_oneshot_main.js") >= 30, "the one-shot bundle");
    assert.ok(await hinted("cli.js") >= 5, "the entry");
    const chunks = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".js") && e.name !== "cli.js");
    const counts = await Promise.all(chunks.map((e) => hinted(e.name)));
    assert.ok(counts.filter((n) => n > 0).length >= 5, "the full path's chunks");
  },
});
