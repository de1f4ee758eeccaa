#!/usr/bin/env bash
# Issue 15 item 2: idle `serve` RSS next to its floor (a minimal Deno script listening on a
# Unix socket), and what each idle connection costs. Rows: what | ipcat | peer | ratio | target.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=$(sed -n 's/^exec "\([^"]*\)" run.*/\1/p' "$IPCAT")
DENO=${DENO:-$(command -v deno)}
source bench/_lib.sh
bench_setup memory

rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
row() { printf '%-44s %14s %14s %7s %8s\n' "$@"; }

cat >"$dir/floor.ts" <<'TS'
// The floor: accept and read on a Unix socket, nothing else.
const listener = Deno.listen({ transport: "unix", path: Deno.args[0] });
for await (const conn of listener) {
  (async () => {
    const buffer = new Uint8Array(1024);
    try {
      while ((await conn.read(buffer)) !== null) { /* idle */ }
    } catch { /* gone */ }
    conn.close();
  })();
}
TS
# Holds N connections open until its stdin closes; prints "ready" once all are connected.
cat >"$dir/hold.py" <<'PY'
import socket, sys
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); conns.append(s)
print("ready", flush=True)
sys.stdin.read()
PY

row "what" "ipcat" "peer" "ratio" "target"
start_on_socket "$dir/ipcat.sock" "$IPCAT" serve "$dir/ipcat.sock"
ipcat_pid=${pids[-1]}
start_on_socket "$dir/floor.sock" "$DENO" run -A --quiet "$dir/floor.ts" "$dir/floor.sock"
floor_pid=${pids[-1]}
ipcat_idle=$(rss_kb "$ipcat_pid")
floor_idle=$(rss_kb "$floor_pid")
row "idle serve RSS, MB (peer: minimal Deno listener)" "$((ipcat_idle / 1024))" "$((floor_idle / 1024)) (deno)" \
  "$(awk -v a="$ipcat_idle" -v b="$floor_idle" 'BEGIN { printf "%.2fx", a / b }')" "<=1.15x"

# 1,000 idle connections each: the RSS growth per connection.
per_conn() { # PID SOCKET -> bytes per idle connection
  local before after
  before=$(rss_kb "$1")
  coproc HOLD { python3 "$dir/hold.py" "$2" 1000; }
  read -r _ <&"${HOLD[0]}"
  # Each accepted connection's first read is pending once the server has seen them all.
  for _ in $(seq 100); do
    [ "$(ls /proc/"$1"/fd | wc -l)" -ge 1000 ] && break
    sleep 0.05
  done
  after=$(rss_kb "$1")
  exec {HOLD[1]}>&-
  wait "$HOLD_PID" 2>/dev/null || true
  echo $(((after - before) * 1024 / 1000))
}
ipcat_conn=$(per_conn "$ipcat_pid" "$dir/ipcat.sock")
floor_conn=$(per_conn "$floor_pid" "$dir/floor.sock")
row "bytes per idle connection (1,000 held)" "$ipcat_conn" "$floor_conn (deno)" \
  "$(awk -v a="$ipcat_conn" -v b="$floor_conn" 'BEGIN { printf "%.2fx", a / b }')" "-"
