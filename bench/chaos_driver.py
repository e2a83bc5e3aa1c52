#!/usr/bin/env python3
"""The client side of bench/chaos.sh: plans the deliveries, sends them, and checks the outcome.

  chaos_driver.py plan  WORK SEED                 writes WORK/plan.json
  chaos_driver.py send  WORK SECRET URL1 URL2...  sends them, writes WORK/sent.json
  chaos_driver.py check WORK HCL SIM_URL REDIS_CLI...
                                                  prints the figures; exit 1 if a check fails

Only the standard library: it runs wherever the other benchmark scripts do.
"""
import base64
import collections
import hashlib
import hmac
import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

ISSUE_COUNT = 100
DELIVERY_COUNT = 300
SEND_SECONDS = 30.0  # the deliveries are spread over this long, so the faults meet them
RESEND_DEADLINE_S = 90.0  # a delivery still refused after this long counts as never accepted
REPO_ID = "chaos"
REPO_PATH = "acme/chaos"
SIM_EMAIL = "dev@example.test"
SIM_TOKEN = "simulator-token"
TAG = re.compile(r"\bd(\d{4})\b")  # every title and release name starts with its delivery's tag


def tag(index):
    return f"d{index:04d}"


# ---------------------------------------------------------------------------------------------
# plan

def plan(work, seed):
    """300 merged pull requests and published releases naming 100 issues of SOC and DEVHOP.

    Each issue is named by one, two or three deliveries (20, 40 and 40 issues); 10 deliveries name
    two issues; for about half the issues named more than once, the deliveries naming it are sent
    at the same moment, one to each server. The rest of the 300 name no issue of the projects,
    only lookalikes (CVE-2024-1234, UTF-8, lower case soc-12), and must move nothing.
    """
    rng = random.Random(seed)
    issues = [f"SOC-{n}" for n in range(1, 61)] + [f"DEVHOP-{n}" for n in range(1, 41)]
    assert len(issues) == ISSUE_COUNT
    rng.shuffle(issues)
    named = {key: 1 for key in issues[:20]}
    named.update({key: 2 for key in issues[20:60]})
    named.update({key: 3 for key in issues[60:]})

    units = []  # each unit is a list of deliveries sent at the same moment; a delivery: its keys
    loose = []  # namings not in a same-moment group
    for key in issues:
        if named[key] >= 2 and rng.random() < 0.5:
            units.append([[key] for _ in range(named[key])])
        else:
            loose.extend([key] * named[key])
    rng.shuffle(loose)
    pairs = 0
    while loose:
        key = loose.pop()
        other = next((k for k in loose if k != key), None) if pairs < 10 else None
        if other is not None:
            loose.remove(other)
            pairs += 1
            units.append([[key, other]])
        else:
            units.append([[key]])
    moving = sum(len(unit) for unit in units)
    units.extend([[[]] for _ in range(DELIVERY_COUNT - moving)])
    rng.shuffle(units)

    deliveries = []
    for unit in units:
        at = round(rng.uniform(0, SEND_SECONDS), 3)
        server = rng.randrange(2)
        for keys in unit:
            index = len(deliveries) + 1
            kind = rng.choice(["pull_request", "release"])
            deliveries.append({
                "index": index,
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "event": kind,
                "keys": keys,
                "at": at,
                "server": server,
                "together": len(unit) > 1,
                "body": payload(kind, index, keys),
            })
            server = 1 - server  # deliveries of one moment go to both servers
    with open(f"{work}/plan.json", "w") as out:
        json.dump({"seed": seed, "issues": issues, "deliveries": deliveries}, out)
    together = sum(1 for d in deliveries if d["together"])
    print(f"Plan: {len(deliveries)} deliveries ({moving} name issues, {together} of them sent "
          f"at the same moment as another naming the same issue; {pairs} name two), "
          f"{len(issues)} issues named 1, 2 or 3 times (20, 40, 40)")


