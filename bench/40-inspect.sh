#!/usr/bin/env bash
# inspect: round trips/s through the proxy (log to a file) vs direct, and bulk MB/s through
# the proxy with --record. Rows: what, ipcat, direct, ratio, target. MB = 10^6 bytes.
# Each figure is the median of RUNS runs, direct and proxied runs interleaved, because
# this 2-core machine is shared and single runs swing by 2x.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
bench_setup inspect
RUNS="${RUNS:-3}"
ROUND_TRIPS="${ROUND_TRIPS:-10000}"
BULK_MB="${BULK_MB:-512}" # a multiple of 64

wait_for() { # poll: socat and python print nothing when ready; ipcat's line is in a file
  for _ in $(seq 1 1000); do if "$@"; then return 0; fi; sleep 0.01; done
  echo "bench: timed out waiting for: $*" >&2
  return 1
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
row() { printf '%-46s %10s %10s %7s  %s\n' "$@"; }

# Round trips: one small message at a time, waiting for each echo.
cat >"$dir/echo.py" <<'PY'
import socket, sys, threading
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat >"$dir/rt.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
n, msg = int(sys.argv[2]), b"ping 0123456789\n"
t = time.perf_counter()
for _ in range(n):
    s.sendall(msg)
    got = 0
    while got < len(msg): got += len(s.recv(65536))
print(f"{n / (time.perf_counter() - t):.0f}")
PY
# The floor for any Deno proxy: a bare read/write loop per direction, nothing else.
cat >"$dir/bare.ts" <<'TS'
const listener = Deno.listen({ transport: "unix", path: Deno.args[0] });
const pump = async (from: Deno.Conn, to: Deno.Conn) => {
  const buffer = new Uint8Array(65536);
  for (let n; (n = await from.read(buffer)) !== null;) {
    for (let at = 0; at < n;) at += await to.write(buffer.subarray(at, n));
  }
  await to.closeWrite().catch(() => {});
};
for await (const conn of listener) {
  const upstream = await Deno.connect({ transport: "unix", path: Deno.args[1] });
  Promise.all([pump(conn, upstream), pump(upstream, conn)]).finally(() => (conn.close(), upstream.close()));
}
TS
DENO="$(sed -n 's/^exec "\([^"]*\)".*/\1/p' "$IPCAT")"
python3 "$dir/echo.py" "$dir/echo.sock" & pids+=($!)
wait_for test -S "$dir/echo.sock"
if [ -x "$DENO" ]; then
  "$DENO" run --allow-all --quiet "$dir/bare.ts" "$dir/bare.sock" "$dir/echo.sock" & pids+=($!)
  wait_for test -S "$dir/bare.sock"
fi
"$IPCAT" inspect "$dir/proxy.sock" --target "$dir/echo.sock" >"$dir/rt.log" 2>"$dir/rt.err" & pids+=($!)
socat "UNIX-LISTEN:$dir/socat.sock,fork" "UNIX-CONNECT:$dir/echo.sock" & pids+=($!)
wait_for grep -qs "listening on" "$dir/rt.err"
wait_for test -S "$dir/socat.sock"
socks="echo proxy socat$([ -S "$dir/bare.sock" ] && echo " bare")"
for sock in $socks; do python3 "$dir/rt.py" "$dir/$sock.sock" 1000 >/dev/null; done # warm up
: >"$dir/rt.direct" && : >"$dir/rt.proxy" && : >"$dir/rt.socat" && : >"$dir/rt.bare"
for _ in $(seq 1 "$RUNS"); do
  for sock in $socks; do
    python3 "$dir/rt.py" "$dir/$sock.sock" "$ROUND_TRIPS" >>"$dir/rt.$([ $sock = echo ] && echo direct || echo $sock)"
  done
done
direct_rt=$(median <"$dir/rt.direct")
proxy_rt=$(median <"$dir/rt.proxy")
socat_rt=$(median <"$dir/rt.socat")
bare_rt=$(median <"$dir/rt.bare")
logged=$(grep -c " > 15B ping" "$dir/rt.log" || true)

# Bulk: socat sends a file of random bytes into a socat sink, through the proxy or not.
head -c $((64 * 1024 * 1024)) /dev/urandom >"$dir/random64"
for _ in $(seq 1 $((BULK_MB / 64))); do cat "$dir/random64"; done >"$dir/bulk.bin"
rm "$dir/random64"
# The input just written would be flushed to disk during the first run, beside the recording.
sync
bytes=$(stat -c %s "$dir/bulk.bin")
transfer() { # transfer CONNECT_PATH SINK_PATH -> MB/s
  local start end
  socat -b 262144 -u "UNIX-LISTEN:$2" - >/dev/null & local sink=$!
  wait_for test -S "$2"
  start=$(date +%s%N)
  socat -b 262144 -u "OPEN:$dir/bulk.bin" "UNIX-CONNECT:$1"
  wait "$sink"
  end=$(date +%s%N)
  echo $((bytes * 1000 / (end - start)))
}
: >"$dir/bulk.direct" && : >"$dir/bulk.proxy"
# Run 0 is a warm-up, shown but not counted: the first recording written on this box runs at
# 300-400 MB/s every time, the next ones at 600-850 (the disk's page cache, not the JIT: each
# run is a fresh process), and a direct run writes no file.
for run in $(seq 0 "$RUNS"); do
  if [ "$run" = 0 ]; then bulk_proxy_out="$dir/bulk.warmup"; else bulk_proxy_out="$dir/bulk.proxy"; fi
  [ "$run" = 0 ] || transfer "$dir/direct.sock" "$dir/direct.sock" >>"$dir/bulk.direct"
  rm -f "$dir/bulk.jsonl" "$dir/bulk.err"
  "$IPCAT" inspect "$dir/bulk.sock" --target "$dir/sink.sock" -f raw --record "$dir/bulk.jsonl" \
    >"$dir/bulk.log" 2>"$dir/bulk.err" & proxy=$!
  wait_for grep -qs "listening on" "$dir/bulk.err"
  transfer "$dir/bulk.sock" "$dir/sink.sock" >>"$bulk_proxy_out"
  kill "$proxy" && wait "$proxy" || true
  if [ "$run" = 1 ]; then # the recording holds every byte: its base64 adds up
    recorded=$(python3 -c '
import base64, json, sys
print(sum(len(base64.b64decode(json.loads(l)["data"])) for l in open(sys.argv[1]) if "\"data\"" in l))' \
      "$dir/bulk.jsonl")
    record_size=$(stat -c %s "$dir/bulk.jsonl")
    log_size=$(stat -c %s "$dir/bulk.log")
  fi
done
direct_bulk=$(median <"$dir/bulk.direct")
proxy_bulk=$(median <"$dir/bulk.proxy")

row "what" "ipcat" "direct" "ratio" "target"
row "round trips/s via inspect, log to a file" "$proxy_rt" "$direct_rt" "$(ratio "$proxy_rt" "$direct_rt")" \
  ">= 0.58x direct"
row "  (reference: socat as the proxy)" "$socat_rt" "$direct_rt" "$(ratio "$socat_rt" "$direct_rt")" "-"
[ -n "$bare_rt" ] && row "  (reference: bare Deno read/write relay)" "$bare_rt" "$direct_rt" \
  "$(ratio "$bare_rt" "$direct_rt")" "-"
row "bulk MB/s via inspect -f raw --record FILE" "$proxy_bulk" "$direct_bulk" \
  "$(ratio "$proxy_bulk" "$direct_bulk")" ">= 700 MB/s"
echo "runs: rt direct $(tr '\n' ' ' <"$dir/rt.direct")| proxy $(tr '\n' ' ' <"$dir/rt.proxy")| socat $(tr '\n' ' ' <"$dir/rt.socat")| bare $(tr '\n' ' ' <"$dir/rt.bare")"
echo "runs: bulk direct $(tr '\n' ' ' <"$dir/bulk.direct")| proxy $(tr '\n' ' ' <"$dir/bulk.proxy")(warm-up $(cat "$dir/bulk.warmup"))"
echo "round-trip log: $logged data lines; bulk: recording kept $recorded of $bytes bytes" \
  "($record_size B of JSON Lines, log $log_size B)"
