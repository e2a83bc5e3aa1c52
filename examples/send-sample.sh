#!/usr/bin/env bash
# Sends what a code host would send when a pull (or merge) request naming SOC-1 is merged, to a
# Conduit on this machine (`make run`): registers the hook `<provider>/sample` (again, for a
# fresh secret), then POSTs the host's `merged` delivery with the host's own headers, signature
# or token, and payload shape (modelled on the real payloads in tests/data/payloads/). With
# `make run`'s Jira simulator, the log then shows SOC-1 moving from "To Do" to "In Progress".
#
# usage: examples/send-sample.sh [BASE_URL]      (default http://127.0.0.1:9091)
# env:   PROVIDER  github (default), gitlab, gitea, forgejo, bitbucket (Bitbucket Cloud) or
#                  bitbucket-server (Bitbucket Data Center)
#        ISSUE (default SOC-1), ADMIN_TOKEN (when the server has an admin_token)
set -euo pipefail

base=${1:-http://127.0.0.1:9091}
provider=${PROVIDER:-github}
issue=${ISSUE:-SOC-1}
auth=()
[ -n "${ADMIN_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $ADMIN_TOKEN")
for tool in curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

uuid() { cat /proc/sys/kernel/random/uuid; }
# The hex HMAC-SHA256 of the body with the hook's secret.
hmac_hex() { printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1; }
# The payload: the Python program on standard input prints it, given the issue key.
payload() { python3 - "$issue"; }

# One function per host: sets `body` and `headers`, what the host sends for a merged pull or
# merge request, once the hook is registered (`secret`) and the delivery has its id.

send_github() {
  body=$(payload <<'PY'
import json, sys
issue = sys.argv[1]
print(json.dumps({
    "action": "closed",
    "number": 1,
    "pull_request": {
        "number": 1,
        "title": f"{issue}: sign-in with SSO",
        "body": "A sample pull request sent by examples/send-sample.sh.",
        "merged": True,
        "html_url": "https://github.com/acme/sample/pull/1",
        "head": {"ref": f"feature/{issue}-sso"},
        "base": {"ref": "main"},
        "merged_by": {"login": "octocat"},
    },
    "repository": {"full_name": "acme/sample"},
    "sender": {"login": "octocat"},
}, separators=(",", ":")))
PY
)
  headers=(-H "X-GitHub-Event: pull_request" -H "X-GitHub-Delivery: $delivery"
           -H "X-Hub-Signature-256: sha256=$(hmac_hex)")
}

send_gitlab() {
  body=$(payload <<'PY'
import json, sys
issue = sys.argv[1]
web = "https://gitlab.example.com/acme/platform/sample"
print(json.dumps({
    "object_kind": "merge_request",
    "event_type": "merge_request",
    "user": {"id": 1, "name": "Ada Lovelace", "username": "ada"},
    "project": {"id": 7, "name": "sample", "web_url": web, "namespace": "platform",
                "path_with_namespace": "acme/platform/sample", "default_branch": "main"},
    "object_attributes": {
        "id": 1001, "iid": 12,
        "title": f"{issue}: sign-in with SSO",
        "description": "A sample merge request sent by examples/send-sample.sh.",
        "source_branch": f"feature/{issue}-sso", "target_branch": "main",
        "state": "merged", "action": "merge",
        "merge_commit_sha": "78a76ee6b4992a6baf64c59fc4c44c7323d60438",
        "url": f"{web}/-/merge_requests/12",
    },
    "repository": {"name": "sample", "homepage": web},
}, separators=(",", ":")))
PY
)
  # GitLab sends the secret token itself; Idempotency-Key stays the same across its retries.
  headers=(-H "X-Gitlab-Event: Merge Request Hook" -H "X-Gitlab-Token: $secret"
           -H "Idempotency-Key: $delivery" -H "X-Gitlab-Webhook-UUID: $(uuid)"
           -H "X-Gitlab-Event-UUID: $(uuid)" -H "X-Gitlab-Instance: https://gitlab.example.com"
           -H "User-Agent: GitLab/17.5.0")
}

# Gitea's and Forgejo's merged pull request (the same shape), on the host at $1.
gitea_payload() {
  python3 - "$issue" "$1" <<'PY'
import json, sys
issue, host = sys.argv[1], sys.argv[2]
user = {"id": 1, "login": "ada", "username": "ada", "full_name": "Ada Lovelace"}
repo = {"id": 3, "name": "sample", "full_name": "acme/sample",
        "html_url": f"{host}/acme/sample", "default_branch": "main"}
print(json.dumps({
    "action": "closed",
    "number": 12,
    "pull_request": {
        "id": 473, "number": 12, "user": user,
        "title": f"{issue}: sign-in with SSO",
        "body": "A sample pull request sent by examples/send-sample.sh.",
        "state": "closed",
        "html_url": f"{host}/acme/sample/pulls/12",
        "merged": True, "merged_at": "2026-12-05T17:00:00Z", "merged_by": user,
        "merge_commit_sha": "a148a755b627ac79f86bf3447e41927e1f4ad259",
        "base": {"label": "main", "ref": "main", "repo": repo},
        "head": {"label": f"feature/{issue}-sso", "ref": f"feature/{issue}-sso", "repo": repo},
    },
    "repository": repo,
    "sender": user,
}, separators=(",", ":")))
PY
}

send_gitea() {
  body=$(gitea_payload https://gitea.example.com)
  # Gitea also sends copies under Gogs's and GitHub's names; the hook goes by X-Gitea-*.
  local signature
  signature=$(hmac_hex)
  headers=(-H "X-Gitea-Event: pull_request" -H "X-Gitea-Event-Type: pull_request"
           -H "X-Gitea-Delivery: $delivery" -H "X-Gitea-Signature: $signature"
           -H "X-Gogs-Event: pull_request" -H "X-Gogs-Delivery: $delivery"
           -H "X-Gogs-Signature: $signature"
           -H "X-GitHub-Event: pull_request" -H "X-GitHub-Delivery: $delivery"
           -H "X-Hub-Signature-256: sha256=$signature")
}

send_forgejo() {
  body=$(gitea_payload https://forgejo.example.com)
  # Forgejo sends its own X-Forgejo-* headers and all of Gitea's.
  local signature
  signature=$(hmac_hex)
  headers=(-H "X-Forgejo-Event: pull_request" -H "X-Forgejo-Event-Type: pull_request"
           -H "X-Forgejo-Delivery: $delivery" -H "X-Forgejo-Signature: $signature"
           -H "X-Gitea-Event: pull_request" -H "X-Gitea-Event-Type: pull_request"
           -H "X-Gitea-Delivery: $delivery" -H "X-Gitea-Signature: $signature"
           -H "X-GitHub-Event: pull_request" -H "X-GitHub-Delivery: $delivery"
           -H "X-Hub-Signature-256: sha256=$signature")
}

send_bitbucket() {
  body=$(payload <<'PY'
import json, sys
issue = sys.argv[1]
user = {"type": "user", "username": "ada", "display_name": "Ada Lovelace",
        "uuid": "{87bb15eb-47c1-49b3-9f16-ca824a2979a4}"}
repo = {"type": "repository", "name": "sample", "full_name": "acme/sample",
        "links": {"html": {"href": "https://bitbucket.org/acme/sample"}},
        "uuid": "{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}"}
print(json.dumps({
    "pullrequest": {
        "type": "pullrequest", "id": 12,
        "title": f"{issue}: sign-in with SSO",
        "description": "A sample pull request sent by examples/send-sample.sh.",
        "state": "MERGED",
        "source": {"branch": {"name": f"feature/{issue}-sso"}, "repository": repo},
        "destination": {"branch": {"name": "main"}, "repository": repo},
        "merge_commit": {"hash": "4f8f6de9d0ff"},
        "links": {"html": {"href": "https://bitbucket.org/acme/sample/pull-requests/12"}},
        "author": user, "closed_by": user,
    },
    "actor": user,
    "repository": repo,
}, separators=(",", ":")))
PY
)
  headers=(-H "X-Event-Key: pullrequest:fulfilled" -H "X-Request-UUID: $delivery"
           -H "X-Hook-UUID: {$(uuid)}" -H "X-Attempt-Number: 1"
           -H "X-Hub-Signature: sha256=$(hmac_hex)" -H "User-Agent: Bitbucket-Webhooks/2.0")
}

send_bitbucket_server() {
  body=$(payload <<'PY'
import json, sys
issue = sys.argv[1]
user = {"name": "ada", "displayName": "Ada Lovelace", "slug": "ada", "id": 1,
        "emailAddress": "ada@example.com", "active": True, "type": "NORMAL"}
repo = {"slug": "sample", "id": 1, "name": "sample", "scmId": "git",
        "project": {"key": "ACME", "id": 2, "name": "Acme", "type": "NORMAL"}}
print(json.dumps({
    "eventKey": "pr:merged",
    "date": "2026-12-05T17:00:00+0000",
    "actor": user,
    "pullRequest": {
        "id": 12, "version": 2,
        "title": f"{issue}: sign-in with SSO",
        "description": "A sample pull request sent by examples/send-sample.sh.",
        "state": "MERGED", "open": False, "closed": True,
        "fromRef": {"id": f"refs/heads/feature/{issue}-sso", "displayId": f"feature/{issue}-sso",
                    "latestCommit": "b9eaed50a03c073b20dfa82e5e753d295e7f0e56",
                    "repository": repo},
        "toRef": {"id": "refs/heads/main", "displayId": "main",
                  "latestCommit": "823b2230a56056231c9425d63758fa87078a66b4",
                  "repository": repo},
        "author": {"user": user, "role": "AUTHOR"},
        "links": {"self": [{"href": "https://bitbucket.example.com/projects/ACME/repos/sample/pull-requests/12"}]},
    },
}, separators=(",", ":")))
PY
)
  headers=(-H "X-Event-Key: pr:merged" -H "X-Request-Id: $delivery"
           -H "X-Hub-Signature: sha256=$(hmac_hex)")
}

# The repository as the host writes its path.
case "$provider" in
  github | gitea | forgejo | bitbucket) repo_path=acme/sample ;;
  gitlab) repo_path=acme/platform/sample ;;
  bitbucket-server) repo_path=ACME/sample ;;
  *)
    echo "PROVIDER must be github, gitlab, gitea, forgejo, bitbucket or bitbucket-server," \
      "not \`$provider'" >&2
    exit 2
    ;;
esac

# A secret is shown only once, at registration: start from a fresh hook.
curl -fsS -o /dev/null -X DELETE "${auth[@]}" "$base/conduit/webhooks/$provider/sample" 2>/dev/null || true
answer=$(curl -fsS -X POST "${auth[@]}" "$base/conduit/webhooks/register" \
  -d "{\"provider\":\"$provider\",\"repo_path\":\"$repo_path\",\"repo_id\":\"sample\"}")
secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["secret"])' <<<"$answer")
uri=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["uri"])' <<<"$answer")

delivery=$(uuid)
body=
headers=()
"send_${provider//-/_}"

# The answer's body goes through a file, not `-o /dev/stderr`: curl would open that for writing
# and truncate a log that standard error is appended to (`>> log 2>&1`).
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
status=$(curl -sS -o "$answer" -w '%{http_code}' -X POST "$base$uri" \
  -H "Content-Type: application/json" "${headers[@]}" --data-binary "$body")
cat "$answer" >&2
echo >&2
echo "$provider delivery $delivery: HTTP $status (202: queued; the worker now moves $issue)"
[ "$status" = 202 ]