def payload(kind, index, keys):
    names = " ".join(keys)
    if keys:
        text = f"Fixes {names}."
    else:  # lookalikes only: none of these names an issue of SOC or DEVHOP
        text = "Bumps libfoo for CVE-2024-1234; UTF-8 and SHA-256 fixes; see soc-12 and OPS-7."
    url_base = f"https://github.com/{REPO_PATH}"
    if kind == "pull_request":
        body = {
            "action": "closed",
            "number": index,
            "pull_request": {
                "title": f"{tag(index)} {names or 'Dependency bump'}",
                "body": text,
                "merged": True,
                "html_url": f"{url_base}/pull/{index}",
                "head": {"ref": f"chaos/{tag(index)}"},
                "merged_by": {"login": "octocat"},
            },
        }
    else:
        body = {
            "action": "published",
            "release": {
                "name": f"{tag(index)} v1.0.{index}",
                "body": text,
                "tag_name": f"v1.0.{index}",
                "html_url": f"{url_base}/releases/tag/v1.0.{index}",
                "author": {"login": "octocat"},
            },
        }
    body["repository"] = {"full_name": REPO_PATH}
    body["sender"] = {"login": "octocat"}
    return json.dumps(body, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# send

def post(url, delivery, secret):
    """One attempt: (HTTP status or None for no answer, the answer's JSON or the error)."""
    target = urllib.parse.urlsplit(url)
    body = delivery["body"].encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
    try:
        connection.request("POST", f"/conduit/webhooks/github/{REPO_ID}/payload", body, {
            "Content-Type": "application/json",
            "X-GitHub-Event": delivery["event"],
            "X-GitHub-Delivery": delivery["id"],
            "X-Hub-Signature-256": signature,
        })
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def send(work, secret, urls):
    """Sends each delivery at its moment to its server. A 503 or no answer is sent again, with
    the same delivery id, every half second, as a code host's redelivery would, until it is
    answered 202 (queued) or 200 duplicate (an earlier attempt was queued but its answer lost)."""
    with open(f"{work}/plan.json") as f:
        deliveries = json.load(f)["deliveries"]
    results = {}
    lock = threading.Lock()
    start = time.monotonic()

    def deliver(delivery, barrier):
        if barrier is not None:
            try:
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass
        url = urls[delivery["server"] % len(urls)]
        attempts = []
        deadline = time.monotonic() + RESEND_DEADLINE_S
        while True:
            status, answer = post(url, delivery, secret)
            attempts.append(status)
            if status in (200, 202) or time.monotonic() >= deadline:
                break
            if status is not None and status != 503:
                break  # a refusal that sending again would not change
            time.sleep(0.5)
        accepted = status == 202 or (status == 200 and isinstance(answer, dict) and
                                     answer.get("data", answer).get("duplicate") is True)
        data = answer.get("data", answer) if isinstance(answer, dict) else {}
        with lock:
            results[delivery["id"]] = {
                "attempts": attempts,
                "accepted": accepted,
                "entry": data.get("entry") if isinstance(data, dict) else None,
                "last_answer": answer if not accepted else None,
                "accepted_at": time.monotonic() - start,
            }

    # Deliveries of one moment are started together and wait for each other at a barrier.
    moments = collections.defaultdict(list)
    for delivery in deliveries:
        moments[delivery["at"]].append(delivery)
    threads = []
    for at in sorted(moments):
        delay = at - (time.monotonic() - start)
        if delay > 0:
            time.sleep(delay)
        group = moments[at]
        barrier = threading.Barrier(len(group)) if len(group) > 1 else None
        for delivery in group:
            thread = threading.Thread(target=deliver, args=(delivery, barrier))
            thread.start()
            threads.append(thread)
    for thread in threads:
        thread.join(RESEND_DEADLINE_S + 30)
    with open(f"{work}/sent.json", "w") as out:
        json.dump({"seconds": time.monotonic() - start, "results": results}, out)
    accepted = sum(1 for r in results.values() if r["accepted"])
    print(f"Sent: {len(deliveries)} deliveries in {time.monotonic() - start:.1f} s, "
          f"{accepted} accepted")


# ---------------------------------------------------------------------------------------------
# check

def state_machines(hcl_path):
    """{PROJECT: (initial status, {status: status after `next`})} from the shipped HCL, which
    has one provisioner per project with an aliasmapper and a statemachine. `<end>` is absent
    from the map: the issue stays where it is."""
    text = open(hcl_path).read()
    machines = {}
    for match in re.finditer(r'provisioner\s+"(\w+)"\s*{', text):
        project = match.group(1)
        rest = text[match.end():]
        following = re.search(r'provisioner\s+"', rest)
        block = rest[:following.start()] if following else rest
        aliases = dict(re.findall(r'(\w+)\s*:\s*"([^"]*)"', block))
        initial = re.search(r'initial\s*=\s*"(\w+)"', block).group(1)
        steps = {}
        for source, event, target in re.findall(
                r'state\s+"(\w+)"\s+"(\w+)"\s*{\s*transition\s*=\s*"([^"]+)"', block):
            if event == "next" and target != "<end>":
                steps[aliases[source]] = aliases[target]
        machines[project.upper()] = (aliases[initial], steps)
    return machines


def expected_status(machines, key, times):
    """Where `times` deliveries whose event is `next` leave the issue. Every delivery of this mix
    is `next` (merged pull requests and published releases), so their order does not matter."""
    status, steps = machines[key.split("-")[0]]
    path = [status]
    for _ in range(times):
        status = steps.get(status, status)
        if status != path[-1]:
            path.append(status)
    return path


def sim_get(sim_url, path):
    target = urllib.parse.urlsplit(sim_url)
    auth = base64.b64encode(f"{SIM_EMAIL}:{SIM_TOKEN}".encode()).decode()
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Basic {auth}"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def jira_state(work, sim_url, issues):
    """{key: {"status", "transitions": [(name, to)], "comments": [text]}}, faults, requests."""
    status, text = sim_get(sim_url, "/simulator/issues")
    if status == 200:
        document = json.loads(text)
        state = {issue["key"]: {
            "status": issue["status"],
            "transitions": [(t["name"], t["to"]) for t in issue.get("transitions", [])],
            "comments": list(issue.get("comments", [])),
        } for issue in document["issues"]}
        for key in issues:
            state.setdefault(key, {"status": "To Do", "transitions": [], "comments": []})
        return state, document.get("faults", {}), document.get("requests")
    # A simulator without /simulator/issues (no fault injection either): each issue's status
    # from the REST API, transitions and comments from its log (a comment's first 60 bytes,
    # which hold the delivery's tag).
    state = {}
    for key in issues:
        _, body = sim_get(sim_url, f"/rest/api/2/issue/{key}?fields=status&expand=transitions")
        state[key] = {"status": json.loads(body)["fields"]["status"]["name"], "transitions": [],
                      "comments": []}
    for line in open(f"{work}/simulator.log"):
        moved = re.match(r"(\S+): (.+) -> (.+) \((.+)\)$", line.rstrip("\n"))
        commented = re.match(r'(\S+): comment "(.*)"$', line.rstrip("\n"))
        if moved and moved.group(1) in state:
            state[moved.group(1)]["transitions"].append((moved.group(4), moved.group(3)))
        elif commented and commented.group(1) in state:
            state[commented.group(1)]["comments"].append(commented.group(2))
    return state, None, None


def redis(cli, *args):
    return subprocess.run(cli + list(args), capture_output=True, text=True, timeout=10).stdout


def check(work, hcl_path, sim_url, cli):
    with open(f"{work}/plan.json") as f:
        deliveries = json.load(f)["deliveries"]
    with open(f"{work}/sent.json") as f:
        results = json.load(f)["results"]
    by_index = {d["index"]: d for d in deliveries}
    issues = sorted({key for d in deliveries for key in d["keys"]})
    machines = state_machines(hcl_path)
    state, faults, requests = jira_state(work, sim_url, issues)

    accepted = [d for d in deliveries if results.get(d["id"], {}).get("accepted")]
    never_accepted = [d for d in deliveries if not results.get(d["id"], {}).get("accepted")]
    times_named = collections.Counter(key for d in accepted for key in d["keys"])
    problems = collections.defaultdict(list)  # check -> lines
    counts = collections.Counter()  # lost, doubled: in moves, comments and deliveries

    # The simulator's log names each fault and the issue it hit: hints at each failure's cause.
    faults_on = collections.defaultdict(collections.Counter)
    for line in open(f"{work}/simulator.log"):
        fault = re.match(r"fault: (\w+) (\w+) /rest/api/2/issue/([A-Z0-9_]+-\d+)(/\w+)?", line)
        if fault:
            kind, method, key, what = fault.groups()
            faults_on[key][f"{kind} {method} {what or 'issue'}"] += 1

    def named_by(key):
        naming = [d for d in accepted if key in d["keys"]]
        together = any(d["together"] for d in naming)
        faults = ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in faults_on[key].items())
        return (", ".join(tag(d["index"]) for d in naming) +
                (" (sent together)" if together else "") + f"; faults on it: {faults or 'none'}")

    # Redis first: what is left, what was dead-lettered (and which issues that explains).
    queue_length = int(redis(cli, "XLEN", "conduit::deliveries").strip() or -1)
    dead = parse_xrange(redis(cli, "--json", "XRANGE", "conduit::dead-letters", "-", "+"))
    dead_keys = set()
    for entry in dead:
        index = delivery_index(entry, deliveries)
        dead_keys.update(by_index[index]["keys"] if index else [])
        together = index and by_index[index]["together"]
        problems["dead letters"].append(
            f"{tag(index) if index else '?'} {entry.get('delivery')}"
            f"{' (sent at the same instant as another naming its issue)' if together else ''}: "
            f"worker {entry.get('worker')}, attempts {entry.get('attempts')}: "
            f"{entry.get('error', '')[:300]}")
    if queue_length != 0:
        counts["lost"] += max(queue_length, 1)
        problems["lost"].append(f"conduit::deliveries still holds {queue_length} entries")
    for d in accepted:
        # The seen key is written with the entry: without it, Redis lost the delivery.
        seen = redis(cli, "EXISTS", f"conduit::seen::github::{REPO_ID}::{d['id']}").strip()
        if seen != "1":
            counts["lost"] += 1
            problems["lost"].append(f"{tag(d['index'])} {d['id']}: answered "
                                    f"{results[d['id']]['attempts'][-1]} but Redis has no record")
    for d in never_accepted:
        r = results.get(d["id"], {})
        problems["never accepted"].append(f"{tag(d['index'])} {d['id']}: attempts "
                                          f"{r.get('attempts')}, last {r.get('last_answer')}")

    moves_expected = moves_made = 0
    for key in issues:
        path = expected_status(machines, key, times_named[key])
        got = state[key]
        wanted, made = len(path) - 1, len(got["transitions"])
        moves_expected += wanted
        moves_made += made
        if got["status"] != path[-1]:
            problems["status"].append(
                f"{key}: named by {times_named[key]} accepted deliveries, expected "
                f"\"{path[-1]}\", is \"{got['status']}\" after {describe_moves(got)}"
                + (" (a delivery naming it was dead-lettered)" if key in dead_keys else ""))
        if made > wanted:
            counts["doubled"] += made - wanted
            problems["moved twice"].append(
                f"{key}: {made} transitions for {wanted} expected: {describe_moves(got)}")
        elif made < wanted and key not in dead_keys:
            counts["lost"] += wanted - made
            problems["lost"].append(f"{key}: {made} transitions for {wanted} expected, and no "
                                    f"dead letter names it; named by {named_by(key)}")
        per_delivery = collections.Counter()
        for comment in got["comments"]:
            found = TAG.search(comment)
            index = int(found.group(1)) if found else None
            if index is None or key not in by_index.get(index, {}).get("keys", []):
                counts["doubled"] += 1
                problems["commented twice"].append(
                    f"{key}: a comment by no delivery naming it: {comment[:80]!r}")
                continue
            per_delivery[index] += 1
        for index, count in sorted(per_delivery.items()):
            if count > 1:
                counts["doubled"] += count - 1
                dropped = faults_on[key]["dropped POST /comment"]
                problems["commented twice"].append(
                    f"{key}: {count} comments by {tag(index)} ({by_index[index]['id']}); " +
                    (f"{dropped} comment answer(s) on it dropped" if dropped else
                     "no comment answer on it dropped: a kill or stall after the POST"))
        if len(per_delivery) < min(made, wanted):
            problems["comment missing"].append(
                f"{key}: comments by {len(per_delivery)} deliveries for {made} moves")

    # Figures
    attempts = [a for r in results.values() for a in r["attempts"]]
    first_try = sum(1 for r in results.values() if r["attempts"][:1] == [202])
    lost = counts["lost"] + len(never_accepted)
    doubled = counts["doubled"]
    print()
    print(f"Deliveries: {len(deliveries)} sent, {len(accepted)} accepted "
          f"({first_try} at the first attempt), {len(never_accepted)} never accepted; "
          f"{len(attempts)} POSTs: {attempts.count(503)} answered 503, "
          f"{attempts.count(None)} unanswered, "
          f"{sum(1 for r in results.values() if r['attempts'][-1] == 200)} "
          f"answered duplicate after a lost answer")
    print(f"Issues: {len(issues)}; moves expected {moves_expected}, made {moves_made}; "
          f"comments {sum(len(s['comments']) for s in state.values())}")
    if faults is not None:
        print("Jira faults injected: " + ", ".join(f"{k} {v}" for k, v in faults.items()) +
              f" (of {requests} requests)")
    else:
        print("Jira faults injected: unknown (this simulator has no /simulator/issues)")
    print(f"Lost: {lost}   doubled: {doubled}   dead-lettered: {len(dead)}   "
          f"issues at a wrong status: {len(problems['status'])}")
    checks = [
        ("every issue at the status its deliveries lead to", "status"),
        ("no issue moved more than its deliveries say", "moved twice"),
        ("no delivery commented twice", "commented twice"),
        ("every move commented", "comment missing"),
        ("no dead letter", "dead letters"),
        ("no accepted delivery missing (a move short with no dead letter to explain it)", "lost"),
        ("every delivery accepted", "never accepted"),
    ]
    print()
    failed = 0
    for title, name in checks:
        lines = problems[name]
        print(f"{'FAIL' if lines else 'ok  '}  {title}" + (f" ({len(lines)})" if lines else ""))
        for line in lines[:12]:
            print(f"        {line}")
        if len(lines) > 12:
            print(f"        ... and {len(lines) - 12} more")
        failed += bool(lines)
    with open(f"{work}/figures.json", "w") as out:
        json.dump({"lost": lost, "doubled": doubled, "dead_letters": len(dead),
                   "failed_checks": failed, "faults": faults, "requests": requests,
                   "problems": problems}, out, indent=1)
    return 1 if failed else 0


def describe_moves(issue):
    return "[" + ", ".join(f"{name} -> {to}" for name, to in issue["transitions"]) + "]"


def parse_xrange(text):
    """redis-cli --json's XRANGE output: entries as dicts of their fields."""
    try:
        entries = json.loads(text)
    except ValueError:
        return []
    return [dict(zip(fields[::2], fields[1::2])) for _, fields in entries]


def delivery_index(entry, deliveries):
    for d in deliveries:
        if d["id"] == entry.get("delivery"):
            return d["index"]
    return None


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "plan" and len(argv) == 4:
        plan(argv[2], int(argv[3]))
        return 0
    if command == "send" and len(argv) >= 5:
        send(argv[2], argv[3], argv[4:])
        return 0
    if command == "check" and len(argv) >= 6:
        return check(argv[2], argv[3], argv[4], argv[5:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
