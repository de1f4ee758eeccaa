#!/usr/bin/env bash
# pipe: raw relay throughput against socat, peak RSS under a slow consumer, re-framing rate.
# Prints rows: what | ipcat | peer | ratio | target. Medians of 3 runs; figures, not asserts.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
bench_setup pipe
SIZE=$((1024 * 1024 * 1024))
DATA="$dir/1g"
SOCK="$dir/s.sock"
head -c "$SIZE" /dev/urandom > "$DATA"

# A sink that reads as fast as it can; one connection, then it exits.
start_sink() {
  rm -f "$SOCK"
  socat -u -b 262144 "UNIX-LISTEN:$SOCK" OPEN:/dev/null &
  pids+=($!)
  while [ ! -S "$SOCK" ]; do sleep 0.01; done
}

# Seconds taken by "$@" reading $DATA on stdin through a pipe, into a fresh sink.
seconds() {
  start_sink
  local t0 t1
  t0=$(date +%s%N)
  cat "$DATA" | "$@" > /dev/null
  t1=$(date +%s%N)
  wait "${pids[-1]}" 2>/dev/null || true
  echo $(( (t1 - t0) / 1000 ))
}

median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
rate() { awk -v b="$1" -v us="$2" 'BEGIN { printf "%.2f GB/s", b / us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
row() { printf '%-46s %-12s %-12s %-8s %s\n' "$@"; }

row "what" "ipcat" "peer" "ratio" "target"
ip=() so=() sb=()
for _ in 1 2 3; do
  ip+=("$(seconds "$IPCAT" pipe "unix:$SOCK")")
  so+=("$(seconds socat -u STDIN "UNIX-CONNECT:$SOCK")")
  sb+=("$(seconds socat -b 262144 -u STDIN "UNIX-CONNECT:$SOCK")")
done
i=$(median3 "${ip[@]}") s=$(median3 "${so[@]}") b=$(median3 "${sb[@]}")
row "raw 1 GiB, cat | pipe unix: vs socat -u" "$(rate $SIZE "$i")" "$(rate $SIZE "$s")" "$(ratio "$s" "$i")" ">= 1.0x"
row "raw 1 GiB, cat | pipe unix: vs socat -b 262144" "$(rate $SIZE "$i")" "$(rate $SIZE "$b")" "$(ratio "$b" "$i")" ">= 0.9x"

# Peak RSS with a consumer reading 64 KiB then sleeping 1 ms (~60 MB/s): backpressure.
# slow_rss pipe|file CMD...: peak RSS of CMD in MB, stdin through a pipe or from the file.
slow_rss() {
  rm -f "$SOCK"
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
while c.recv(65536):
    time.sleep(0.001)
' "$SOCK" &
  pids+=($!)
  while [ ! -S "$SOCK" ]; do sleep 0.01; done
  if [ "$1" = file ]; then
    shift
    /usr/bin/time -f %M -o "$dir/rss" "$@" < "$DATA" > /dev/null
  else
    shift
    cat "$DATA" | /usr/bin/time -f %M -o "$dir/rss" "$@" > /dev/null
  fi
  wait "${pids[-1]}" 2>/dev/null || true
  echo $(( $(cat "$dir/rss") / 1024 ))
}
# stdin a pipe (the worker path) and a regular file (read on the main thread).
r_pipe=$(slow_rss pipe "$IPCAT" pipe "unix:$SOCK")
r_file=$(slow_rss file "$IPCAT" pipe "unix:$SOCK")
r_so=$(slow_rss pipe socat -u STDIN "UNIX-CONNECT:$SOCK")
row "peak RSS, cat 1 GiB | pipe, slow reader" "$r_pipe MB" "$r_so MB" "-" "<= 64 MB"
row "peak RSS, pipe < 1 GiB file, slow reader" "$r_file MB" "-" "-" "<= 64 MB"

# Re-framing: 1,000,000 lines of 63 bytes + \n, lines -> length:u32be.
LINES="$dir/lines"
python3 -c '
import sys
line = b"x" * 63 + b"\n"
sys.stdout.buffer.write(line * 1000000)
' > "$LINES"
rf=()
for _ in 1 2 3; do
  start_sink
  t0=$(date +%s%N)
  "$IPCAT" pipe --from lines --to length "unix:$SOCK" < "$LINES" > /dev/null
  t1=$(date +%s%N)
  wait "${pids[-1]}" 2>/dev/null || true
  rf+=($(( (t1 - t0) / 1000 )))
done
m=$(median3 "${rf[@]}")
row "re-frame 1M 64-byte lines -> length (msg/s)" "$(awk -v us="$m" 'BEGIN { printf "%d", 1e6 / us * 1e6 }')" "-" "-" ">= 500000"
