/**
 * Fault tests for "nobody's files touched": what `serve` and `inspect` do to paths that
 * other people (or racing processes) own. Counts are `scaled(short, long)`.
 * @module
 */
import {
  assert,
  figure,
  IPCAT,
  ipcat,
  LineCollector,
  run,
  scaled,
  startListening,
  startServe,
  tempDir,
  within,
} from "./_helpers.ts";

const isRoot = Deno.uid() === 0;
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

/** Nothing of ipcat's left behind in `dir`: no private directory, no `.ipcat-keep` name. */
function leftovers(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((name) => name.includes(".ipcat-"));
}

/** The user's file is still somewhere it put it, with its content. */
function survived(paths: string[], content: string): boolean {
  return paths.some((path) => {
    const info = lstatOrNull(path);
    return info !== null && info.isFile && Deno.readTextFileSync(path) === content;
  });
}

/**
 * A python helper run in the background (as another user through `user`, e.g. `NOBODY`),
 * stopped by creating its `stop` file. Debian's python: root's PATH may hold a private one.
 */
function racer(script: string, args: string[], user: string[] = []) {
  const argv = [...user, "/usr/bin/python3", "-c", script, ...args];
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, stdout: new LineCollector(child.stdout), stderr: new LineCollector(child.stderr) };
}

Deno.test("serve stop (13): a regular file put at the path is left as it was", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/S`;
  const server = await startServe([sock]);
  await Deno.remove(sock);
  await Deno.writeTextFile(sock, "data\n");
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  assert.equal(await Deno.readTextFile(sock), "data\n");
  assert.deepEqual(leftovers(dir.path), []);
  assert.match(server.stderr.text, /ipcat: left .*\/S alone: it is no longer this server's socket/);
});

Deno.test("serve stop (13): a directory put at the path is left, no stack trace", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/S`;
  const server = await startServe([sock]);
  await Deno.remove(sock);
  await Deno.mkdir(sock);
  await Deno.writeTextFile(`${sock}/inside`, "kept");
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  assert.equal(await Deno.readTextFile(`${sock}/inside`), "kept");
  assert.deepEqual(leftovers(dir.path), []);
  assert.doesNotMatch(server.stderr.text, /\n\s+at |Error:/);
});

