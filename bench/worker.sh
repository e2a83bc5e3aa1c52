#!/usr/bin/env bash
# Worker benchmark: how fast `conduit work` takes deliveries off the queue and hands them to a
# processor that does nothing (bench/noop_processor.cpp), and how long a delivery waits between
# being queued and the processor's call when the queue is idle.
#
# 1. Throughput: COUNT deliveries (the ~32 KB sample pull_request) are queued first; the worker
#    then starts and the clock runs from its first answer to an empty stream. Every delivery is
#    read, normalized, handed to the plugin, acknowledged and deleted, as in production.
# 2. Latency: SAMPLES single deliveries, one every few milliseconds, into the idle queue; the
#    plugin notes the time from the XADD (Redis's clock) to its call.
#
# usage: bench/worker.sh [BUILD_DIR]     (make bench builds first and runs this)
# env:   COUNT (default 20000), SAMPLES (500), CONCURRENCY (worker_concurrency, default 16)
set -euo pipefail

build=${1:-build}
count=${COUNT:-20000}
samples=${SAMPLES:-500}
concurrency=${CONCURRENCY:-16}
root=$(cd "$(dirname "$0")/.." && pwd)
conduit="$root/$build/core/conduit"
plugins="$root/$build/bench/plugins"
body="$root/examples/payloads/pull_request.closed.json"
for tool in redis-server redis-cli curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (make bench installs it)" >&2; exit 1; }
done
[ -f "$plugins/bench_noop.so" ] || { echo "missing $plugins/bench_noop.so: build first" >&2; exit 1; }

. "$root/bench/lib.sh"
now_ms() { date +%s%3N; }

start_redis --auto-aof-rewrite-percentage 0
cli() { redis-cli -s "$work/redis.sock" "$@"; }

# Queues ARGV[1] copies of the payload (ARGV[2]) as the ingress writes them; each delivery id is
# `t<Redis's clock in µs>-<n>`, so the plugin can tell how long it waited.
enqueue_script='
local time = redis.call("TIME")
local stamp = "t" .. time[1] .. string.format("%06d", tonumber(time[2]))
if redis.call("EXISTS", "conduit::deliveries") == 0 then
  redis.call("XGROUP", "CREATE", "conduit::deliveries", "conduit-workers", "0", "MKSTREAM")
end
for i = 1, tonumber(ARGV[1]) do
  redis.call("XADD", "conduit::deliveries", "*", "schema", "1", "provider", "github",
    "repo_id", "payments-service", "repo_path", "acme-corp/payments-service",
    "event", "pull_request", "delivery", stamp .. "-" .. i, "received_at_ms", time[1] .. "000",
    "payload", ARGV[2])
end
return 1'
enqueue() { cli -x EVAL "$enqueue_script" 0 "$1" <"$body" >/dev/null; }

port=$(free_port)
cat >"$work/app.env" <<CONFIG
bind=127.0.0.1
log_level=warn
redis_url=unix://$work/redis.sock
plugin_dir=$plugins
worker_concurrency=$concurrency
bench_latency_file=$work/latencies.txt
CONFIG
mkdir "$work/statemachines"
cp "$root/config/statemachines/jira.hcl" "$work/statemachines/"
printf 'workers:\n  bench:\n    plugin: bench_noop\n    statefile: jira.hcl\n    projects: [soc]\n' \
  >"$work/workers.yaml"

machine
echo "Load: $count queued deliveries of $(wc -c <"$body") bytes, worker_concurrency=$concurrency; then $samples deliveries one at a time"
echo

# Throughput
enqueue "$count"
redis_before=$(cpu_us "$redis_pid")
"$conduit" work --config "$work/app.env" --hcl-dir "$work/statemachines" \
  --worker-cfg "$work/workers.yaml" -p "$port" 2>"$work/conduit.log" &
conduit_pid=$!
pids+=($conduit_pid)
wait_for "http://127.0.0.1:$port/conduit-reactor/ping"
start=$(now_ms)
while [ "$(cli XLEN conduit::deliveries)" != 0 ]; do sleep 0.02; done
elapsed=$(($(now_ms) - start))
conduit_cpu=$(cpu_us "$conduit_pid")
redis_cpu=$(($(cpu_us "$redis_pid") - redis_before))

# Latency, into an idle queue
for _ in $(seq "$samples"); do
  enqueue 1
  sleep 0.005
done
while [ "$(cli XLEN conduit::deliveries)" != 0 ]; do sleep 0.02; done
rss=$(peak_rss_mb "$conduit_pid")
kill -TERM "$conduit_pid"
wait "$conduit_pid" || true
pids=("$redis_pid")
errors=$(grep -c -E ' (warning|error) ' "$work/conduit.log" || true)

tail -n "$samples" "$work/latencies.txt" >"$work/idle.txt"
python3 - "$count" "$elapsed" "$conduit_cpu" "$redis_cpu" "$work/idle.txt" "$rss" "$errors" <<'PY'
import sys
count, elapsed_ms, conduit_cpu, redis_cpu = (int(v) for v in sys.argv[1:5])
latencies = sorted(int(l) for l in open(sys.argv[5]) if l.strip())
rss, errors = sys.argv[6], sys.argv[7]
def pct(p):
    return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] / 1000
print("| deliveries/s | CPU per delivery | enqueue to call, idle: p50 | p99 | peak RSS | warnings |")
print("|---|---|---|---|---|---|")
print(f"| {count * 1000 / elapsed_ms:,.0f} | {conduit_cpu / count:.0f} µs (+ redis-server "
      f"{redis_cpu / count:.0f} µs) | {pct(50):.2f} ms | {pct(99):.2f} ms | {rss} MB | {errors} |")
PY
