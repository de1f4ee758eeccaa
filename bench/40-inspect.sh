#!/usr/bin/env bash
# inspect: round trips/s through the proxy (log to a file) vs direct, and bulk MB/s through
# the proxy with --record. Rows: what, ipcat, direct, ratio, target. MB = 10^6 bytes.
set -euo pipefail
: "${IPCAT:?run through bench/run.sh}" "${BENCH_TMP:?run through bench/run.sh}"
dir="$(mktemp -d "$BENCH_TMP/inspect.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ROUND_TRIPS="${ROUND_TRIPS:-20000}"
BULK_MB="${BULK_MB:-1024}"

wait_for() { # wait_for TEST... : poll (no event to wait on for socat's socket file)
  for _ in $(seq 1 500); do if "$@"; then return 0; fi; sleep 0.01; done
  echo "bench: timed out waiting for: $*" >&2; return 1
}
now_ns() { date +%s%N; }

# An echo server and a client doing one small message at a time, waiting for each reply.
cat > "$dir/echo.py" <<'PY'
import socket, sys, os
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(8)
while True:
    c, _ = s.accept()
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
PY
cat > "$dir/rt.py" <<'PY'
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX); s.connect(path)
msg = b"ping 0123456789\n"
t = time.perf_counter()
for _ in range(n):
    s.sendall(msg)
    got = 0
    while got < len(msg): got += len(s.recv(65536))
print(f"{n / (time.perf_counter() - t):.0f}")
PY

python3 "$dir/echo.py" "$dir/echo.sock" & pids+=($!)
wait_for test -S "$dir/echo.sock"
"$IPCAT" inspect "$dir/proxy.sock" --target "$dir/echo.sock" >"$dir/rt.log" 2>"$dir/rt.err" & pids+=($!)
wait_for grep -q "listening on" "$dir/rt.err"
python3 "$dir/rt.py" "$dir/echo.sock" 1000 >/dev/null # warm up
python3 "$dir/rt.py" "$dir/proxy.sock" 1000 >/dev/null
direct_rt=$(python3 "$dir/rt.py" "$dir/echo.sock" "$ROUND_TRIPS")
proxy_rt=$(python3 "$dir/rt.py" "$dir/proxy.sock" "$ROUND_TRIPS")
logged=$(grep -c " > 15B ping" "$dir/rt.log" || true)

# Bulk: socat sends BULK_MB of random bytes into a socat sink, through the proxy or not.
head -c $((64 * 1024 * 1024)) /dev/urandom >"$dir/random.bin"
bulk() { # bulk ADDR_TO_CONNECT SINK_PATH -> MB/s
  local connect="$1" sink="$2" start end
  socat -u "UNIX-LISTEN:$sink" - >/dev/null & local sink_pid=$!
  wait_for test -S "$sink"
  [ "$connect" = "$sink" ] || wait_for test -S "$connect"
  start=$(now_ns)
  for _ in $(seq 1 $((BULK_MB / 64))); do cat "$dir/random.bin"; done | socat -u - "UNIX-CONNECT:$connect"
  wait "$sink_pid"
  end=$(now_ns)
  echo $(((BULK_MB / 64) * 64 * 1024 * 1024 * 1000 / (end - start)))
}
direct_bulk=$(bulk "$dir/sink-direct.sock" "$dir/sink-direct.sock")
"$IPCAT" inspect "$dir/bulk.sock" --target "$dir/sink.sock" -f raw --record "$dir/bulk.jsonl" \
  >"$dir/bulk.log" 2>"$dir/bulk.err" & pids+=($!)
wait_for grep -q "listening on" "$dir/bulk.err"
proxy_bulk=$(bulk "$dir/bulk.sock" "$dir/sink.sock")
# Check the recording kept every byte (the base64 of each data event adds up).
recorded=$(python3 -c '
import base64, json, sys
print(sum(len(base64.b64decode(json.loads(l)["data"])) for l in open(sys.argv[1]) if "\"data\"" in l))' "$dir/bulk.jsonl")

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
printf '%-44s %12s %12s %7s  %s\n' "what" "ipcat" "direct" "ratio" "target"
printf '%-44s %12s %12s %7s  %s\n' "round trips/s via proxy, log to file" "$proxy_rt" "$direct_rt" \
  "$(ratio "$proxy_rt" "$direct_rt")" ">= 0.5x direct"
printf '%-44s %12s %12s %7s  %s\n' "bulk MB/s via proxy, -f raw --record" "$proxy_bulk" "$direct_bulk" \
  "$(ratio "$proxy_bulk" "$direct_bulk")" ">= 300 MB/s"
echo "(log lines for the round trips: $logged of $((ROUND_TRIPS + 1000)); recording kept $recorded of $((BULK_MB / 64 * 64 * 1024 * 1024)) bytes)"
