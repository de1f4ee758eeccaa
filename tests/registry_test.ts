/**
 * The registries are the single source of names: every transport, framing and encoding is
 * named in the `--help` of each command that can use it and in README.md's tables, and a
 * near miss of any of them gets a "did you mean".
 */
import { canConnect, canListen, type Transport, TRANSPORTS } from "../lib/address/mod.ts";
import { ENCODINGS, parseEncoding } from "../lib/encoding.ts";
import { UsageError } from "../lib/errors.ts";
import { FRAMINGS, parseFraming } from "../lib/framing/mod.ts";
import { assert, ipcat } from "./_helpers.ts";

/** Which transports each command opens: serve listens, the others connect. */
const COMMANDS: Record<string, (t: Transport) => boolean> = {
  serve: canListen,
  send: canConnect,
  pipe: canConnect,
  inspect: canConnect,
};

/** A README section's table rows, from its `## heading` to the next one. */
async function readmeTable(heading: string): Promise<string> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const start = readme.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `README.md has a "## ${heading}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end).split("\n").filter((l) => l.startsWith("|")).join(
    "\n",
  );
}

/** A syntax form as README writes it: in backticks, without the help's parenthetical. */
const form = (syntax: string) => `\`${syntax.replace(/ \(.*\)$/, "")}\``;

/** The one line of `help` that starts with `label` (a flag or the ADDR argument). */
/** The help line matching `label`, joined with the lines its text wraps onto. */
function helpLine(help: string, label: RegExp): string {
  const lines = help.split("\n");
  const at = lines.findIndex((l) => label.test(l));
  assert.ok(at >= 0, `help has a line matching ${label}`);
  let end = at + 1;
  while (end < lines.length && /^ {6,}\S/.test(lines[end])) end++;
  return lines.slice(at, end).join(" ").replace(/\s+/g, " ");
}

for (const [command, admits] of Object.entries(COMMANDS)) {
  Deno.test(`${command} --help names every address form, framing and encoding it can use`, async () => {
    const result = await ipcat([command, "--help"]);
    assert.equal(result.code, 0);
    const help = result.stdout;
    const addresses = help.slice(help.indexOf("\nAddresses:\n")).split("\n\n")[0];
    for (const transport of TRANSPORTS) {
      for (const syntax of transport.syntax) {
        // Rows start two spaces in; deeper lines continue a wrapped description.
        const listed = addresses.split("\n").some((l) =>
          /^ {2}\S/.test(l) && l.trimStart().startsWith(syntax)
        );
        assert.equal(listed, admits(transport), `${command} --help lists ${syntax} under Addresses`);
      }
      if (admits(transport)) {
        assert.ok(
          addresses.replace(/\s+/g, " ").includes(transport.help),
          `${command} shows ${transport.scheme}'s help`,
        );
      }
    }
    const framing = helpLine(help, /--framing NAME/);
    const framings = help.slice(help.indexOf("\nFramings:\n")).split("\n\n")[0].replace(/\s+/g, " ");
    for (const family of FRAMINGS) {
      assert.match(framing, new RegExp(`[ ,]${family.name}\\b`), `${command} -f names ${family.name}`);
      assert.ok(framings.includes(family.help), `${command}'s Framings describe ${family.name}`);
      for (const syntax of family.syntax.filter((s) => s.includes(":"))) {
        assert.match(
          framings,
          new RegExp(`[: ]${syntax.split(":")[1]}\\b`),
          `${command} --help names ${syntax}`,
        );
      }
    }
    const encoding = helpLine(help, /--encoding ENC/);
    for (const name of ENCODINGS) {
      assert.match(encoding, new RegExp(`\\b${name}\\b`), `${command} -e names ${name}`);
    }
  });
}

Deno.test("README's Addresses, Framing and Encoding tables name every registry entry", async () => {
  const addresses = await readmeTable("Addresses");
  for (const transport of TRANSPORTS) {
    for (const syntax of transport.syntax) {
      assert.ok(addresses.includes(form(syntax)), `Addresses names ${form(syntax)}`);
    }
  }
  const framing = await readmeTable("Framing");
  for (const family of FRAMINGS) {
    for (const syntax of family.syntax) {
      assert.ok(framing.includes(`\`${syntax}\``), `Framing names \`${syntax}\``);
    }
  }
  const encoding = await readmeTable("Encoding");
  for (const name of ENCODINGS) assert.ok(encoding.includes(`\`${name}\``), `Encoding names \`${name}\``);
});

Deno.test("a framing or encoding one edit away from a registered name suggests that name", () => {
  const hint = (parse: () => unknown) => {
    try {
      parse();
    } catch (error) {
      assert.ok(error instanceof UsageError);
      return error.hint ?? "";
    }
    assert.fail("expected a UsageError");
  };
  for (const { name } of FRAMINGS) {
    assert.match(hint(() => parseFraming(name.slice(0, -1))), new RegExp(`did you mean ${name}\\?`));
  }
  for (const name of ENCODINGS) {
    assert.match(hint(() => parseEncoding(`${name}x`)), new RegExp(`did you mean ${name}\\?`));
  }
  // Far from everything: the list instead.
  assert.match(hint(() => parseFraming("zzzz")), /use one of: raw, lines, length/);
  assert.match(hint(() => parseEncoding("zzzz")), /use one of: text, hex, base64/);
});

Deno.test("ipcat -f lenght / -e hx: exit 2, one line with a did-you-mean", async () => {
  for (
    const [args, want] of [
      [
        ["send", "-f", "lenght", "/tmp/ipcat-none.sock", "x"],
        /^ipcat: Unknown framing "lenght" \(did you mean length\?\)\n$/,
      ],
      [["send", "-f", "lenght:u8", "/tmp/ipcat-none.sock", "x"], /\(did you mean length:u8\?\)\n$/],
      [
        ["serve", "-e", "hx", "/tmp/ipcat-none.sock"],
        /^ipcat: Unknown encoding "hx" \(did you mean hex\?\)\n$/,
      ],
    ] as const
  ) {
    const result = await ipcat([...args]);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, want);
  }
});
