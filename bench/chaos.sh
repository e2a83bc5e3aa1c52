#!/usr/bin/env bash
# Fault-injection soak: Conduit's promise (every accepted delivery processed, every Jira issue
# moved exactly as its deliveries say) under worker crashes, a stalled worker, a Redis restart
# and a Jira that fails about one call in ten. docs/BENCHMARKS.md describes it and its last run.
#
# One redis-server (append-only, fsync at every write, on a loopback port of its own), the Jira
# simulator with fault injection, two `conduit serve` and two `conduit work` on that Redis.
# bench/chaos_driver.py sends 300 signed deliveries naming 100 issues to both servers from
# concurrent clients, resending what is answered 503 or not at all, as a code host would.
# Meanwhile this script SIGKILLs and restarts a worker process every few seconds, SIGSTOPs one
# past claim_idle_ms and continues it, and kills and restarts Redis once. Then it waits (bounded)
# for the queue to drain and checks: each issue at the status its deliveries lead to, no issue
# moved twice by a delivery, no comment posted twice, no dead letter, no accepted delivery lost.
# Exit status 0 only if every check passes. Not part of `make test`: `make chaos` runs it.
#
# usage: bench/chaos.sh [BUILD_DIR]
# env:   FAULT_RATE (0.1), SEED (1: the deliveries' plan and the simulator's faults),
#        CHAOS_SECONDS (45: how long processes are killed), DRAIN_SECONDS (120: the bound on the
#        wait for the queue to drain), KEEP (1: keep the work folder; it is kept anyway on failure)
set -euo pipefail

build=${1:-build}
fault_rate=${FAULT_RATE:-0.1}
seed=${SEED:-1}
chaos_seconds=${CHAOS_SECONDS:-45}
drain_seconds=${DRAIN_SECONDS:-120}
claim_idle_ms=3000
kill_every_s=3       # a worker process is SIGKILLed this often, the two in turn
stop_at_s=10         # worker 2 is SIGSTOPped then, for 2.5 claim_idle_ms
stop_for_s=7.5
redis_down_at_s=24   # Redis is SIGKILLed then, and started again after redis_down_for_s
redis_down_for_s=3

root=$(cd "$(dirname "$0")/.." && pwd)
conduit="$root/$build/core/conduit"
simulator="$root/$build/examples/jira-simulator/conduit-jira-simulator"
plugins="$root/$build/lib/conduit/plugins"
driver="$root/bench/chaos_driver.py"
for tool in redis-server redis-cli curl python3 openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (make chaos installs it)" >&2; exit 1; }
done
for file in "$conduit" "$simulator" "$plugins/jira.so"; do
  [ -e "$file" ] || { echo "missing $file: build first (make chaos does)" >&2; exit 1; }
done

. "$root/bench/lib.sh"
now_ms() { date +%s%3N; }
seconds() { printf '%.1f' "$((($(now_ms) - t0) / 100))e-1"; }
log() { printf '[%6ss] %s\n' "$(seconds)" "$*"; }
t0=$(now_ms)

