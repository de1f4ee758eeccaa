/**
 * Fault suite for `serve` and the `inspect` proxy: connection resets before accept, churn,
 * running out of descriptors, and the stop signals of every command. Counts are
 * `scaled(short, long)`: `make test` runs the short form, `make stress` the long one; each
 * test reports its figures with `figure()`.
 */
import {
  assert,
  figure,
  IPCAT,
  run,
  scaled,
  spawn,
  startListening,
  startServe,
  tempDir,
  until,
  within,
} from "./_helpers.ts";
import { childrenOf, connectTo, ConnLines, fdCount, processesRunning, writeText } from "./_proc.ts";

/** Every serve mode, as flags. */
const MODES: Record<string, string[]> = {
  sink: [],
  echo: ["--echo"],
  handle: ["--handle", "cat"],
  exec: ["--exec", "cat"],
  broadcast: ["--broadcast"],
};

/** `n` clients that connect and reset at once (SO_LINGER 0): accept sees them already gone. */
const RST_BURST = `
import socket, struct, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect((host, port))
    s.close()
`;

async function rstBurst(address: string, n: number): Promise<void> {
  const match = /^tcp:(.*):(\d+)$/.exec(address)!;
  const result = await run("python3", ["-c", RST_BURST, match[1], match[2], String(n)]);
  assert.equal(result.code, 0, result.stderr);
}

/** One line to `address` and its reply. */
async function roundTrip(address: string, line: string): Promise<string | null> {
  const conn = await connectTo(address);
  try {
    await writeText(conn, line + "\n");
    return await new ConnLines(conn).next();
  } finally {
    conn.close();
  }
}

/** Processes in state Z among the children of `pid`. */
function zombiesOf(pid: number): number {
  return childrenOf(pid).filter((child) => {
    try {
      const stat = Deno.readTextFileSync(`/proc/${child}/stat`);
      return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    } catch {
      return false;
    }
  }).length;
}

for (const [mode, flags] of Object.entries(MODES)) {
  Deno.test(`fault: a burst of connection resets does not stall serve ${mode || "(sink)"}`, async () => {
    await using server = await startServe([...flags, "-v", "tcp:127.0.0.1:0"]);
    // Broadcast: a member already in the hub sees the next client's message.
    const member = mode === "broadcast" ? await connectTo(server.address) : undefined;
    if (member) await server.stderr.waitFor(/conn 1: open/);
    const resets = scaled(300, 3000);
    await rstBurst(server.address, resets);
    const started = performance.now();
    await within(
      (async () => {
        if (mode === "sink") {
          const conn = await connectTo(server.address);
          await writeText(conn, "legit\n");
          conn.close();
          await server.stdout.waitFor(/^legit$/);
        } else if (member) {
          const conn = await connectTo(server.address);
          await writeText(conn, "legit\n");
          assert.equal(await new ConnLines(member).next(), "legit");
          conn.close();
        } else {
          assert.equal(await roundTrip(server.address, "legit"), "legit");
        }
      })(),
      5000,
      `${mode}: next client after ${resets} resets`,
    );
    figure(`rst_burst_${mode}_next_client`, Math.round(performance.now() - started), "ms");
    member?.close();
    assert.equal((await server.stop("SIGTERM")).code, 0);
    assert.doesNotMatch(server.stderr.text, /ipcat: conn \d+: .*os error|retrying/);
  });
}

Deno.test("fault: a burst of connection resets does not stall the inspect proxy", async () => {
  await using backend = await startServe(["--echo", "tcp:127.0.0.1:0"]);
  await using proxy = await startListening(IPCAT, [
    "inspect",
    "tcp:127.0.0.1:0",
    "--target",
    backend.address,
  ]);
  const resets = scaled(300, 3000);
  await rstBurst(proxy.address, resets);
  const started = performance.now();
  const reply = await within(
    roundTrip(proxy.address, "legit"),
    5000,
    `proxy: next client after ${resets} resets`,
  );
  assert.equal(reply, "legit");
  figure("rst_burst_inspect_proxy_next_client", Math.round(performance.now() - started), "ms");
  assert.equal((await proxy.stop("SIGTERM")).code, 0);
});

