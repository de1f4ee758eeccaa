#!/usr/bin/env bash
# Issue 2: one-shot `send` latency next to socat / nc / an empty `deno run`, and pipelined
# messages per second through `send --keep-open` into `serve --echo`. Issue 15: `--version` too.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/_lib.sh
bench_setup send-serve
DENO=$(command -v deno || echo "$PWD/.deno/node_modules/@deno/linux-x64-glibc/deno")

start() { # start SOCK ARGS...: serve in background, wait for "listening on"
  local sock=$1; shift
  "$IPCAT" serve "$@" "$sock" >/dev/null 2>"$dir/serve.log" &
  pids+=($!)
  until grep -q '^listening on' "$dir/serve.log"; do sleep 0.01; done
}

start "$dir/echo.sock" --echo
echo 'export {};' >"$dir/empty.ts"

# Startup: every command in turn, RUNS rounds (load on the shared machine falls on all alike);
# medians, and the p25-p75 spread as the noise of this run.
RUNS=${RUNS:-100}
python3 bench/_interleaved.py "$RUNS" \
  "deno=$DENO run --quiet $dir/empty.ts" \
  "bare=$DENO run --quiet --no-config $dir/empty.ts" \
  "send=$IPCAT send $dir/echo.sock hello" \
  "version=$IPCAT --version" \
  "socat=sh -c 'echo hello | socat - UNIX-CONNECT:$dir/echo.sock'" \
  "nc=sh -c 'echo hello | nc -NU $dir/echo.sock'" >"$dir/startup.txt"
ms() { awk -v n="$1" '$1 == n { print $2 }' "$dir/startup.txt"; }
spread() { awk -v n="$1" '$1 == n { print $3 "-" $4 }' "$dir/startup.txt"; }
deno_ms=$(ms deno) ipcat_ms=$(ms send) version_ms=$(ms version)

printf '%-58s %12s %12s %8s %s\n' "row" "ipcat" "peer" "ratio" "target"
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
printf '%-58s %10sms %10sms %8s %s\n' "one-shot send vs empty deno run (median of $RUNS, interleaved)" "$ipcat_ms" "$deno_ms" "$(ratio "$ipcat_ms" "$deno_ms")" "<= 1.25x"
printf '%-58s %10sms %10sms %8s %s\n' "ipcat --version vs empty deno run" "$version_ms" "$deno_ms" "$(ratio "$version_ms" "$deno_ms")" "<= 1.1x"
# The stricter floor: Deno with the launcher's --no-config (an empty run above, from this
# checkout, also finds and reads deno.json and the lock).
printf '%-58s %10sms %10sms %8s %s\n' "one-shot send vs empty deno run --no-config" "$ipcat_ms" "$(ms bare)" "$(ratio "$ipcat_ms" "$(ms bare)")" "(floor)"
printf '%-58s %10sms %10sms %8s %s\n' "ipcat --version vs empty deno run --no-config" "$version_ms" "$(ms bare)" "$(ratio "$version_ms" "$(ms bare)")" "(floor)"
printf '%-58s %10sms %10sms %8s %s\n' "one-shot send vs socat - UNIX-CONNECT" "$ipcat_ms" "$(ms socat)" "$(ratio "$ipcat_ms" "$(ms socat)")" "(info)"
printf '%-58s %10sms %10sms %8s %s\n' "one-shot send vs nc -NU" "$ipcat_ms" "$(ms nc)" "$(ratio "$ipcat_ms" "$(ms nc)")" "(info)"
printf '%-58s %s\n' "  noise (p25-p75 ms): send $(spread send), --version $(spread version), deno $(spread deno), --no-config $(spread bare)" "$(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

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