# Every process is tracked by name: the chaos below replaces their ids.
declare -A pid=() stopped=() starts=()
unexpected=()  # "name: how it ended", for exits this script did not cause
kills=0 stops=0 redis_restarts=0
keep=${KEEP:-0}
# SIGTERM to each process still running, then at most 10 s for them all, then SIGKILL.
# shellcheck disable=SC2317  # called from the EXIT trap
stop_all() {
  local name alive
  for name in "${!pid[@]}"; do
    kill -CONT "${pid[$name]}" 2>/dev/null || true
    kill -TERM "${pid[$name]}" 2>/dev/null || true
  done
  for _ in $(seq 100); do
    alive=
    for name in "${!pid[@]}"; do kill -0 "${pid[$name]}" 2>/dev/null && alive=1; done
    [ -n "$alive" ] || break
    sleep 0.1
  done
  for name in "${!pid[@]}"; do kill -KILL "${pid[$name]}" 2>/dev/null || true; done
}
# shellcheck disable=SC2317  # the EXIT trap (lib.sh's, replaced: the ids here change)
cleanup() {
  stop_all
  wait 2>/dev/null || true
  if [ "$keep" = 1 ]; then echo "Logs and state kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

redis_port=$(free_port)
sim_port=$(free_port)
declare -A port=([serve1]=$(free_port) [serve2]=$(free_port) [work1]=$(free_port)
  [work2]=$(free_port))
cli=(redis-cli -h 127.0.0.1 -p "$redis_port")

start() {
  local name=$1
  case $name in
    redis)
      redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --save "" \
        --appendonly yes --appendfsync always --logfile "$work/redis.log" &
      ;;
    serve*)
      "$conduit" serve --config "$work/serve.env" -p "${port[$name]}" >>"$work/$name.log" 2>&1 &
      ;;
    work*)
      "$conduit" work --config "$work/work.env" --hcl-dir "$work/statemachines" \
        --worker-cfg "$work/workers.yaml" -p "${port[$name]}" >>"$work/$name.log" 2>&1 &
      ;;
  esac
  pid[$name]=$!
  starts[$name]=$((${starts[$name]:-0} + 1))
}
# Restarts, as systemd's Restart= would, any process that ended without this script's doing.
supervise() {
  local name status
  for name in "${!pid[@]}"; do
    [ "$name" = simulator ] && continue
    [ -n "${stopped[$name]:-}" ] && continue
    kill -0 "${pid[$name]}" 2>/dev/null && continue
    status=0
    wait "${pid[$name]}" 2>/dev/null || status=$?
    unexpected+=("$name: exit status $status at $(seconds) s")
    log "$name ended by itself (exit status $status): started again"
    start "$name"
  done
}
# The queue is drained when every delivery was answered and the stream is empty: an entry is
# deleted when acknowledged or dead-lettered, and no new one comes after the last answer.
sent_ms='' drained_ms=''
note_drain() {
  if [ -z "$sent_ms" ] && ! kill -0 "$sender" 2>/dev/null; then
    sent_ms=$(now_ms)
    log "$(cat "$work/send.log")"
  fi
  if [ -n "$sent_ms" ] && [ -z "$drained_ms" ] &&
    [ "$("${cli[@]}" XLEN conduit::deliveries 2>/dev/null)" = 0 ]; then
    drained_ms=$(now_ms)
    log "queue drained"
  fi
}
kill_and_restart() {
  local name=$1
  kill -KILL "${pid[$name]}" 2>/dev/null || true
  wait "${pid[$name]}" 2>/dev/null || true
  kills=$((kills + 1))
  start "$name"
}

mkdir -p "$work/redis" "$work/statemachines"
machine
start redis
for _ in $(seq 100); do "${cli[@]}" ping >/dev/null 2>&1 && break; sleep 0.05; done
"${cli[@]}" ping >/dev/null || {
  echo "redis-server did not start; see $work/redis.log" >&2
  exit 1
}

fault_flags=()
if [ "$fault_rate" != 0 ]; then
  fault_flags=(--fault-rate "$fault_rate" --fault-seed "$seed" --fault-hang-ms 5000)
fi
"$simulator" --port "$sim_port" "${fault_flags[@]}" >"$work/simulator.log" 2>&1 &
pid[simulator]=$!
sleep 0.3
kill -0 "${pid[simulator]}" 2>/dev/null || {
  cat "$work/simulator.log" >&2
  echo "the Jira simulator did not start (fault injection needs a simulator built with it)" >&2
  exit 1
}

