# Shared by the benchmark scripts (sourced): a private work folder and the processes started in
# it, stopped and removed on exit; a private redis-server; and the measuring helpers.

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits up to 5 s for URL to answer 2xx.
wait_for() { for _ in $(seq 250); do curl -fs -o /dev/null "$1" && return 0; sleep 0.02; done; return 1; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# CPU time a process has used so far, in microseconds (user + system).
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) * 1000000 / hz}' "/proc/$1/stat"; }
machine() {
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
}

# Starts redis-server on $work/redis.sock, append-only with appendfsync everysec as
# docs/queue.md recommends, and sets redis_pid. Extra arguments go to redis-server.
start_redis() {
  redis-server --port 0 --unixsocket "$work/redis.sock" --dir "$work" --save "" \
    --appendonly yes --appendfsync everysec --logfile "$work/redis.log" "$@" &
  redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 100); do redis-cli -s "$work/redis.sock" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "redis-server did not start; see $work/redis.log" >&2
  return 1
}
