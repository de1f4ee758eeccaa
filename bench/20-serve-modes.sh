#!/usr/bin/env bash
# serve modes under load. Rows: what | ipcat | peer | ratio (higher = ipcat better) | target.
# Needs $IPCAT and $BENCH_TMP (exported by bench/run.sh), python3 and socat.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=$(sed -n 's/^exec "\([^"]*\)" run.*/\1/p' "$IPCAT")
DENO=${DENO:-$(command -v deno)}
source bench/_lib.sh
bench_setup serve-modes

peak_rss_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
row() { printf '%-44s %14s %14s %7s %8s\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

cat >"$dir/echo.py" <<'PY'
import asyncio, sys

async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_unix_server(handle, sys.argv[1], backlog=2048)
    async with server:
        await server.serve_forever()

asyncio.run(main())
PY

# The Deno floor for items 2 and 3: a bare read/write loop per connection, nothing else.
cat >"$dir/echo_floor.ts" <<'TS'
const listener = Deno.listen({ transport: "unix", path: Deno.args[0] });
for await (const conn of listener) {
  (async () => {
    const buffer = new Uint8Array(4096);
    try {
      for (let n; (n = await conn.read(buffer)) !== null;) {
        for (let at = 0; at < n;) at += await conn.write(buffer.subarray(at, n));
      }
    } catch { /* gone */ }
    conn.close();
  })();
}
TS
# The Deno floor for item 6: spawning `cat` per message, 4 at once, as fast as Deno can.
cat >"$dir/spawn_floor.ts" <<'TS'
const total = Number(Deno.args[0]);
const te = new TextEncoder();
let started = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: 4 }, async () => {
  while (started++ < total) {
    const child = new Deno.Command("cat", { stdin: "piped", stdout: "piped" }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(te.encode("message\n"));
    await writer.close();
    await child.output();
  }
}));
console.log(((performance.now() - t0) / 1000).toFixed(3));
TS

row "what" "ipcat" "peer" "ratio" "target"

# (1) 1,000 clients x 100 round trips against an echo server.
start_on_socket "$dir/ipcat.sock" "$IPCAT" serve --echo "$dir/ipcat.sock"
ipcat_pid=${pids[-1]}
start_on_socket "$dir/py.sock" python3 "$dir/echo.py" "$dir/py.sock"
py_pid=${pids[-1]}
start_on_socket "$dir/floor.sock" "$DENO" run -A --quiet --no-config "$dir/echo_floor.ts" "$dir/floor.sock"
floor_pid=${pids[-1]}
# The C client keeps the driver's own cost out of the figures; the Deno one is the fallback.
if cc -O2 -o "$dir/echo_load" bench/_echo_load.c 2>/dev/null; then
  load() { "$dir/echo_load" "$1" 1000 100; }
else
  load() { "$DENO" run -A --quiet bench/_echo_load.ts "unix:$1" 1000 100; }
fi
# The C floor: one epoll thread, no runtime (needs cc; the row is skipped without it).
c_server=
if cc -O2 -o "$dir/echo_server" bench/_echo_server.c 2>/dev/null; then
  start_on_socket "$dir/c.sock" "$dir/echo_server" "$dir/c.sock"
  c_server=1
fi
load "$dir/ipcat.sock" >/dev/null # warm up the JIT (and python's side below, for fairness)
load "$dir/py.sock" >/dev/null
# Interleaved, median of 3: the machine is shared and a single run swings.
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
ipcat_runs=() py_runs=() c_runs=() floor_runs=()
load "$dir/floor.sock" >/dev/null
for _ in 1 2 3; do
  read -r s fail < <(load "$dir/ipcat.sock"); ipcat_runs+=("$s"); [ "$fail" = 0 ] || echo "failures: ipcat $fail" >&2
  read -r s fail < <(load "$dir/py.sock"); py_runs+=("$s"); [ "$fail" = 0 ] || echo "failures: python $fail" >&2
  read -r s fail < <(load "$dir/floor.sock"); floor_runs+=("$s"); [ "$fail" = 0 ] || echo "failures: floor $fail" >&2
  if [ -n "$c_server" ]; then read -r s fail < <(load "$dir/c.sock"); c_runs+=("$s"); fi