common="bind=127.0.0.1
log_level=info
redis_url=127.0.0.1:$redis_port
redis_timeout_ms=1000
secret_key=$(openssl rand -hex 32)"
printf '%s\n' "$common" >"$work/serve.env"
# Retries short enough for the soak to drain in minutes; claim_idle_ms small so that the
# stalled worker's deliveries are taken over while it is stopped.
cat >"$work/work.env" <<CONFIG
$common
plugin_dir=$plugins
worker_concurrency=16
retry_initial_ms=250
retry_max_ms=2000
claim_idle_ms=$claim_idle_ms
shutdown_timeout_ms=2000
atlassian_domain_url=http://127.0.0.1:$sim_port
atlassian_email=dev@example.test
atlassian_api_key=simulator-token
atlassian_timeout_ms=2000
CONFIG
cp "$root/config/statemachines/jira.hcl" "$work/statemachines/"
cat >"$work/workers.yaml" <<YAML
workers:
  atlassian:
    statefile: jira.hcl
    projects: [devhop, soc]
    comment: true
YAML

for name in serve1 serve2 work1 work2; do start "$name"; done
for name in serve1 serve2; do
  wait_for "http://127.0.0.1:${port[$name]}/conduit/ping" || { cat "$work/$name.log" >&2; exit 1; }
done
for name in work1 work2; do
  wait_for "http://127.0.0.1:${port[$name]}/conduit-reactor/ping" ||
    { cat "$work/$name.log" >&2; exit 1; }
done

registered=$(curl -fsS -X POST "http://127.0.0.1:${port[serve1]}/conduit/webhooks/register" \
  -d '{"provider":"github","repo_path":"acme/chaos","repo_id":"chaos"}')
secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["secret"])' \
  <<<"$registered")

python3 "$driver" plan "$work" "$seed"
echo "Faults: Jira fails $fault_rate of its calls (429 with Retry-After: 1, 500, a 5 s hang" \
  "past the plugin's 2 s timeout, applied then dropped, in turn); a worker process SIGKILLed" \
  "every ${kill_every_s} s for ${chaos_seconds} s; work2 SIGSTOPped at ${stop_at_s} s for" \
  "${stop_for_s} s (claim_idle_ms=$claim_idle_ms); Redis SIGKILLed at ${redis_down_at_s} s for" \
  "${redis_down_for_s} s"
echo

# The chaos, while the driver sends. Every step is bounded: the loop ends at chaos_seconds.
t0=$(now_ms)
python3 "$driver" send "$work" "$secret" "http://127.0.0.1:${port[serve1]}" \
  "http://127.0.0.1:${port[serve2]}" >"$work/send.log" 2>&1 &
sender=$!
next_kill_ms=2000
turn=1
stop_at_ms=$((stop_at_s * 1000))
cont_at_ms=$(python3 -c "print(int(($stop_at_s + $stop_for_s) * 1000))")
redis_down_at_ms=$((redis_down_at_s * 1000))
redis_up_at_ms=$(((redis_down_at_s + redis_down_for_s) * 1000))
while :; do
  elapsed=$(($(now_ms) - t0))
  [ "$elapsed" -ge $((chaos_seconds * 1000)) ] && break
  if [ "$elapsed" -ge "$next_kill_ms" ]; then
    victim=work$turn
    [ -n "${stopped[$victim]:-}" ] && victim=work$((3 - turn))  # a stopped one is not killed
    kill_and_restart "$victim"
    log "SIGKILL $victim, started again"
    turn=$((3 - turn))
    next_kill_ms=$((next_kill_ms + kill_every_s * 1000))
  fi
  if [ "$elapsed" -ge "$stop_at_ms" ] && [ "$stops" = 0 ]; then
    kill -STOP "${pid[work2]}"
    stopped[work2]=1
    stops=1
    log "SIGSTOP work2"
  fi
  if [ "$elapsed" -ge "$cont_at_ms" ] && [ -n "${stopped[work2]:-}" ]; then
    kill -CONT "${pid[work2]}"
    unset 'stopped[work2]'
    log "SIGCONT work2"
  fi
  if [ "$elapsed" -ge "$redis_down_at_ms" ] && [ "$redis_restarts" = 0 ]; then
    kill -KILL "${pid[redis]}"
    wait "${pid[redis]}" 2>/dev/null || true
    stopped[redis]=1
    redis_restarts=1
    log "SIGKILL redis-server"
  fi
  if [ "$elapsed" -ge "$redis_up_at_ms" ] && [ -n "${stopped[redis]:-}" ]; then
    unset 'stopped[redis]'
    start redis
    log "redis-server started again"
  fi
  supervise
  note_drain
  sleep 0.2