for (const [mode, flags] of Object.entries(MODES)) {
  Deno.test(`fault: churn of connect-send-close clients leaves serve ${mode || "(sink)"} at its baseline`, async () => {
    await using dir = await tempDir();
    await using server = await startServe([...flags, `${dir.path}/s.sock`]);
    const pid = server.child.pid;
    // Warm up, so descriptors opened lazily on first use are in the baseline.
    if (mode === "sink" || mode === "broadcast") {
      const conn = await connectTo(server.address);
      await writeText(conn, "warm\n");
      conn.close();
    } else assert.equal(await roundTrip(server.address, "warm"), "warm");
    await until(() => childrenOf(pid).length === 0, 5000, "warm-up child reaped");
    const fdsBefore = fdCount(pid);
    const clients = scaled(300, 5000);
    let next = 0;
    // 20 at a time: churn, not a load test.
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < clients) {
        next++;
        // A full listen backlog (--exec waits at its cap) refuses with EAGAIN: retry, as a client would.
        let conn: Deno.Conn | undefined;
        while (conn === undefined) {
          conn = await connectTo(server.address).catch((error) => {
            if (!(error instanceof Deno.errors.WouldBlock)) throw error;
            return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5));
          });
        }
        await writeText(conn, "x\n").catch(() => {});
        conn.close();
      }
    }));
    await until(() => childrenOf(pid).length === 0, 20000, `${mode}: every child reaped`);
    await until(() => fdCount(pid) <= fdsBefore, 20000, `${mode}: descriptors back to ${fdsBefore}`);
    figure(`churn_${mode}_fds_before`, fdsBefore, "fds");
    figure(`churn_${mode}_fds_after`, fdCount(pid), "fds");
    figure(`churn_${mode}_children_after`, childrenOf(pid).length, "processes");
    figure(`churn_${mode}_zombies_after`, zombiesOf(pid), "processes");
    const status = await server.stop("SIGTERM");
    assert.equal(status.code, 0);
    // A client leaving early is `-v` information, never an error line with the OS's words.
    const errors = server.stderr.lines.filter((line) => /os error|Broken pipe|reset by peer/i.test(line));
    assert.deepEqual(errors, []);
  });
}

Deno.test("fault: --echo logs a client that left before its reply at -v, in plain words", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", "-v", `${dir.path}/s.sock`]);
  // Big enough that the reply cannot fit in the socket buffers of a client that never reads.
  const conn = await connectTo(server.address);
  await writeText(conn, "x".repeat(1 << 20) + "\n").catch(() => {});
  conn.close();
  await server.stderr.waitFor(/conn 1: closed/);
  const line = server.stderr.lines.find((l) => l.includes("client went away"));
  assert.ok(line, server.stderr.text);
  assert.doesNotMatch(line, /os error/);
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

Deno.test("fault: --echo with -q prints nothing for clients that leave before their reply", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", "-q", `${dir.path}/s.sock`]);
  for (let i = 0; i < 20; i++) {
    const conn = await connectTo(server.address);
    await writeText(conn, "x".repeat(1 << 20) + "\n").catch(() => {});
    conn.close();
  }
  assert.equal(await roundTrip(server.address, "last"), "last");
  assert.equal((await server.stop("SIGTERM")).code, 0);
  assert.deepEqual(server.stderr.lines.filter((l) => !l.startsWith("listening on")), []);
});

/** Start `serve FLAGS` with at most `limit` descriptors. */
function startStarved(limit: number, flags: string[], path: string) {
  const quoted = flags.map((flag) => `'${flag}'`).join(" ");
  return startListening("sh", ["-c", `ulimit -n ${limit}; exec "${IPCAT}" serve ${quoted} "${path}"`]);
}

for (const [mode, flags] of Object.entries(MODES)) {
  Deno.test(`fault: out of descriptors (ulimit -n 64), serve ${mode || "(sink)"} answers every request`, async () => {
    await using dir = await tempDir();
    await using server = await startStarved(64, flags, `${dir.path}/s.sock`);
    const requests = scaled(60, 300);
    const member = mode === "broadcast" ? await connectTo(server.address) : undefined;
    const memberLines = member ? new ConnLines(member) : undefined;
    if (member) {
      // In the hub before anyone speaks: a quick sender proves it has joined.
      await until(
        async () => {
          const conn = await connectTo(server.address);
          await writeText(conn, "probe\n");
          conn.close();
          return await memberLines!.next() === "probe";
        },
        5000,
        "broadcast member joined",
      );
    }
    const started = performance.now();
    const answered = await within(
      Promise.all(Array.from({ length: requests }, async (_, i) => {
        const conn = await connectTo(server.address);
        try {
          await writeText(conn, `request ${i}\n`);
          if (mode === "sink" || mode === "broadcast") return `request ${i}`;
          return await new ConnLines(conn).next();
        } finally {
          if (mode === "sink" || mode === "broadcast") await conn.closeWrite().catch(() => {});
          else conn.close();
        }
      })),
      30000,
      `${mode}: ${requests} requests with 64 descriptors`,
    );
    assert.deepEqual(answered, Array.from({ length: requests }, (_, i) => `request ${i}`));
    if (mode === "sink") {
      await until(() => server.stdout.lines.length >= requests, 20000, "every line printed");
      assert.deepEqual(server.stdout.lines.toSorted(), answered.toSorted());
    } else if (memberLines) {
      const relayed: string[] = [];
      while (relayed.length < requests) relayed.push((await memberLines.next())!);
      assert.deepEqual(relayed.toSorted(), answered.toSorted());
      member!.close();
    }
    figure(`fd_exhaustion_${mode}_all_answered`, Math.round(performance.now() - started), "ms");
    assert.equal((await server.stop("SIGTERM")).code, 0, server.stderr.text);
    assert.doesNotMatch(server.stderr.text, /closing|cannot start handler: Too many/);
    // One line per episode, in plain words.
    for (const line of server.stderr.lines.filter((l) => / failed: | cannot start /.test(l))) {
      assert.doesNotMatch(line, /os error/);
    }
  });
}