done
ipcat_s=$(median "${ipcat_runs[@]}")
py_s=$(median "${py_runs[@]}")
row "echo 1000 clients x 100 trips, wall s (median of 3)" "$ipcat_s" "$py_s (py)" "$(ratio "$py_s" "$ipcat_s")" ">=2x"
if [ -n "$c_server" ]; then
  c_s=$(median "${c_runs[@]}")
  row "echo 1000 x 100, wall s vs the C epoll floor" "$ipcat_s" "$c_s (C)" "$(ratio "$ipcat_s" "$c_s")" "<=1.5x"
fi
floor_s=$(median "${floor_runs[@]}")
row "echo 1000 x 100, wall s vs a bare Deno loop" "$ipcat_s" "$floor_s (deno)" "$(ratio "$ipcat_s" "$floor_s")" "(floor)"
row "echo 1000 x 100, server peak RSS MB" "$(peak_rss_mb "$ipcat_pid")" "$(peak_rss_mb "$py_pid") (py)" \
  "$(ratio "$(peak_rss_mb "$py_pid")" "$(peak_rss_mb "$ipcat_pid")")" "<=60MB"
row "echo 1000 x 100, peak RSS MB vs bare Deno" "$(peak_rss_mb "$ipcat_pid")" "$(peak_rss_mb "$floor_pid") (deno)" \
  "$(ratio "$(peak_rss_mb "$ipcat_pid")" "$(peak_rss_mb "$floor_pid")")" "(floor)"

# (2) --handle cat vs socat fork EXEC:cat, one connection per message.
messages=2000
start_on_socket "$dir/handle.sock" "$IPCAT" serve --handle cat "$dir/handle.sock"
start_on_socket "$dir/socat.sock" socat "UNIX-LISTEN:$dir/socat.sock,fork" EXEC:cat
read -r handle_s handle_fail < <("$DENO" run -A --quiet bench/_handle_load.ts pipelined "unix:$dir/handle.sock" $messages 4)
read -r socat_s socat_fail < <("$DENO" run -A --quiet bench/_handle_load.ts per-connection "unix:$dir/socat.sock" $messages 4)
[ "$handle_fail$socat_fail" = "00" ] || echo "failures: ipcat $handle_fail, socat $socat_fail" >&2
handle_rate=$(awk -v n=$messages -v s="$handle_s" 'BEGIN { printf "%.0f", n / s }')
socat_rate=$(awk -v n=$messages -v s="$socat_s" 'BEGIN { printf "%.0f", n / s }')
row "--handle cat, messages/s ($messages, 4 clients)" "$handle_rate" "$socat_rate (socat)" \
  "$(ratio "$handle_rate" "$socat_rate")" ">=1.5x"
spawn_s=$("$DENO" run -A --quiet --no-config "$dir/spawn_floor.ts" $messages)
spawn_rate=$(awk -v n=$messages -v s="$spawn_s" 'BEGIN { printf "%.0f", n / s }')
row "  Deno's floor: spawn cat per message, 4 at once" "$handle_rate" "$spawn_rate (deno)" \
  "$(ratio "$handle_rate" "$spawn_rate")" "(floor)"
row "  that floor vs socat fork EXEC:cat" "$spawn_rate" "$socat_rate (socat)" \
  "$(ratio "$spawn_rate" "$socat_rate")" "(floor)"

# (3) --handle-stream cat: one coprocess per connection, the same pipelined load as (2).
messages_stream=200000
start_on_socket "$dir/stream.sock" "$IPCAT" serve --handle-stream cat "$dir/stream.sock"
read -r stream_s stream_fail < <("$DENO" run -A --quiet bench/_handle_load.ts pipelined "unix:$dir/stream.sock" $messages_stream 4)
[ "$stream_fail" = "0" ] || echo "failures: --handle-stream $stream_fail" >&2
stream_rate=$(awk -v n=$messages_stream -v s="$stream_s" 'BEGIN { printf "%.0f", n / s }')
row "--handle-stream cat, messages/s ($messages_stream, 4 clients)" "$stream_rate" "$socat_rate (socat)" \
  "$(ratio "$stream_rate" "$socat_rate")" ">=100000/s"
