#!/usr/bin/env bash
# serve --forward next to socat UNIX-LISTEN:S,fork TCP:127.0.0.1:PORT: 200 sequential curl
# requests through each to a local HTTP server, and 1 GiB bulk through each to a TCP sink.
# Prints rows: what | ipcat | peer | ratio | target. Medians of 3 runs; figures, not asserts.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
bench_setup forward
SIZE=$((1024 * 1024 * 1024))
DATA="$dir/1g"
head -c "$SIZE" /dev/urandom > "$DATA"
echo hello > "$dir/hello.txt"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_sock() { while [ ! -S "$1" ]; do sleep 0.01; done; }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
row() { printf '%-52s %-12s %-12s %-8s %s\n' "$@"; }

HTTP=$(free_port)
python3 -c '
import http.server, os, sys
os.chdir(sys.argv[2])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Quiet).serve_forever()
' "$HTTP" "$dir" &
pids+=($!)
until curl -sf "http://127.0.0.1:$HTTP/hello.txt" > /dev/null; do sleep 0.05; done
SINK=$(free_port)
socat -u -b 262144 "TCP-LISTEN:$SINK,bind=127.0.0.1,reuseaddr,fork" OPEN:/dev/null &
pids+=($!)

# forwarder KIND TARGET_PORT SOCK: start one and wait for its socket.
forwarder() {
  rm -f "$3"
  if [ "$1" = ipcat ]; then
    "$IPCAT" serve -q --forward "tcp:127.0.0.1:$2" "unix:$3" 2> /dev/null &
  else
    socat "UNIX-LISTEN:$3,fork" "TCP:127.0.0.1:$2" &
  fi
  pids+=($!)
  wait_sock "$3"
}

# Microseconds for 200 sequential curl requests through SOCK.
requests() {
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq 200); do curl -sf --unix-socket "$1" http://x/hello.txt > /dev/null; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 ))
}

# Microseconds to push 1 GiB through SOCK.
bulk() {
  local t0 t1
  t0=$(date +%s%N)
  socat -u -b 262144 "FILE:$DATA" "UNIX-CONNECT:$1"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 ))
}

forwarder ipcat "$HTTP" "$dir/ip-http.sock"
forwarder socat "$HTTP" "$dir/so-http.sock"
forwarder ipcat "$SINK" "$dir/ip-bulk.sock"
forwarder socat "$SINK" "$dir/so-bulk.sock"

row "what" "ipcat" "peer" "ratio" "target"
ri=() rs=() bi=() bs=()
for _ in 1 2 3; do
  ri+=("$(requests "$dir/ip-http.sock")")
  rs+=("$(requests "$dir/so-http.sock")")
  bi+=("$(bulk "$dir/ip-bulk.sock")")
  bs+=("$(bulk "$dir/so-bulk.sock")")
done
i=$(median3 "${ri[@]}") s=$(median3 "${rs[@]}")
per_s() { awk -v us="$1" 'BEGIN { printf "%.0f req/s", 200 / us * 1e6 }'; }
row "200 curl --unix-socket, forward unix: -> tcp: http" "$(per_s "$i")" "$(per_s "$s")" "$(ratio "$s" "$i")" ">= 1.0x"
i=$(median3 "${bi[@]}") s=$(median3 "${bs[@]}")
mb_s() { awk -v b="$SIZE" -v us="$1" 'BEGIN { printf "%.0f MB/s", b / us }'; }
row "1 GiB bulk, forward unix: -> tcp: sink" "$(mb_s "$i")" "$(mb_s "$s")" "$(ratio "$s" "$i")" ">= 1.0x"
