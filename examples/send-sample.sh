#!/usr/bin/env bash
# Sends what a code host would send when a pull (or merge) request naming SOC-1 is merged, to a
# Conduit on this machine (`make run`): registers the hook `<provider>/sample` (again, for a
# fresh secret), then POSTs the host's `merged` delivery with the host's own headers, signature
# or token, and payload shape (modelled on the real payloads in tests/data/payloads/). With
# `make run`'s Jira simulator, the log then shows SOC-1 moving from "To Do" to "In Progress".
# EVENT=release sends a published release `v1.0.0` whose notes name SOC-1 instead (SOC-1 gets the
# fix version v1.0.0 with `fix_versions: true`), and EVENT=push a push of one commit whose
# message is a smart commit (`SOC-1 #comment ... #time 1h`, applied with `smart_commits: true`).
#
# usage: examples/send-sample.sh [BASE_URL]      (default http://127.0.0.1:9091)
# env:   PROVIDER  github (default), gitlab, gitea, forgejo, bitbucket (Bitbucket Cloud) or
#                  bitbucket-server (Bitbucket Data Center)
#        EVENT     unset (or pull_request): the merged pull request; release (not Bitbucket,
#                  which has no releases); push (not Bitbucket Data Center, whose push carries
#                  no commit messages)
#        ISSUE (default SOC-1), TAG (EVENT=release; default v1.0.0), MESSAGE (EVENT=push;
#        default "<ISSUE> #comment Fixed the login page #time 1h"), ADMIN_TOKEN (when the server
#        has an admin_token)
set -euo pipefail

