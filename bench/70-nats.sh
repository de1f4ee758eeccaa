#!/usr/bin/env bash
# nats: addresses on a local nats-server. Rows: what | ipcat | peer | ratio | target.
# Needs $IPCAT and $BENCH_TMP (exported by bench/run.sh) and nats-server.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=$(sed -n 's/^exec "\([^"]*\)" run.*/\1/p' "$IPCAT")
DENO=${DENO:-$(command -v deno)}
source bench/_lib.sh
bench_setup nats
command -v nats-server >/dev/null || { echo "nats-server not installed: skipped"; exit 0; }

row() { printf '%-44s %14s %14s %7s %8s\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
load() { "$DENO" run --allow-all --frozen --quiet bench/_nats_load.ts "$@"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="nats://127.0.0.1:$port"
nats-server -a 127.0.0.1 -p "$port" 2>"$dir/server.log" &
pids+=($!)
for _ in $(seq 100); do grep -qs "Server is ready" "$dir/server.log" && break; sleep 0.05; done

# Start a worker in the background; wait for its "listening on" line.
start() { # LOG CMD...
  local log=$1
  shift
  "$@" 2>"$log" &
  pids+=($!)
  for _ in $(seq 200); do grep -q "listening on" "$log" && return 0; sleep 0.05; done
  echo "worker did not start: $(cat "$log")" >&2
  exit 1
}
stop_workers() {
  for pid in "${workers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  workers=()
}

row "what" "ipcat" "peer" "ratio" "target"
workers=()
for n in 1 2 4; do
  for i in $(seq "$n"); do
    start "$dir/handle$i.log" "$IPCAT" serve --handle cat "$url/handle"
    workers+=($!)
  done
  rate=$(load request "$url" handle 2000 32)
  [ "$n" = 1 ] && one=$rate
  row "serve --handle cat, $n worker(s), req/s" "$rate" "" "$(ratio "$rate" "$one")" "scales"
  stop_workers
done

start "$dir/echo.log" "$IPCAT" serve --echo "$url/echo"
workers+=($!)
ipcat_rate=$(load request "$url" echo 20000 32)
stop_workers
start "$dir/respond.log" load respond "$url" echo
workers+=($!)
peer_rate=$(load request "$url" echo 20000 32)
stop_workers
row "serve --echo round trips/s (32 in flight)" "$ipcat_rate" "$peer_rate" "$(ratio "$ipcat_rate" "$peer_rate")" "≥ 0.8x"

count=1000000
python3 -c "import sys; sys.stdout.write(('x' * 63 + '\n') * $count)" >"$dir/lines"
coproc COUNTER { load count "$url" pub "$count"; }
read -r _ <&"${COUNTER[0]}"
# pipe keeps receiving the subject after stdin ends: it is stopped once the counter has all.
"$IPCAT" pipe -q -f lines "$url/pub" <"$dir/lines" >/dev/null 2>&1 &
pipe_pid=$!
read -r pub_rate <&"${COUNTER[0]}"
wait "$COUNTER_PID"
kill "$pipe_pid" 2>/dev/null || true
wait "$pipe_pid" 2>/dev/null || true
# The same count of publishes from the client library alone, received by the same counter.
coproc COUNTER { load count "$url" pub "$count"; }
read -r _ <&"${COUNTER[0]}"
load publish "$url" pub "$count"
read -r lib_rate <&"${COUNTER[0]}"
row "pipe stdin -> publish, 1M x 64 B, msgs/s" "$pub_rate" "$lib_rate" "$(ratio "$pub_rate" "$lib_rate")" "≥ 200k/s"
