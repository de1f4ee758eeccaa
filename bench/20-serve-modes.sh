#!/usr/bin/env bash
# serve modes under load. Rows: what | ipcat | peer | ratio (higher = ipcat better) | target.
# Needs $IPCAT and $BENCH_TMP (exported by bench/run.sh), python3 and socat.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=$(sed -n 's/^exec "\([^"]*\)" run.*/\1/p' "$IPCAT")
DENO=${DENO:-$(command -v deno)}
source bench/_lib.sh
bench_setup serve-modes

# Start a server in the background; wait for its socket to accept connections.
start() { # SOCKET CMD...
  local sock=$1
  shift
  "$@" 2>"$sock.log" &
  pids+=($!)
  for _ in $(seq 200); do
    [ -S "$sock" ] && socat -u /dev/null "UNIX-CONNECT:$sock" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server on $sock did not start: $(cat "$sock.log")" >&2
  exit 1
}
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

row "what" "ipcat" "peer" "ratio" "target"

# (1) 1,000 clients x 100 round trips against an echo server.
start "$dir/ipcat.sock" "$IPCAT" serve --echo "$dir/ipcat.sock"
ipcat_pid=${pids[-1]}
start "$dir/py.sock" python3 "$dir/echo.py" "$dir/py.sock"
py_pid=${pids[-1]}
# The C client keeps the driver's own cost out of the figures; the Deno one is the fallback.
if cc -O2 -o "$dir/echo_load" bench/_echo_load.c 2>/dev/null; then
  load() { "$dir/echo_load" "$1" 1000 100; }
else
  load() { "$DENO" run -A --quiet bench/_echo_load.ts "unix:$1" 1000 100; }
fi
load "$dir/ipcat.sock" >/dev/null # warm up the JIT (and python's side below, for fairness)
load "$dir/py.sock" >/dev/null
read -r ipcat_s ipcat_fail < <(load "$dir/ipcat.sock")
read -r py_s py_fail < <(load "$dir/py.sock")
[ "$ipcat_fail$py_fail" = "00" ] || echo "failures: ipcat $ipcat_fail, python $py_fail" >&2
row "echo 1000 clients x 100 trips, wall s" "$ipcat_s" "$py_s (py)" "$(ratio "$py_s" "$ipcat_s")" ">=2x"
row "echo 1000 x 100, server peak RSS MB" "$(peak_rss_mb "$ipcat_pid")" "$(peak_rss_mb "$py_pid") (py)" \
  "$(ratio "$(peak_rss_mb "$py_pid")" "$(peak_rss_mb "$ipcat_pid")")" "-"

# (2) --handle cat vs socat fork EXEC:cat, one connection per message.
messages=2000
start "$dir/handle.sock" "$IPCAT" serve --handle cat "$dir/handle.sock"
start "$dir/socat.sock" socat "UNIX-LISTEN:$dir/socat.sock,fork" EXEC:cat
read -r handle_s handle_fail < <("$DENO" run -A --quiet bench/_handle_load.ts pipelined "unix:$dir/handle.sock" $messages 4)
read -r socat_s socat_fail < <("$DENO" run -A --quiet bench/_handle_load.ts per-connection "unix:$dir/socat.sock" $messages 4)
[ "$handle_fail$socat_fail" = "00" ] || echo "failures: ipcat $handle_fail, socat $socat_fail" >&2
handle_rate=$(awk -v n=$messages -v s="$handle_s" 'BEGIN { printf "%.0f", n / s }')
socat_rate=$(awk -v n=$messages -v s="$socat_s" 'BEGIN { printf "%.0f", n / s }')
row "--handle cat, messages/s ($messages, 4 clients)" "$handle_rate" "$socat_rate (socat)" \
  "$(ratio "$handle_rate" "$socat_rate")" ">=1.0x"
