#!/usr/bin/env bash
# Ingress benchmark: signed ~32 KB pull_request deliveries driven by wrk at 32 connections
# against `conduit serve` (with its own redis-server), and in the same run against a bare
# Pistache endpoint that only computes the body's HMAC: the framework's ceiling. Both are driven
# with `Connection: keep-alive`, then again without it (a connection per request). Prints, for
# each, requests/s, p50 and p99 latency, error answers, peak RSS and CPU per request, then
# Conduit's share of the ceiling and the CPU per delivery (Conduit's plus Redis's) against the
# ceiling's, beside issue 14's goals.
#
# usage: bench/ingress.sh [BUILD_DIR]     (make bench builds first and runs this)
# env:   DURATION (default 20s), CONNECTIONS (32), THREADS (wrk threads, 2),
#        SERVER_THREADS (HTTP threads of both servers, default 4),
#        MODES ("keep-alive close" by default; either one alone to run only that row),
#        LOG_LEVEL (Conduit's log_level, default info: one access-log line per request)
set -euo pipefail

build=${1:-build}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-32}
wrk_threads=${THREADS:-2}
server_threads=${SERVER_THREADS:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
conduit="$root/$build/core/conduit"
bare="$root/$build/bench/conduit_bare_pistache"
body="$root/examples/payloads/pull_request.closed.json"
for tool in wrk redis-server redis-cli openssl curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (make bench installs it)" >&2; exit 1; }
done

. "$root/bench/lib.sh"

# Runs wrk against the server `pid` and prints: requests/s, p50, p99, non-2xx answers, socket
# errors, the CPU microseconds per request of `pid` and of every other pid given, and the number
# of 2xx answers.
drive() {
  local url=$1 path=$2 signature=$3 run=$4
  shift 4
  local before=() pid
  for pid in "$@"; do before+=("$(cpu_us "$pid")"); done
  BENCH_BODY_FILE="$body" BENCH_SIGNATURE="$signature" BENCH_PATH="$path" \
    BENCH_KEEPALIVE="$keep_alive" \
    wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency \
    -s "$root/bench/deliveries.lua" "$url" -- "$run" >"$work/wrk-$run.txt"
  local cpu=() i=0
  for pid in "$@"; do cpu+=($(($(cpu_us "$pid") - before[i]))); i=$((i + 1)); done
  awk -v cpu="${cpu[*]}" '
    /Requests\/sec/ { rps = $2 }
    /requests in/ { requests = $1 }
    $1 == "50.000%" || $1 == "50%" { p50 = $2 }
    $1 == "99.000%" || $1 == "99%" { p99 = $2 }
    /Non-2xx or 3xx responses/ { non2xx = $NF }
    /Socket errors/ { errors = $0 }
    END {
      printf "%s %s %s %s %s", rps, p50, p99, (non2xx == "" ? 0 : non2xx), (errors == "" ? "none" : "yes")
      n = split(cpu, used, " ")
      for (i = 1; i <= n; i++) printf " %.0f", used[i] / requests
      printf " %d\n", requests - (non2xx == "" ? 0 : non2xx)
    }
  ' "$work/wrk-$run.txt"
}

# Conduit with its own Redis, appendonly everysec as docs/queue.md recommends. In service the
# queue stays short: workers acknowledge and delete each entry, and the delivery log keeps at
# most delivery_log_max records, so Redis reuses the memory of the deliveries it let go. Nothing
# consumes the queue here, so the script does to Redis's memory what the workers would: it trims
# the stream to its newest 1,000 entries every 50 ms (XTRIM, which Redis's CPU figure includes),
# and the server keeps a log of 1,000 records. Without that (STEADY=0) Redis's memory grows by
# each payload it stores, and on a virtual machine the page faults of fresh memory cost Redis
# more than the rest of the delivery (docs/BENCHMARKS.md): that measures the growth of a backlog,
# not the ingress. Redis's automatic AOF rewrite, which copies the whole data set each time the
# file doubles, is off for the same reason.
start_redis --auto-aof-rewrite-percentage 0
steady=${STEADY:-1}
log_max=100000
if [ "$steady" = 1 ]; then
  log_max=1000
  (while sleep 0.05; do
    redis-cli -s "$work/redis.sock" xtrim conduit::deliveries maxlen '~' 1000 >/dev/null 2>&1 || true
  done) &
  pids+=($!)
fi

conduit_port=$(free_port)
cat >"$work/app.env" <<CONFIG
port=$conduit_port
bind=127.0.0.1
log_level=${LOG_LEVEL:-info}
redis_url=unix://$work/redis.sock
secret_key=$(openssl rand -hex 32)
http_threads=$server_threads
delivery_log_max=$log_max
CONFIG
"$conduit" serve --config "$work/app.env" 2>"$work/conduit.log" &
conduit_pid=$!
pids+=($conduit_pid)
wait_for "http://127.0.0.1:$conduit_port/conduit/ping"

secret=$(curl -fs -X POST "http://127.0.0.1:$conduit_port/conduit/webhooks/register" \
  -d '{"provider":"github","repo_path":"acme-corp/payments-service","repo_id":"payments-service"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["secret"])')
signature="sha256=$(openssl dgst -sha256 -hmac "$secret" -r "$body" | cut -d' ' -f1)"

bare_port=$(free_port)
"$bare" "$bare_port" "$server_threads" 26214400 &
bare_pid=$!
pids+=($bare_pid)
wait_for "http://127.0.0.1:$bare_port/" || true

machine
echo "Load: wrk -t$wrk_threads -c$connections -d$duration, $(wc -c <"$body") byte bodies; $server_threads server threads"
echo
conduit_path="/conduit/webhooks/github/payments-service/payload"
run=0
accepted=0
rows=()
summary=()
for mode in ${MODES:-keep-alive close}; do
  case "$mode" in
    keep-alive) keep_alive=1 ;;
    close) keep_alive=0 ;;
    *) echo "unknown mode $mode (keep-alive or close)" >&2; exit 2 ;;
  esac
  run=$((run + 1))
  ceiling=$(drive "http://127.0.0.1:$bare_port" "/" "$signature" "$((run * 2 - 1))" "$bare_pid")
  result=$(drive "http://127.0.0.1:$conduit_port" "$conduit_path" "$signature" "$((run * 2))" \
    "$conduit_pid" "$redis_pid")
  read -r c_rps c_p50 c_p99 c_non2xx c_err c_cpu _ <<<"$ceiling"
  read -r r_rps r_p50 r_p99 r_non2xx r_err r_cpu redis_cpu r_accepted <<<"$result"
  accepted=$((accepted + r_accepted))
  rows+=("$(printf '| %s | bare Pistache + HMAC (ceiling) | %s | %s | %s | %s | %s | %s MB | %s µs |' \
    "$mode" "$c_rps" "$c_p50" "$c_p99" "$c_non2xx" "$c_err" "$(peak_rss_mb "$bare_pid")" "$c_cpu")")
  rows+=("$(printf '| %s | conduit serve | %s | %s | %s | %s | %s | %s MB | %s µs (+ redis-server %s µs) |' \
    "$mode" "$r_rps" "$r_p50" "$r_p99" "$r_non2xx" "$r_err" "$(peak_rss_mb "$conduit_pid")" "$r_cpu" \
    "$redis_cpu")")
  summary+=("$(awk -v mode="$mode" -v r="$r_rps" -v c="$c_rps" -v rc="$r_cpu" -v dc="$redis_cpu" \
    -v cc="$c_cpu" 'BEGIN {
      printf "%s: conduit / ceiling %.2f of the requests per second (goal 0.6); CPU per delivery, conduit + redis / ceiling: %.2f (goal 1.6 at most)",
        mode, r / c, (rc + dc) / cc }')")
done
queued=$(redis-cli -s "$work/redis.sock" xinfo stream conduit::deliveries |
  awk '/^entries-added$/ { getline; print }')

printf '| connections | server | requests/s | p50 | p99 | non-2xx | socket errors | peak RSS | CPU per request |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
echo
printf '%s\n' "${summary[@]}"
# wrk counts no answer to the requests in flight when it stops: those entries are queued too.
echo "2xx answers from conduit: $accepted; entries ever added to the stream: $queued (as many, plus at most $connections per row for the requests in flight when wrk stopped)"