Deno.test("serve stop (13): another server that re-bound the path keeps its socket", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/S`;
  const first = await startServe([sock]);
  await Deno.remove(sock);
  await using second = await startServe(["--echo", sock]);
  const ino = Deno.lstatSync(sock).ino;
  assert.equal((await first.stop("SIGTERM")).code, 0);
  assert.equal(Deno.lstatSync(sock).ino, ino);
  const reply = await ipcat(["send", sock, "still here"]);
  assert.equal(reply.stdout, "still here\n");
  await second.stop("SIGTERM");
  assert.deepEqual(leftovers(dir.path), []);
});

// Swaps the user's file F in and out of S while ipcat's socket (kept via a hard link) goes
// back at S between swaps, so ipcat's stop meets either its socket or the user's file.
const STOP_RACER = `
import os, sys
d = sys.argv[1]; S = d + "/S"; F = d + "/F"; keep = d + "/keep"; tmp = d + "/tmp"
os.link(S, keep)
print("racing", flush=True)
while not os.path.exists(d + "/stop"):
    try:
        os.link(keep, tmp); os.rename(tmp, S)
        os.rename(F, S)
        os.rename(S, F)
    except OSError:
        pass
for _ in range(1000):
    if os.path.exists(F) or not os.path.exists(S): break
    try: os.rename(S, F)
    except OSError: pass
`;

Deno.test("serve stop (13): a path swapped in a tight loop never loses the user's file", async () => {
  const rounds = scaled(20, 200);
  let lost = 0;
  for (let round = 0; round < rounds; round++) {
    await using dir = await tempDir();
    await Deno.writeTextFile(`${dir.path}/F`, `precious ${round}`);
    const server = await startServe([`${dir.path}/S`]);
    const race = racer(STOP_RACER, [dir.path]);
    await race.stdout.waitFor(/racing/);
    const status = await within(server.stop("SIGTERM"), 10_000, "serve stop");
    assert.equal(status.code, 0, server.stderr.text);
    assert.doesNotMatch(server.stderr.text, /\n\s+at /);
    await Deno.writeTextFile(`${dir.path}/stop`, "");
    await race.child.status;
    await race.stderr.done;
    if (!survived([`${dir.path}/F`, `${dir.path}/S`], `precious ${round}`)) lost++;
  }
  figure("files lost when the path is swapped during serve's stop", `${lost}/${rounds}`, "rounds");
  assert.equal(lost, 0);
});

// Keeps a stale socket at S and swaps the user's file F over it and back, so ipcat's
// stale-socket check sees a socket that may be the user's file by the time it acts.
const STALE_RACER = `
import os, socket, sys
d = sys.argv[1]; S = d + "/S"; F = d + "/F"; stale = d + "/stale"; tmp = d + "/tmp"
s = socket.socket(socket.AF_UNIX); s.bind(stale); s.close()
os.link(stale, S)
print("racing", flush=True)
while not os.path.exists(d + "/stop"):
    try:
        os.rename(F, S)
        os.rename(S, F)
        os.link(stale, tmp); os.rename(tmp, S)
    except OSError:
        pass
for _ in range(1000):
    if os.path.exists(F): break
    try: os.rename(S, F)
    except OSError: pass
`;

Deno.test("serve (14): stale-socket replacement never removes a file swapped in", async () => {
  const rounds = scaled(20, 200);
  let lost = 0;
  let listened = 0;
  for (let round = 0; round < rounds; round++) {
    await using dir = await tempDir();
    await Deno.writeTextFile(`${dir.path}/F`, `precious ${round}`);
    const race = racer(STALE_RACER, [dir.path]);
    await race.stdout.waitFor(/racing/);
    const server = new Deno.Command(IPCAT, { args: ["serve", `${dir.path}/S`], stderr: "piped" }).spawn();
    const err = new LineCollector(server.stderr);
    const started = await within(
      Promise.race([
        err.waitFor(/listening on/).then(() => true, () => false),
        server.status.then(() => false),
      ]),
      10_000,
      "serve start",
    );
    if (started) {
      listened++;
      server.kill("SIGTERM");
    }
    const status = await server.status;
    await err.done;
    // Racing, serve either listens or refuses in one line; it never crashes.
    assert.ok(status.code === 0 || status.code === 1 || status.code === 69, err.text);
    assert.doesNotMatch(err.text, /\n\s+at /);
    await Deno.writeTextFile(`${dir.path}/stop`, "");
    await race.child.status;
    await race.stderr.done;
    if (!survived([`${dir.path}/F`, `${dir.path}/S`], `precious ${round}`)) lost++;
  }
  figure(
    "files lost when the path is swapped during stale-socket replacement",
    `${lost}/${rounds}`,
    "rounds",
  );
  figure("serve started while racing", `${listened}/${rounds}`, "rounds");
  assert.equal(lost, 0);
});

Deno.test("serve (14): a stale socket is still replaced, a live one refused", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/S`;
  const stale = await run("python3", [
    "-c",
    "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()",
    sock,
  ]);
  assert.equal(stale.code, 0);
  await using server = await startServe(["--echo", sock]);
  assert.equal((await ipcat(["send", sock, "fresh"])).stdout, "fresh\n");
  const second = await ipcat(["serve", sock]);
  assert.equal(second.code, 69);
  assert.match(second.stderr, /^ipcat: Cannot listen on unix:.*: another server is listening there/);
  await server.stop("SIGTERM");
  assert.deepEqual(leftovers(dir.path), []);
});

// Run as nobody in the socket's directory: whatever ipcat's temporary name is (an
// `.ipcat-*.sock` socket, or an `.ipcat-*` directory), swap it for a symlink to the victim.
const INTERCEPT_ATTACKER = `
import os, sys
d, victim = sys.argv[1], sys.argv[2]
print("attacking", flush=True)
n = 0
while not os.path.exists(d + "/stop"):
    try:
        names = os.listdir(d)
    except OSError:
        continue
    for name in names:
        if not name.startswith(".ipcat-") or name.endswith(".x"): continue
        p = d + "/" + name; n += 1
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                os.rename(p, p + "." + str(n) + ".x"); os.mkdir(p); os.symlink(victim, p + "/s")
            else:
                os.symlink(victim, d + "/l" + str(n)); os.rename(d + "/l" + str(n), p)
        except OSError:
            pass
`;