base=${1:-http://127.0.0.1:9091}
provider=${PROVIDER:-github}
issue=${ISSUE:-SOC-1}
event=${EVENT:-pull_request}
tag=${TAG:-v1.0.0}
message=${MESSAGE:-"$issue #comment Fixed the login page #time 1h"}
auth=()
[ -n "${ADMIN_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $ADMIN_TOKEN")
for tool in curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

uuid() { cat /proc/sys/kernel/random/uuid; }
# The hex HMAC-SHA256 of the body with the hook's secret.
hmac_hex() { printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1; }
# The payload: the Python program on standard input prints it, given the issue key, the tag,
# the commit message and a new commit id (Conduit applies a commit's smart commands once: a
# commit seen in an earlier push is not applied again).
payload() { python3 - "$issue" "$tag" "$message" "$(openssl rand -hex 20)"; }

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

# EVENT=release: what each host sends when a release is published.

send_github_release() {
  body=$(payload <<'PY'
import json, sys
issue, tag = sys.argv[1], sys.argv[2]
user = {"login": "octocat", "id": 1, "type": "User"}
print(json.dumps({
    "action": "published",
    "release": {
        "id": 1001, "tag_name": tag, "target_commitish": "main", "name": tag,
        "body": f"{issue}: sign-in with SSO. A sample release sent by examples/send-sample.sh.",
        "draft": False, "prerelease": False,
        "created_at": "2026-12-05T17:00:00Z", "published_at": "2026-12-05T17:00:00Z",
        "url": f"https://api.github.com/repos/acme/sample/releases/1001",
        "html_url": f"https://github.com/acme/sample/releases/tag/{tag}",
        "author": user,
    },
    "repository": {"id": 7, "name": "sample", "full_name": "acme/sample",
                   "html_url": "https://github.com/acme/sample", "default_branch": "main"},
    "sender": user,
}, separators=(",", ":")))
PY
)
  headers=(-H "X-GitHub-Event: release" -H "X-GitHub-Delivery: $delivery"
           -H "X-Hub-Signature-256: sha256=$(hmac_hex)")
}

send_gitlab_release() {
  body=$(payload <<'PY'
import json, sys
issue, tag, sha = sys.argv[1], sys.argv[2], sys.argv[4]
web = "https://gitlab.example.com/acme/platform/sample"
print(json.dumps({
    "id": 8273642,
    "created_at": "2026-12-05 17:00:00 UTC",
    "description": f"{issue}: sign-in with SSO. A sample release sent by examples/send-sample.sh.",
    "name": tag,
    "released_at": "2026-12-05 17:00:00 UTC",
    "tag": tag,
    "object_kind": "release",
    "project": {"id": 7, "name": "sample", "web_url": web, "namespace": "platform",
                "path_with_namespace": "acme/platform/sample", "default_branch": "main"},
    "url": f"{web}/-/releases/{tag}",
    "action": "create",
    "assets": {"count": 0, "links": [], "sources": []},
    "commit": {"id": sha, "message": f"{issue}: sign-in with SSO", "title": f"{issue}: sign-in with SSO",
               "timestamp": "2026-12-05T16:59:00+00:00", "url": f"{web}/-/commit/{sha}",
               "author": {"name": "Ada Lovelace", "email": "ada@example.com"}},
}, separators=(",", ":")))
PY
)
  headers=(-H "X-Gitlab-Event: Release Hook" -H "X-Gitlab-Token: $secret"
           -H "Idempotency-Key: $delivery" -H "X-Gitlab-Webhook-UUID: $(uuid)"
           -H "X-Gitlab-Event-UUID: $(uuid)" -H "X-Gitlab-Instance: https://gitlab.example.com"
           -H "User-Agent: GitLab/17.5.0")
}

# Gitea's and Forgejo's published release (the same shape), on the host at $1.
gitea_release_payload() {
  payload_host=$1 payload <<'PY'
import json, os, sys
issue, tag = sys.argv[1], sys.argv[2]
host = os.environ["payload_host"]
user = {"id": 1, "login": "ada", "username": "ada", "full_name": "Ada Lovelace"}
repo = {"id": 3, "name": "sample", "full_name": "acme/sample",
        "html_url": f"{host}/acme/sample", "default_branch": "main"}
print(json.dumps({
    "action": "published",
    "release": {
        "id": 41, "tag_name": tag, "target_commitish": "main", "name": tag,
        "body": f"{issue}: sign-in with SSO. A sample release sent by examples/send-sample.sh.",
        "url": f"{host}/api/v1/repos/acme/sample/releases/41",
        "html_url": f"{host}/acme/sample/releases/tag/{tag}",
        "draft": False, "prerelease": False,
        "created_at": "2026-12-05T17:00:00Z", "published_at": "2026-12-05T17:00:00Z",
        "author": user,
    },
    "repository": repo,
    "sender": user,
}, separators=(",", ":")))
PY
}

# EVENT=push: what each host sends when one commit, with a smart commit as its message, is
# pushed to main.

send_github_push() {
  body=$(payload <<'PY'
import json, sys
message, sha = sys.argv[3], sys.argv[4]
before = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
author = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"}
commit = {"id": sha, "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433", "distinct": True,
          "message": message, "timestamp": "2026-12-05T17:00:00Z",
          "url": f"https://github.com/acme/sample/commit/{sha}",
          "author": author, "committer": author,
          "added": [], "removed": [], "modified": ["login.html"]}
print(json.dumps({
    "ref": "refs/heads/main", "before": before, "after": sha,
    "created": False, "deleted": False, "forced": False, "base_ref": None,
    "compare": f"https://github.com/acme/sample/compare/{before[:12]}...{sha[:12]}",
    "commits": [commit], "head_commit": commit,
    "repository": {"id": 7, "name": "sample", "full_name": "acme/sample",
                   "html_url": "https://github.com/acme/sample", "default_branch": "main"},
    "pusher": {"name": "ada", "email": "ada@example.com"},
    "sender": {"login": "ada", "id": 1, "type": "User"},
}, separators=(",", ":")))
PY
)
  headers=(-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: $delivery"
           -H "X-Hub-Signature-256: sha256=$(hmac_hex)")
}

send_gitlab_push() {
  body=$(payload <<'PY'
import json, sys
message, sha = sys.argv[3], sys.argv[4]
web = "https://gitlab.example.com/acme/platform/sample"
before = "95790bf891e76fee5e1747ab589903a6a1f80f22"
print(json.dumps({
    "object_kind": "push", "event_name": "push",
    "before": before, "after": sha, "ref": "refs/heads/main", "ref_protected": True,
    "checkout_sha": sha,
    "user_id": 1, "user_name": "Ada Lovelace", "user_username": "ada",
    "user_email": "ada@example.com",
    "project_id": 7,
    "project": {"id": 7, "name": "sample", "web_url": web, "namespace": "platform",
                "path_with_namespace": "acme/platform/sample", "default_branch": "main"},
    "commits": [{"id": sha, "message": message, "title": message.split("\n")[0],
                 "timestamp": "2026-12-05T17:00:00+00:00", "url": f"{web}/-/commit/{sha}",
                 "author": {"name": "Ada Lovelace", "email": "ada@example.com"},
                 "added": [], "modified": ["login.html"], "removed": []}],
    "total_commits_count": 1,
    "repository": {"name": "sample", "homepage": web},
}, separators=(",", ":")))
PY
)
  headers=(-H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: $secret"
           -H "Idempotency-Key: $delivery" -H "X-Gitlab-Webhook-UUID: $(uuid)"
           -H "X-Gitlab-Event-UUID: $(uuid)" -H "X-Gitlab-Instance: https://gitlab.example.com"
           -H "User-Agent: GitLab/17.5.0")
}

# Gitea's and Forgejo's push (the same shape), on the host at $1.
gitea_push_payload() {
  payload_host=$1 payload <<'PY'
import json, os, sys
message, sha = sys.argv[3], sys.argv[4]
host = os.environ["payload_host"]
before = "28e1879d029cb852e4844d9c718537df08844e03"
user = {"id": 1, "login": "ada", "username": "ada", "full_name": "Ada Lovelace",
        "email": "ada@example.com"}
author = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"}
commit = {"id": sha, "message": message, "url": f"{host}/acme/sample/commit/{sha}",
          "author": author, "committer": author, "timestamp": "2026-12-05T17:00:00Z",
          "added": [], "removed": [], "modified": ["login.html"]}
print(json.dumps({
    "ref": "refs/heads/main", "before": before, "after": sha,
    "compare_url": f"{host}/acme/sample/compare/{before}...{sha}",
    "commits": [commit], "total_commits": 1, "head_commit": commit,
    "repository": {"id": 3, "name": "sample", "full_name": "acme/sample",
                   "html_url": f"{host}/acme/sample", "default_branch": "main"},
    "pusher": user,
    "sender": user,
}, separators=(",", ":")))
PY
}

# Gitea's headers for an event ($1), signed; Forgejo's add its own (`gitea_headers $1 forgejo`).
gitea_headers() {
  local signature
  signature=$(hmac_hex)
  headers=()
  if [ "${2:-}" = forgejo ]; then
    headers=(-H "X-Forgejo-Event: $1" -H "X-Forgejo-Event-Type: $1"
             -H "X-Forgejo-Delivery: $delivery" -H "X-Forgejo-Signature: $signature")
  fi
  headers+=(-H "X-Gitea-Event: $1" -H "X-Gitea-Event-Type: $1"
            -H "X-Gitea-Delivery: $delivery" -H "X-Gitea-Signature: $signature"
            -H "X-Gogs-Event: $1" -H "X-Gogs-Delivery: $delivery"
            -H "X-Gogs-Signature: $signature"
            -H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: $delivery"
            -H "X-Hub-Signature-256: sha256=$signature")
}

send_gitea_release() {
  body=$(gitea_release_payload https://gitea.example.com)
  gitea_headers release
}

send_forgejo_release() {
  body=$(gitea_release_payload https://forgejo.example.com)
  gitea_headers release forgejo
}

send_gitea_push() {
  body=$(gitea_push_payload https://gitea.example.com)
  gitea_headers push
}

send_forgejo_push() {
  body=$(gitea_push_payload https://forgejo.example.com)
  gitea_headers push forgejo
}

send_bitbucket_push() {
  body=$(payload <<'PY'
import json, sys
message, sha = sys.argv[3], sys.argv[4]
before = "40e7580cf11311d84a6e5e97e2cbba6df1675750"
web = "https://bitbucket.org/acme/sample"
user = {"type": "user", "username": "ada", "display_name": "Ada Lovelace", "nickname": "ada",
        "uuid": "{87bb15eb-47c1-49b3-9f16-ca824a2979a4}"}
repo = {"type": "repository", "name": "sample", "full_name": "acme/sample",
        "links": {"html": {"href": web}},
        "uuid": "{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}"}
commit = {"type": "commit", "hash": sha, "message": message, "date": "2026-12-05T17:00:00+00:00",
          "author": {"type": "author", "raw": "Ada Lovelace <ada@example.com>", "user": user},
          "links": {"html": {"href": f"{web}/commits/{sha}"}}, "parents": [{"hash": before}]}
print(json.dumps({
    "push": {"changes": [{
        "forced": False, "created": False, "closed": False, "truncated": False,
        "old": {"type": "branch", "name": "main", "target": {"type": "commit", "hash": before}},
        "new": {"type": "branch", "name": "main", "target": commit,
                "links": {"html": {"href": f"{web}/branch/main"}}},
        "links": {"html": {"href": f"{web}/branches/compare/{sha}..{before}"}},
        "commits": [commit],
    }]},
    "actor": user,
    "repository": repo,
}, separators=(",", ":")))
PY
)
  headers=(-H "X-Event-Key: repo:push" -H "X-Request-UUID: $delivery"
           -H "X-Hook-UUID: {$(uuid)}" -H "X-Attempt-Number: 1"
           -H "X-Hub-Signature: sha256=$(hmac_hex)" -H "User-Agent: Bitbucket-Webhooks/2.0")
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

# What to send, refused before anything is sent where the host has no such event.
case "$event" in
  pull_request)
    suffix=
    doing="moves $issue"
    ;;
  release)
    case "$provider" in
      bitbucket | bitbucket-server)
        echo "EVENT=release: Bitbucket has no releases; PROVIDER must be github, gitlab, gitea" \
          "or forgejo" >&2
        exit 2
        ;;
    esac
    suffix=_release
    doing="gives $issue the fix version $tag (with fix_versions: true)"
    ;;
  push)
    if [ "$provider" = bitbucket-server ]; then
      echo "EVENT=push: Bitbucket Data Center's push names no commit messages; PROVIDER must be" \
        "github, gitlab, gitea, forgejo or bitbucket" >&2
      exit 2
    fi
    suffix=_push
    doing="applies \"$message\" (with smart_commits: true)"
    ;;
  *)
    echo "EVENT must be unset (a merged pull request), pull_request, release or push," \
      "not \`$event'" >&2
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
"send_${provider//-/_}${suffix}"

# The answer's body goes through a file, not `-o /dev/stderr`: curl would open that for writing
# and truncate a log that standard error is appended to (`>> log 2>&1`).
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
status=$(curl -sS -o "$answer" -w '%{http_code}' -X POST "$base$uri" \
  -H "Content-Type: application/json" "${headers[@]}" --data-binary "$body")
cat "$answer" >&2
echo >&2
echo "$provider delivery $delivery: HTTP $status (202: queued; the worker now $doing)"
[ "$status" = 202 ]
