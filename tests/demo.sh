#!/usr/bin/env bash
# make demo: two processes talk over a Unix socket, in every framing. Self-contained: it
# starts its own servers in a temp dir and removes everything when done.
set -euo pipefail
IPCAT="${IPCAT:-$(cd "$(dirname "$0")/.." && pwd)/bin/ipcat}"
DIR=$(mktemp -d /tmp/ipcat-demo.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

# Bold headings on a terminal only: `make demo > file` or `| less` gets plain text
# (NO_COLOR too; IPCAT_COLOR=1 forces them, as --color does for ipcat).
if { [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; } || [ "${IPCAT_COLOR:-}" = 1 ]; then
  BOLD=$'\033[1m' PLAIN=$'\033[0m'
else
  BOLD= PLAIN=
fi
say() { printf '\n%s# %s%s\n' "$BOLD" "$*" "$PLAIN"; }
show() { printf '$ %s\n' "$*"; "$@"; }

# Start `ipcat serve ARGS` in the background (stdout to a file); wait for its
# "listening on" line and put the address in $ADDR.
start() {
  local log="$DIR/serve.${#PIDS[@]}.log"
  "$IPCAT" serve "$@" 2>"$log" >"$log.out" &
  PIDS+=($!)
  # -s: the background job may not have created the log yet.
  until grep -qs '^listening on ' "$log"; do
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.02
  done
  ADDR=$(sed -n 's/^listening on //p' "$log")
}

say "An echo server on a Unix socket, and a client"
start --echo "$DIR/echo.sock"
echo "(server: ipcat serve --echo $DIR/echo.sock)"
show "$IPCAT" send "$DIR/echo.sock" "hello from process 2" "and a second message"

say "Many messages over one connection, one reply each"
printf '$ seq 5 | ipcat send --keep-open ...\n'
seq 5 | "$IPCAT" send --keep-open "$DIR/echo.sock"

say "A sink server prints what arrives; what each framing puts on the wire"
for framing in lines length length:u16le length:varint netstring msgpack; do
  sock="$DIR/wire-$framing.sock"
  "$IPCAT" serve -f raw -e hex --count 1 "$sock" >"$DIR/wire.out" 2>"$DIR/wire.err" &
  pid=$!
  msg=hi
  [ "$framing" = msgpack ] && msg='"hi"'
  "$IPCAT" send --wait 5s -n -f "$framing" "$sock" "$msg" 2>/dev/null || true
  wait "$pid"
  printf '  %-14s %s\n' "$framing" "$(cat "$DIR/wire.out")"
done
echo '  (the bytes "ipcat send -f NAME ADDR hi" wrote, as hex; msgpack was given the JSON string "hi")'

say "Round trip in every framing through serve --echo, binary as hex"
for framing in lines length length:u8 length:u64le length:varint netstring msgpack; do
  start --echo -f "$framing" "$DIR/rt-$framing.sock"
  addr=$ADDR
  printf '  %-14s ' "$framing"
  if [ "$framing" = msgpack ]; then
    "$IPCAT" send -f msgpack "$addr" '{"id":1,"ok":true}' | tr '\n' ' '
  else
    "$IPCAT" send -f "$framing" -e hex "$addr" 00ff7f 68656c6c6f | tr '\n' ' '
  fi
  echo
done

say "TCP on a free port (port 0): the real port is reported on stderr"
start --echo tcp:0
addr=$ADDR
echo "listening on $addr"
show "$IPCAT" send "$addr" "over tcp"

say "Any command as a socket RPC service: serve --handle (one process per message)"
start --handle "tr a-z A-Z" "$DIR/upper.sock"
echo "(server: ipcat serve --handle 'tr a-z A-Z' $DIR/upper.sock)"
show "$IPCAT" send "$DIR/upper.sock" "shout this" "and this"

say "inetd style: serve --exec runs one command per connection on its raw bytes"
start --exec "wc -c" "$DIR/count.sock"
printf '$ printf 12345 | ipcat send -f raw %s\n' "$DIR/count.sock"
printf 12345 | "$IPCAT" send -f raw "$DIR/count.sock"

say "A hub: serve --broadcast sends each message to every other client"
start --broadcast -v "$DIR/hub.sock"
"$IPCAT" send --keep-open --replies 1 "$DIR/hub.sock" </dev/null >"$DIR/listener.out" &
listener=$!
until grep -q 'conn 1: joined' "$DIR/serve.$((${#PIDS[@]} - 1)).log"; do sleep 0.02; done
show "$IPCAT" send -n "$DIR/hub.sock" "hello, everyone"
wait "$listener"
echo "the other client received: $(cat "$DIR/listener.out")"

say "pipe: a shell loop speaking a length-prefixed protocol line by line"
start --echo -f length "$DIR/len.sock"
printf '$ printf "one\\ntwo\\n" | ipcat pipe --from lines --to length %s\n' "$DIR/len.sock"
printf 'one\ntwo\n' | "$IPCAT" pipe --from lines --to length "$DIR/len.sock"

say "inspect: a logging proxy between a client and the echo server"
"$IPCAT" inspect "$DIR/proxy.sock" --target "$DIR/echo.sock" --count 2 >"$DIR/inspect.log" 2>"$DIR/inspect.err" &
proxy=$!
"$IPCAT" send --wait 5s "$DIR/proxy.sock" "seen by the proxy" "binary follows" >/dev/null
printf 'ab\x00\x01\xff\n' | "$IPCAT" send -f raw "$DIR/proxy.sock" >/dev/null 2>&1 || true
wait "$proxy" || true
sed 's/^/  /' "$DIR/inspect.log"

say "Clear errors and exit codes"
set +e
show "$IPCAT" send "$DIR/missing.sock" hi; echo "exit $?"
show "$IPCAT" send "uix:$DIR/echo.sock" hi; echo "exit $?"
show "$IPCAT" send --wait 200ms "$DIR/missing.sock" hi; echo "exit $?"
set -e

say "Done: servers stop on SIGTERM and remove their socket files"
