#!/usr/bin/env bash
# Issue 2: one-shot `send` latency next to socat / nc / an empty `deno run`, and pipelined
# messages per second through `send --keep-open` into `serve --echo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/_lib.sh
bench_setup send-serve
DENO=$(command -v deno || echo "$PWD/.deno/node_modules/@deno/linux-x64-glibc/deno")
RUNS=${RUNS:-40}

start() { # start SOCK ARGS...: serve in background, wait for "listening on"
  local sock=$1; shift
  "$IPCAT" serve "$@" "$sock" >/dev/null 2>"$dir/serve.log" &
  pids+=($!)
  until grep -q '^listening on' "$dir/serve.log"; do sleep 0.01; done
}

start "$dir/echo.sock" --echo
echo 'export {};' >"$dir/empty.ts"

ipcat_ms=$(python3 bench/_median.py "$RUNS" "$IPCAT" send "$dir/echo.sock" hello)
deno_ms=$(python3 bench/_median.py "$RUNS" "$DENO" run --quiet "$dir/empty.ts")
socat_ms=$(python3 bench/_median.py "$RUNS" sh -c "echo hello | socat - UNIX-CONNECT:$dir/echo.sock")
nc_ms=$(python3 bench/_median.py "$RUNS" sh -c "echo hello | nc -NU $dir/echo.sock")

printf '%-58s %12s %12s %8s %s\n' "row" "ipcat" "peer" "ratio" "target"
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
printf '%-58s %10sms %10sms %8s %s\n' "one-shot send (median of $RUNS) vs empty deno run" "$ipcat_ms" "$deno_ms" "$(ratio "$ipcat_ms" "$deno_ms")" "<= 1.3x"
printf '%-58s %10sms %10sms %8s %s\n' "one-shot send vs socat - UNIX-CONNECT" "$ipcat_ms" "$socat_ms" "$(ratio "$ipcat_ms" "$socat_ms")" "(info)"
printf '%-58s %10sms %10sms %8s %s\n' "one-shot send vs nc -NU" "$ipcat_ms" "$nc_ms" "$(ratio "$ipcat_ms" "$nc_ms")" "(info)"

# 1,000,000 lines of 64 bytes, pipelined over one connection, every reply received.
python3 -c "
import sys
line = b'x' * 63 + b'\n'
sys.stdout.buffer.write(line * 1000000)" >"$dir/lines.txt"
start_ns=$(date +%s%N)
replies=$("$IPCAT" send --keep-open "$dir/echo.sock" <"$dir/lines.txt" | wc -l)
end_ns=$(date +%s%N)
rate=$(python3 -c "print(int($replies / (($end_ns - $start_ns) / 1e9)))")
[ "$replies" -eq 1000000 ] || echo "WARNING: got $replies replies, expected 1000000"
printf '%-58s %10s/s %12s %8s %s\n' "pipelined 1M x 64 B lines, send --keep-open -> serve --echo" "$rate" "-" "-" ">= 3000000/s"
