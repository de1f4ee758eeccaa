#!/usr/bin/env bash
# Issue 11: messages/s of `send --keep-open ws://` into `serve --echo ws:` next to a Node `ws`
# echo server driven by the same client, and one-shot request/reply next to a Unix socket.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/_lib.sh
bench_setup websocket
RUNS=${RUNS:-20}
N=${N:-100000}

listen_port() { # listen_port LOG: wait for the "listening on"/"port N" line, print the port
  until grep -qE '^(listening on|port )' "$1"; do sleep 0.01; done
  grep -oE '[0-9]+/?$' "$1" | head -1 | tr -d /
}
"$IPCAT" serve --echo ws:0 >/dev/null 2>"$dir/ws.log" &
pids+=($!)
ws_port=$(listen_port "$dir/ws.log")
node tests/ws_peer.mjs server >"$dir/node.log" 2>&1 &
pids+=($!)
node_port=$(listen_port "$dir/node.log")
"$IPCAT" serve --echo "$dir/echo.sock" >/dev/null 2>"$dir/unix.log" &
pids+=($!)
until grep -q '^listening on' "$dir/unix.log"; do sleep 0.01; done

# N messages of 32 bytes, one per hex line, pipelined over one connection, every reply received.
python3 -c "import sys; sys.stdout.write(('61' * 32 + '\n') * $N)" >"$dir/hex.txt"
rate() { # rate URL: messages/s echoed
  local start_ns end_ns replies
  start_ns=$(date +%s%N)
  replies=$("$IPCAT" send --keep-open -e hex "$1" <"$dir/hex.txt" | wc -l)
  end_ns=$(date +%s%N)
  [ "$replies" -eq "$N" ] || { echo "bench: $1 echoed $replies of $N" >&2; exit 1; }
  python3 -c "print(int($N / (($end_ns - $start_ns) / 1e9)))"
}
# Three interleaved runs each, the median: single runs swing 2-3x on a shared box.
ipcat_runs=() node_runs=()
for _ in 1 2 3; do
  ipcat_runs+=("$(rate "ws://127.0.0.1:$ws_port/")")
  node_runs+=("$(rate "ws://127.0.0.1:$node_port/")")
done
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
ipcat_rate=$(median3 "${ipcat_runs[@]}")
node_rate=$(median3 "${node_runs[@]}")
ws_ms=$(python3 bench/_median.py "$RUNS" "$IPCAT" send --keep-open "ws://127.0.0.1:$ws_port/" hello)
unix_ms=$(python3 bench/_median.py "$RUNS" "$IPCAT" send "$dir/echo.sock" hello)

ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
printf '%-58s %12s %12s %8s %s\n' "row" "ipcat" "peer" "ratio" "target"
printf '%-58s %12s %12s %8s %s\n' "ws echo msgs/s ($N x 32 B) vs Node ws server" "$ipcat_rate/s" "$node_rate/s" "$(ratio "$ipcat_rate" "$node_rate")" ">= 1.0x"
printf '%-58s %10sms %10sms %8s %s\n' "one-shot ws request/reply vs the same over unix:" "$ws_ms" "$unix_ms" "$(ratio "$ws_ms" "$unix_ms")" "(info)"
