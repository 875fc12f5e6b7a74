#!/usr/bin/env bash
# Reproduces an open defect (issue 9 notes, 2026-12-02): a library whose async trigger or function rejects with an
# Error whose `message`/`stack` getters never return can wedge the runtime for good. isolated-vm's TaskEpilogue
# copies an unhandled rejection's reason (ExternalCopy::CopyThrownValue calls the getters) outside the lock
# timeout, on the runtime's main thread; the runtime then answers nobody and ignores SIGTERM.
#
# Usage: scripts/hostile-rejection-wedge.sh [rounds] [redis-port] [runtime-port]   (after npm run build)
# Exit 1 when the runtime wedged (PING unanswered for 3 s), 0 when it survived every round. Seen: wedged in
# round 8 and 31 of 40, survived 20 in another loop.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-40}
redis_port=${2:-7641}
runtime_port=${3:-7642}
dir=$(mktemp -d)
redis-server --port "$redis_port" --save '' --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
node dist/src/cli/index.js runtime --redis "redis://127.0.0.1:$redis_port" --port "$runtime_port" --log-level warn > "$dir/runtime.log" 2>&1 &
runtime=$!
cleanup() {
  kill -9 "$runtime" 2>/dev/null
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 50); do redis-cli -p "$runtime_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done

hostile="const e = new Error('x'); Object.defineProperty(e, 'message', { get() { for (;;) {} } }); Object.defineProperty(e, 'stack', { get() { for (;;) {} } });"
redis-cli -p "$runtime_port" TFUNCTION LOAD "#!js api_version=1.0 name=hostile
redis.registerKeySpaceTrigger('t', 'iso:', async () => { $hostile throw e; });
redis.registerStreamTrigger('s', 'iso:st:', async () => { $hostile throw e; });
redis.registerFunction('sync', () => { $hostile return new Promise((resolve, reject) => reject(e)); });" > /dev/null

for round in $(seq 1 "$rounds"); do
  timeout 3 redis-cli -p "$runtime_port" SET "iso:$round" x > /dev/null
  timeout 3 redis-cli -p "$runtime_port" XADD "iso:st:$round" '*' a 1 > /dev/null
  timeout 3 redis-cli -p "$runtime_port" TFCALL hostile.sync 0 > /dev/null
  if ! timeout 3 redis-cli -p "$runtime_port" PING > /dev/null; then
    echo "wedged in round $round of $rounds (runtime pid $runtime)"
    exit 1
  fi
done
echo "survived $rounds rounds"
