# Sourced by bench/NN-*.sh: a scratch dir under $BENCH_TMP and background processes, both
# cleaned up on exit. Usage: bench_setup NAME, then `pids+=($!)` after starting each one.
bench_setup() {
  : "${IPCAT:?run through bench/run.sh}" "${BENCH_TMP:?run through bench/run.sh}"
  dir=$(mktemp -d "$BENCH_TMP/$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}

# start_on_socket SOCKET CMD...: start a server in the background; wait until its socket accepts.
start_on_socket() {
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
