#!/usr/bin/env bash
# CPU of the runtime (and of its redis-server) per captured HSET, the cost bench (f) divides into.
# usage: scripts/captured-hset-cpu.sh [checkout dir, default .] [base port, default 7440] [requests, default 20000]
# Starts redis-server on <base port> (the runtime reaches it by its Unix socket) and <checkout>/dist's runtime
# on <base port>+1, deploys config/example.json, warms up, runs `redis-benchmark -c 16` unpipelined
# `HSET person:__rand_int__ first_name x`, prints the rate and the CPU µs per HSET from /proc/<pid>/stat (all
# threads), and stops both. Build first (`npm run build`). To compare two builds on a noisy machine, alternate
# them, several runs each, and compare medians. NODE_ARGS passes flags to the runtime (e.g. --cpu-prof).
set -euo pipefail
DIR=$(cd "${1:-.}" && pwd); P=${2:-7440}; N=${3:-20000}; RP=$((P + 1)); T=$(mktemp -d)
cleanup() {
  [ -n "${rtp:-}" ] && kill "$rtp" 2>/dev/null && wait "$rtp" 2>/dev/null
  redis-cli -p "$P" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
redis-server --port "$P" --unixsocket "$T/r.sock" --unixsocketperm 700 --save '' --appendonly no --daemonize yes \
  --logfile "$T/redis.log" --pidfile "$T/redis.pid"
for _ in $(seq 50); do [ -S "$T/r.sock" ] && [ -s "$T/redis.pid" ] && break; sleep 0.1; done
# shellcheck disable=SC2086
node ${NODE_ARGS:-} "$DIR/dist/bench/support/runtime-entry.js" --redis "unix://$T/r.sock" --port "$RP" >"$T/runtime.log" 2>&1 &
rtp=$!
for _ in $(seq 100); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done
(cd "$DIR" && node dist/src/cli/index.js deploy --redis "redis://127.0.0.1:$RP" --config config/example.json >/dev/null)
hset() { redis-benchmark -p "$RP" -c 16 -n "$1" -r 100000 -q hset 'person:__rand_int__' first_name x; }
hset 2000 >/dev/null
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sp=$(cat "$T/redis.pid"); r0=$(cpu "$rtp"); s0=$(cpu "$sp")
rate=$(hset "$N" | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | cut -d' ' -f1)
r1=$(cpu "$rtp"); s1=$(cpu "$sp"); tick=$(getconf CLK_TCK)
echo "captured HSET/s $rate  runtime µs/HSET $(( (r1 - r0) * 1000000 / tick / N ))  redis-server µs/HSET $(( (s1 - s0) * 1000000 / tick / N ))"