done
log "chaos over: $kills kills, $stops stop, $redis_restarts Redis restart"

# The sender stops on its own: each delivery is resent for at most 90 s. Then the drain, bounded.
while kill -0 "$sender" 2>/dev/null; do supervise; sleep 0.5; done
wait "$sender" || { cat "$work/send.log"; exit 1; }
drain_start=$(now_ms)
while [ -z "$drained_ms" ] && [ $(($(now_ms) - drain_start)) -lt $((drain_seconds * 1000)) ]; do
  supervise
  note_drain
  sleep 0.5
done
[ -n "$drained_ms" ] ||
  log "queue NOT drained after ${drain_seconds} s:" \
    "$("${cli[@]}" XLEN conduit::deliveries) entries left"
sleep 2  # a late write of a process that woke up would land now

status=0
python3 "$driver" check "$work" "$root/config/statemachines/jira.hcl" \
  "http://127.0.0.1:$sim_port" "${cli[@]}" || status=1

# Stop everything; a worker or server that does not exit 0 on SIGTERM is a finding too.
stop_failures=()
for name in serve1 serve2 work1 work2; do kill -TERM "${pid[$name]}" 2>/dev/null || true; done
for name in serve1 serve2 work1 work2; do
  for _ in $(seq 100); do kill -0 "${pid[$name]}" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "${pid[$name]}" 2>/dev/null; then
    kill -KILL "${pid[$name]}"
    stop_failures+=("$name: still running 10 s after SIGTERM")
  fi
  code=0
  wait "${pid[$name]}" 2>/dev/null || code=$?
  [ "$code" = 0 ] || stop_failures+=("$name: exit status $code")
  unset "pid[$name]"
done

echo
echo "Processes: $kills SIGKILLs of worker processes (restarted at once), $stops SIGSTOP of" \
  "${stop_for_s} s, $redis_restarts Redis restart; worker starts: work1 ${starts[work1]}," \
  "work2 ${starts[work2]}"
echo "Unexpected exits: ${#unexpected[@]}${unexpected:+ (${unexpected[*]})}"
echo "SIGTERM at the end: ${#stop_failures[@]} did not exit 0" \
  "${stop_failures:+(${stop_failures[*]})}"
if [ -n "$drained_ms" ]; then
  printf 'Time to drain: %.1f s from the first delivery sent; %.1f s after the last answer\n' \
    "$((drained_ms - t0)).0e-3" "$((drained_ms - sent_ms)).0e-3"
else
  echo "Time to drain: NOT drained within ${drain_seconds} s of the last answer"
fi
errors=$(cat "$work"/work*.log | grep -c -E ' (error|critical) ' || true)
crashes=$(cat "$work"/work*.log "$work"/serve*.log |
  grep -c -E 'terminate called|Segmentation|Assertion|AddressSanitizer|core dumped' || true)
echo "Worker log: $errors error lines, $crashes crash lines"
# Not a check of this soak, a figure for operators: a refusal's access log line should name the
# delivery it refused, so that they know which deliveries to redeliver.
refusal=' [45][0-9][0-9] [0-9.]+ms delivery='
refused=$(cat "$work"/serve*.log | grep -c -E "$refusal" || true)
unnamed=$(cat "$work"/serve*.log | grep -c -E "$refusal-\$" || true)
echo "Server log: $refused refusals, $unnamed of them logged without their delivery id"
[ -n "$drained_ms" ] || status=1
[ "${#unexpected[@]}" = 0 ] || status=1
[ "${#stop_failures[@]}" = 0 ] || status=1
[ "$crashes" = 0 ] || status=1
echo
if [ "$status" = 0 ]; then
  echo "chaos: PASS"
else
  echo "chaos: FAIL (logs in $work)"
  keep=1
fi
exit "$status"
