#!/usr/bin/env bash
# End-to-end benchmark: merged pull requests into `conduit run`, issues moved in the Jira
# simulator answering every call after DELAY_MS. bench/e2e_bench.cpp does the driving and the
# measuring; this script gives it a private redis-server (append-only, as in production).
#
# usage: bench/e2e.sh [BUILD_DIR]     (make bench builds first and runs this)
# env:   COUNT (1000 pull requests), KEYS (3 issues each), DELAY_MS (50), SAMPLES (20),
#        CONCURRENCY (worker_concurrency, 16), KEY_CONCURRENCY (the worker's `concurrency` in
#        workers.yaml: issues of one event at once; unset, the plugin's default, 4)
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v redis-server >/dev/null || { echo "missing redis-server" >&2; exit 1; }

. "$root/bench/lib.sh"
start_redis
machine
cd "$work"  # no ./config here: conduit run uses the installed-or-given files below
mkdir -p config
cp -r "$root/config/statemachines" config/
printf 'workers:\n  atlassian:\n    statefile: jira.hcl\n    projects: [soc]\n' >config/workers.yaml
if [ -n "${KEY_CONCURRENCY:-}" ]; then
  printf '    concurrency: %s\n' "$KEY_CONCURRENCY" >>config/workers.yaml
fi
"$root/$build/bench/conduit_e2e_bench" "$root/$build/core/conduit" "unix://$work/redis.sock" "$work"
