#!/usr/bin/env bash
# Sends what GitHub would send when a pull request naming SOC-1 is merged, to a Conduit on this
# machine (`make run`): registers the hook `github/sample` (again, for a fresh secret), then POSTs
# a signed `pull_request` delivery. With `make run`'s Jira simulator, the log then shows SOC-1
# moving from "To Do" to "In Progress".
#
# usage: examples/send-sample.sh [BASE_URL]      (default http://127.0.0.1:9091)
# env:   ISSUE (default SOC-1), ADMIN_TOKEN (when the server has an admin_token)
set -euo pipefail

base=${1:-http://127.0.0.1:9091}
issue=${ISSUE:-SOC-1}
auth=()
[ -n "${ADMIN_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $ADMIN_TOKEN")
for tool in curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

# A secret is shown only once, at registration: start from a fresh hook.
curl -fsS -o /dev/null -X DELETE "${auth[@]}" "$base/conduit/webhooks/github/sample" 2>/dev/null || true
registered=$(curl -fsS -X POST "${auth[@]}" "$base/conduit/webhooks/register" \
  -d '{"provider":"github","repo_path":"acme/sample","repo_id":"sample"}')
secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["secret"])' <<<"$registered")

body=$(python3 - "$issue" <<'PY'
import json, sys
issue = sys.argv[1]
print(json.dumps({
    "action": "closed",
    "number": 1,
    "pull_request": {
        "title": f"{issue}: sign-in with SSO",
        "body": "A sample pull request sent by examples/send-sample.sh.",
        "merged": True,
        "html_url": "https://github.com/acme/sample/pull/1",
        "head": {"ref": f"feature/{issue}-sso"},
        "merged_by": {"login": "octocat"},
    },
    "repository": {"full_name": "acme/sample"},
    "sender": {"login": "octocat"},
}, separators=(",", ":")))
PY
)
signature="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)"
delivery=$(cat /proc/sys/kernel/random/uuid)

# The answer's body goes through a file, not `-o /dev/stderr`: curl would open that for writing
# and truncate a log that standard error is appended to (`>> log 2>&1`).
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
status=$(curl -sS -o "$answer" -w '%{http_code}' -X POST \
  "$base/conduit/webhooks/github/sample/payload" \
  -H "Content-Type: application/json" \
  -H "X-GitHub-Event: pull_request" \
  -H "X-GitHub-Delivery: $delivery" \
  -H "X-Hub-Signature-256: $signature" \
  --data-binary "$body")
cat "$answer" >&2
echo >&2
echo "delivery $delivery: HTTP $status (202: queued; the worker now moves $issue)"
[ "$status" = 202 ]