Deno.test("fault: --exec is capped at 4 × CPUs connections by default, and says so", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--exec", "sh -c 'read l; echo $l'", `${dir.path}/s.sock`]);
  const cap = 4 * navigator.hardwareConcurrency;
  const pid = server.child.pid;
  // Clients that connect and say nothing hold their CMD: the cap is what bounds them.
  const idle = await Promise.all(Array.from({ length: cap + 10 }, () => connectTo(server.address)));
  await within(
    server.stderr.waitFor(new RegExp(`--exec: ${cap} commands running .*new connections wait`)),
    10000,
    "the cap's log line",
  );
  assert.equal(childrenOf(pid).length, cap);
  figure("exec_default_cap", cap, "connections");
  for (const conn of idle) conn.close();
  assert.equal(
    await within(roundTrip(server.address, "served"), 10000, "a client after the idle ones"),
    "served",
  );
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

Deno.test("fault: --max-connections overrides the --exec default cap", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--exec", "cat", "--max-connections", "2", `${dir.path}/s.sock`]);
  const idle = await Promise.all(Array.from({ length: 3 }, () => connectTo(server.address)));
  await server.stderr.waitFor(/--max-connections 2 reached/);
  assert.equal(childrenOf(server.child.pid).length, 2);
  for (const conn of idle) conn.close();
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

for (const signal of SIGNALS) {
  Deno.test(`signals: serve on ${signal} delivers the reply in flight, removes its socket, exits 0`, async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/s.sock`;
    await using server = await startServe(["--handle", "sh -c 'read l; sleep 0.3; echo \"$l\"'", path]);
    const conn = await connectTo(server.address);
    await writeText(conn, "in flight\n");
    await until(() => childrenOf(server.child.pid).length > 0, 5000, "handler running");
    const reply = new ConnLines(conn).next();
    const status = await server.stop(signal);
    assert.equal(await reply, "in flight");
    conn.close();
    assert.equal(status.code, 0, server.stderr.text);
    assert.equal(status.signal, null);
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  });

  Deno.test(
    `signals: the inspect proxy on ${signal} removes its socket; exit ${signal === "SIGINT" ? 130 : 0}`,
    async () => {
      await using dir = await tempDir();
      await using backend = await startServe(["--echo", `${dir.path}/app.sock`]);
      const path = `${dir.path}/proxy.sock`;
      await using proxy = await startListening(IPCAT, ["inspect", path, "--target", backend.address]);
      assert.equal(await roundTrip(proxy.address, "through"), "through");
      const status = await proxy.stop(signal);
      assert.equal(status.code, signal === "SIGINT" ? 130 : 0, proxy.stderr.text);
      await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    },
  );
}

const STOPPED: Record<string, { code: number; line: string }> = {
  SIGINT: { code: 130, line: "ipcat: Interrupted" },
  SIGTERM: { code: 143, line: "ipcat: Stopped by SIGTERM" },
  SIGHUP: { code: 129, line: "ipcat: Stopped by SIGHUP" },
};

for (const signal of SIGNALS) {
  const { code, line } = STOPPED[signal];
  Deno.test(`signals: send on ${signal} closes its connection, says so, exits ${code}`, async () => {
    await using dir = await tempDir();
    await using server = await startServe(["-v", `${dir.path}/s.sock`]);
    const child = spawn(IPCAT, ["send", server.address], { stdin: "piped" });
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("before the signal\n"));
    await server.stdout.waitFor(/^before the signal$/);
    child.kill(signal);
    const out = await child.output();
    await writer.close().catch(() => {});
    assert.equal(out.code, code);
    assert.equal(new TextDecoder().decode(out.stderr).trim(), line);
    await server.stderr.waitFor(/conn 1: closed/);
  });

  Deno.test(`signals: pipe exec: on ${signal} terminates the command (no orphan), exits ${code}`, async () => {
    const marker = `${31 + SIGNALS.indexOf(signal)}.${Deno.pid}`;
    const child = spawn(IPCAT, ["pipe", `exec:sh -c 'echo ready; exec sleep ${marker}'`], { stdin: "piped" });
    const writer = child.stdin.getWriter();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /ready/);
    reader.releaseLock();
    await until(() => processesRunning("sleep", marker).length === 1, 5000, "exec: command running");
    child.kill(signal);
    const out = await child.output();
    await writer.close().catch(() => {});
    assert.equal(out.code, code, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stderr).trim(), line);
    assert.deepEqual(processesRunning("sleep", marker), []);
  });
}
