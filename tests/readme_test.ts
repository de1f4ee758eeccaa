/**
 * README's runnable examples (issue 14): every ```sh block preceded by `<!-- runnable -->`
 * runs as written, in bash with `set -e`, from an empty temp directory with bin/ on PATH.
 * Servers it starts in the background are stopped when the block ends. Also: `make demo`
 * prints no escape codes into a pipe.
 */
import { assert, run, scaled, tempDir, within } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MARKER = "<!-- runnable -->";

/** The runnable blocks, each with the README line it starts on. */
export function runnableBlocks(readme: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  // A block inside a list item is indented: its fences and lines lose that indent.
  const pattern = /<!-- runnable -->\s*?\n([ \t]*)```(?:sh|bash|console)\n([\s\S]*?)\n\1```/g;
  for (const match of readme.matchAll(pattern)) {
    const [, indent, code] = match;
    const lines = code.split("\n").map((l) => l.startsWith(indent) ? l.slice(indent.length) : l);
    blocks.push({ line: readme.slice(0, match.index).split("\n").length + 1, code: lines.join("\n") });
  }
  return blocks;
}

const readme = await Deno.readTextFile(`${ROOT}/README.md`);
const blocks = runnableBlocks(readme);

Deno.test("README: every runnable marker is on a shell block, and there are some", () => {
  const markers = readme.split("\n").filter((line) => line.trim() === MARKER).length;
  assert.equal(blocks.length, markers, "each marker is followed by a ```sh block");
  assert.ok(blocks.length >= 2);
});

for (const block of blocks) {
  Deno.test(`README.md:${block.line} runs as written`, async () => {
    await using dir = await tempDir();
    // Background servers belong to the block: killed with it, waited for so none outlives the test.
    // `|| true`: under set -e a block with no job left would otherwise exit 2 from a bare `kill`.
    const script = `set -eo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT
${block.code}
`;
    const result = await within(
      run("bash", ["--norc", "-c", script], {
        cwd: dir.path,
        env: { PATH: `${ROOT}/bin:${Deno.env.get("PATH")}`, NO_COLOR: "1" },
      }),
      scaled(30_000, 60_000),
      `README.md:${block.line}`,
    );
    assert.equal(
      result.code,
      0,
      `README.md:${block.line} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
    // A "# prints: X" comment is checked when X is one plain line.
    for (const [, expected] of block.code.matchAll(/# prints: ([^,\n]+)$/gm)) {
      assert.ok(result.stdout.split("\n").includes(expected.trim()), `prints ${expected}: ${result.stdout}`);
    }
  });
}

Deno.test("make demo: no escape codes when stdout is not a terminal", async () => {
  const demo = await run("make", ["-C", ROOT, "--no-print-directory", "demo"], { env: { NO_COLOR: "" } });
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /# An echo server on a Unix socket/);
  assert.ok(!demo.stdout.includes("\x1b"), "escape codes in make demo's piped output");
});