Deno.test({
  name: "inspect --intercept (12): as root, a planted symlink never gets root to chown its target",
  ignore: !isRoot,
  async fn() {
    const rounds = scaled(20, 100);
    let chowned = 0;
    let intercepted = 0;
    for (let round = 0; round < rounds; round++) {
      await using dir = await tempDir();
      await Deno.chmod(dir.path, 0o755);
      const runDir = `${dir.path}/run`;
      await Deno.mkdir(runDir);
      await Deno.chown(runDir, 65534, 65534);
      const victim = `${dir.path}/victim`;
      await Deno.writeTextFile(victim, "root's");
      const svc = `${runDir}/app.sock`;
      await using service = await startListening(
        NOBODY[0],
        [...NOBODY.slice(1), IPCAT, "serve", "--echo", "--mode", "0666", svc],
      );
      assert.equal(Deno.lstatSync(svc).uid, 65534);
      const attack = racer(INTERCEPT_ATTACKER, [runDir, victim], NOBODY);
      await attack.stdout.waitFor(/attacking/).catch((error) => {
        throw new Error(`${error.message}\n${attack.stderr.text}`);
      });
      const inspector = new Deno.Command(IPCAT, {
        args: ["inspect", "--intercept", svc, "-q"],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const err = new LineCollector(inspector.stderr);
      const started = await within(
        Promise.race([
          err.waitFor(/listening on/).then(() => true, () => false),
          inspector.status.then(() => false),
        ]),
        10_000,
        "inspect start",
      );
      if (started) {
        intercepted++;
        inspector.kill("SIGTERM");
      }
      await inspector.status;
      await err.done;
      assert.doesNotMatch(err.text, /\n\s+at /);
      // The attacker can write runDir but not dir.path: the stop file goes where it looks.
      await Deno.writeTextFile(`${runDir}/stop`, "");
      await attack.child.status;
      await attack.stderr.done;
      const owner = Deno.statSync(victim);
      if (owner.uid !== 0 || owner.gid !== 0) chowned++;
      await service.stop("SIGTERM");
    }
    figure("files chowned to an attacker through --intercept", `${chowned}/${rounds}`, "rounds");
    figure("intercepts that went ahead under attack", `${intercepted}/${rounds}`, "rounds");
    assert.equal(chowned, 0);
  },
});

Deno.test({
  name: "inspect --intercept (12): as root, the new socket still gets the service's owner",
  ignore: !isRoot,
  async fn() {
    await using dir = await tempDir();
    await Deno.chmod(dir.path, 0o755);
    const runDir = `${dir.path}/run`;
    await Deno.mkdir(runDir);
    await Deno.chown(runDir, 65534, 65534);
    const svc = `${runDir}/app.sock`;
    await using service = await startListening(
      NOBODY[0],
      [...NOBODY.slice(1), IPCAT, "serve", "--echo", "--mode", "0660", svc],
    );
    const original = Deno.lstatSync(svc).ino;
    const inspector = await startListening(IPCAT, ["inspect", "--intercept", svc, "-q"]);
    const taken = Deno.lstatSync(svc);
    assert.notEqual(taken.ino, original);
    assert.equal(taken.uid, 65534);
    assert.equal(taken.gid, 65534);
    assert.equal(taken.mode! & 0o777, 0o660);
    assert.ok(lstatOrNull(`${svc}.ipcat-original`)?.isSocket);
    assert.equal((await inspector.stop("SIGTERM")).code, 0);
    assert.equal(Deno.lstatSync(svc).ino, original);
    await service.stop("SIGTERM");
    assert.deepEqual(leftovers(runDir), []);
  },
});

/** Run `inspect --record FILE`, expected to refuse at once (`timeout` ends it if it does not). */
function recordTo(dir: string, file: string) {
  return run("sh", [
    "-c",
    `exec timeout 5 "$0" inspect unix:${dir}/in.sock --target unix:${dir}/out.sock --record "$1"`,
    IPCAT,
    file,
  ]);
}

Deno.test("inspect --record (15): a new recording is 0600 even under umask 002", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/trace.jsonl`;
  await using inspector = await startListening("sh", [
    "-c",
    `umask 002; exec "$0" inspect unix:${dir.path}/in.sock --target unix:${dir.path}/out.sock --record "$1"`,
    IPCAT,
    file,
  ]);
  assert.equal(Deno.lstatSync(file).mode! & 0o777, 0o600);
  await inspector.stop("SIGTERM");
});

Deno.test("inspect --record (15): a planted symlink is refused, not followed", async () => {
  await using dir = await tempDir();
  const victim = `${dir.path}/victim`;
  await Deno.writeTextFile(victim, "secret config\n");
  const missing = `${dir.path}/would-be-created`;
  for (const target of [victim, missing]) {
    const file = `${dir.path}/trace-${target === victim ? "a" : "b"}.jsonl`;
    await Deno.symlink(target, file);
    const result = await recordTo(dir.path, file);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^ipcat: Cannot open --record file ".*": it is a symbolic link; not following it\n$/,
    );
  }
  assert.equal(await Deno.readTextFile(victim), "secret config\n");
  assert.equal(lstatOrNull(missing), null);
});

Deno.test({
  name: "inspect --record (15): a file owned by another user is refused",
  ignore: !isRoot,
  async fn() {
    await using dir = await tempDir();
    const file = `${dir.path}/trace.jsonl`;
    await Deno.writeTextFile(file, "theirs\n");
    await Deno.chown(file, 65534, 65534);
    const result = await recordTo(dir.path, file);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^ipcat: Cannot open --record file ".*": it is owned by another user \(uid 65534\)\n$/,
    );
    assert.equal(await Deno.readTextFile(file), "theirs\n");
  },
});

Deno.test("inspect --record (15): a directory or a hard-linked file is refused", async () => {
  await using dir = await tempDir();
  const result = await recordTo(dir.path, dir.path);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^ipcat: Cannot open --record file ".*": it exists and is not a regular file\n$/,
  );
  await Deno.writeTextFile(`${dir.path}/mine`, "");
  await Deno.link(`${dir.path}/mine`, `${dir.path}/other-name`);
  const linked = await recordTo(dir.path, `${dir.path}/mine`);
  assert.equal(linked.code, 1);
  assert.match(linked.stderr, /it has other hard links\n$/);
});
