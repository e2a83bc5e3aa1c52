#!/usr/bin/env python3
"""The web page in a real browser: Debian's chromium, headless, driven through its DevTools
protocol over a websocket (Debian's python3-websocket), against a real `conduit run` on a real
redis-server, with the real Jira plugin and the Jira simulator.

It signs in with the admin token, finds the delivery that moved SOC-1 and opens its detail,
replays a dead letter from the page and sees its delivery done, and saves screenshots of the
page at a desktop's and a phone's width.

A delivery becomes a dead letter here the way it does in life: Jira is not there yet (nothing
listens on the simulator's port), the worker retries, and gives up after retry_max_attempts.
The simulator is then started, so that the replay from the page succeeds.

usage: browser_test.py --conduit BIN --simulator BIN --plugin-dir DIR --config-dir DIR
                       --screenshots DIR
Exit status 0 when every step passed.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import websocket  # python3-websocket

ADMIN_TOKEN = "browser-test-admin-token-0123456789"
STEP_TIMEOUT_S = 60  # generous: the machine may be busy


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(check, what, timeout_s=STEP_TIMEOUT_S, every_s=0.2):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
            last = e
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Api:
    """Conduit's admin API with the bearer token, for setting the scene."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else (body if isinstance(body, bytes) else
                                          json.dumps(body).encode())
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + ADMIN_TOKEN)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text.startswith("{") else text)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, (json.loads(text) if text.startswith("{") else text)

    def deliver_merged(self, secret, delivery, title, pull):
        body = json.dumps({
            "action": "closed", "number": pull,
            "pull_request": {
                "title": title, "body": "", "merged": True,
                "html_url": f"https://github.com/acme/payments/pull/{pull}",
                "head": {"ref": "main"}, "merged_by": {"login": "alice"}},
            "repository": {"full_name": "acme/payments"},
        }, separators=(",", ":")).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.base + "/conduit/webhooks/github/payments/payload", data=body, method="POST")
        for name, value in {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                            "X-GitHub-Delivery": delivery,
                            "X-Hub-Signature-256": signature}.items():
            request.add_header(name, value)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def record(self, delivery):
        status, body = self.call("GET", f"/conduit/deliveries/github/payments/{delivery}")
        return body["data"] if status == 200 else None


class Browser:
    """Headless chromium and one page, through the DevTools protocol."""

    def __init__(self, profile):
        self.profile = profile
        chromium = shutil.which("chromium")
        if not chromium:
            raise SystemExit("chromium is not installed (scripts/install-deps.sh installs it)")
        flags = ["--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                 "--disable-extensions", "--disable-background-networking", "--disable-sync",
                 "--hide-scrollbars", "--mute-audio", "--remote-debugging-address=127.0.0.1",
                 "--remote-debugging-port=0", f"--user-data-dir={profile}",
                 "--window-size=1280,900"]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")  # chromium refuses to run as root with its sandbox
        self.log = open(os.path.join(profile, "..", "chromium.log"), "w")
        self.process = subprocess.Popen([chromium, *flags, "about:blank"], stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        port_file = os.path.join(profile, "DevToolsActivePort")
        port = eventually(lambda: open(port_file).readline().strip() if os.path.exists(port_file)
                          else None, "chromium's DevTools port")
        targets = eventually(lambda: json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/json/list", timeout=5)), "chromium's targets")
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == mine:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            if message.get("method") == "Page.javascriptDialogOpening":
                # confirm() of "Replay all" and the like: accept, as a user would.
                self.ws.send(json.dumps({"id": 0, "method": "Page.handleJavaScriptDialog",
                                         "params": {"accept": True}}))
            elif message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.events.append("page exception: " + json.dumps(details)[:500])
            elif message.get("method") == "Runtime.consoleAPICalled":
                args = message["params"].get("args", [])
                self.events.append("console: " + " ".join(str(a.get("value", "")) for a in args))

    def eval(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"script failed: {expression}\n{result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait(self, expression, what, timeout_s=STEP_TIMEOUT_S):
        return eventually(lambda: self.eval(expression), what, timeout_s, every_s=0.25)

    def navigate(self, url):
        self.send("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'", "the page to load")

    def viewport(self, width, height, mobile):
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)

    def screenshot(self, path):
        # The whole page, not only what fits the window.
        height = self.eval("Math.ceil(document.documentElement.scrollHeight)")
        width = self.eval("Math.ceil(document.documentElement.clientWidth)")
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        log(f"saved {path} ({width}x{height})")

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        stop(self.process)
        self.log.close()


def stop(process, timeout_s=15):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def js(value):
    return json.dumps(value)


def main():
    parser = argparse.ArgumentParser()
    for name in ("conduit", "simulator", "plugin-dir", "config-dir", "screenshots"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    for name in ("conduit", "simulator", "plugin_dir", "config_dir", "screenshots"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    for tool in ("redis-server", "chromium"):
        if not shutil.which(tool):
            raise SystemExit(f"missing {tool} (scripts/install-deps.sh installs it)")

    work = tempfile.mkdtemp(prefix="conduit-ui-test-")
    processes = []
    browser = None
    ok = False
    try:
        redis_port, sim_port, port = free_port(), free_port(), free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL,
            start_new_session=True)
        processes.append(redis)

        os.makedirs(os.path.join(work, "statemachines"))
        shutil.copy(os.path.join(args.config_dir, "statemachines", "jira.hcl"),
                    os.path.join(work, "statemachines"))
        with open(os.path.join(work, "workers.yaml"), "w") as f:
            f.write("workers:\n  atlassian:\n    statefile: jira.hcl\n"
                    "    projects: [devhop, soc]\n")
        with open(os.path.join(work, "app.env"), "w") as f:
            f.write(f"""bind=127.0.0.1
port={port}
log_level=info
redis_url=127.0.0.1:{redis_port}
admin_token={ADMIN_TOKEN}
plugin_dir={args.plugin_dir}
retry_initial_ms=100
retry_max_ms=200
retry_max_attempts=2
claim_idle_ms=1000
atlassian_domain_url=http://127.0.0.1:{sim_port}
atlassian_email=dev@example.test
atlassian_api_key=simulator-token
atlassian_timeout_ms=1000
""")
        conduit_log = open(os.path.join(work, "conduit.log"), "w")
        conduit = subprocess.Popen(
            [args.conduit, "run", "--config", os.path.join(work, "app.env"), "--hcl-dir",
             os.path.join(work, "statemachines"), "--worker-cfg",
             os.path.join(work, "workers.yaml")],
            stdout=conduit_log, stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(conduit)
        base = f"http://127.0.0.1:{port}"
        api = Api(base)
        def answering():
            if conduit.poll() is not None:
                raise SystemExit(f"conduit run ended (exit status {conduit.returncode})")
            return api.call("GET", "/conduit/ping")[0] == 200
        eventually(answering, "conduit run to answer")

        status, registered = api.call("POST", "/conduit/webhooks/register", {
            "provider": "github", "repo_id": "payments", "repo_path": "acme/payments"})
        assert status == 201, registered
        secret = registered["data"]["secret"]

        # No Jira yet: this delivery is retried, then dead-lettered.
        dead_delivery = str(uuid.uuid4())
        assert api.deliver_merged(secret, dead_delivery, "SOC-2: pay by invoice", 41) == 202
        eventually(lambda: (api.record(dead_delivery) or {}).get("status") == "dead",
                   "the first delivery to be dead-lettered")
        log(f"delivery {dead_delivery} is dead, as meant")

        simulator = subprocess.Popen(
            [args.simulator, "--port", str(sim_port)], stdout=open(
                os.path.join(work, "simulator.log"), "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        processes.append(simulator)
        eventually(lambda: socket.create_connection(("127.0.0.1", sim_port), 1).close() or True,
                   "the Jira simulator")

        moved_delivery = str(uuid.uuid4())
        assert api.deliver_merged(secret, moved_delivery, "SOC-1: sign in with SSO", 42) == 202
        eventually(lambda: (api.record(moved_delivery) or {}).get("status") == "done",
                   "the SOC-1 delivery to be done")
        # A refused request, for the page's list of them.
        api.call("POST", "/conduit/webhooks/github/payments/payload", b"{}",
                 {"X-GitHub-Event": "push", "X-GitHub-Delivery": "forged-1",
                  "X-Hub-Signature-256": "sha256=" + "0" * 64})

        os.makedirs(os.path.join(work, "profile"))
        browser = Browser(os.path.join(work, "profile"))
        browser.viewport(1280, 900, False)
        browser.navigate(base + "/conduit/ui/")

        # Sign in.
        browser.wait("!document.getElementById('login-view').hidden", "the sign-in form")
        browser.eval(f"""(() => {{
            document.getElementById('token').value = {js(ADMIN_TOKEN)};
            document.getElementById('login-form').requestSubmit();
        }})()""")
        browser.wait("!document.getElementById('app-view').hidden", "the page after sign-in")
        browser.wait("document.querySelectorAll('tr.delivery').length >= 2",
                     "the deliveries to be listed")
        assert browser.eval("document.cookie") == "", "the session cookie must be HttpOnly"
        log("signed in; deliveries listed")

        # Find the delivery that moved SOC-1: filter by the issue key, open its detail.
        browser.eval("""(() => {
            const form = document.getElementById('filters');
            form.elements.issue.value = 'SOC-1';
            form.requestSubmit();
        })()""")
        row = f"document.querySelector('tr.delivery[data-id$={js(moved_delivery)}]')"
        browser.wait(f"""document.querySelectorAll('tr.delivery').length === 1 && {row} !== null
                         && {row}.textContent.includes('SOC-1')""",
                     "the one delivery that named SOC-1")
        browser.eval(f"{row}.click()")
        browser.wait("""(() => {
            const body = document.getElementById('detail-body').textContent;
            return body.includes('moved To Do → In Progress') && body.includes('Start work');
        })()""", "the detail to show SOC-1 moved from To Do to In Progress")
        issue_href = browser.eval(
            "document.querySelector('#detail-body a.issue').getAttribute('href')")
        assert issue_href == f"http://127.0.0.1:{sim_port}/browse/SOC-1", issue_href
        browser.wait("""[...document.querySelectorAll('#detail-body a')].some(
                          (a) => a.href === 'https://github.com/acme/payments/pull/42')""",
                     "the link to the pull request")
        log("found the delivery that moved SOC-1 and opened its detail")
        # Desktop screenshot: the whole list, with the detail open.
        browser.eval("""(() => {
            const form = document.getElementById('filters');
            form.elements.issue.value = '';
            form.requestSubmit();
        })()""")
        browser.wait("document.querySelectorAll('tr.delivery').length >= 2", "the whole list")
        os.makedirs(args.screenshots, exist_ok=True)
        browser.screenshot(os.path.join(args.screenshots, "ui-deliveries.png"))

        # Replay the dead letter from its tab, and see its delivery done.
        browser.eval("document.querySelector('[data-tab=\"dead-letters\"]').click()")
        letter = f"document.querySelector('tr.dead-letter[data-id$={js(dead_delivery)}]')"
        browser.wait(f"{letter} !== null", "the dead letter to be listed")
        browser.screenshot(os.path.join(args.screenshots, "ui-dead-letters.png"))
        browser.eval(f"{letter}.querySelector('button.replay-one').click()")
        browser.wait("document.getElementById('message').textContent.includes('queued again')",
                     "the replay to be accepted")
        browser.wait(f"{letter} === null", "the dead letter to leave the list")
        browser.eval("document.querySelector('[data-tab=\"deliveries\"]').click()")
        replayed = f"document.querySelector('tr.delivery[data-id$={js(dead_delivery)}]')"
        browser.wait(f"{replayed} !== null && {replayed}.querySelector('.status').textContent"
                     " === 'done'", "the replayed delivery to show done (the page refreshes)")
        record = api.record(dead_delivery)
        assert record["status"] == "done" and record["replays"] == 1, record
        log("replayed the dead letter from the page; its delivery is done")

        # The other tabs answer.
        browser.eval("document.querySelector('[data-tab=\"hooks\"]').click()")
        browser.wait("document.querySelector('#hooks tbody').textContent.includes('acme/payments')",
                     "the hooks")
        assert secret not in browser.eval("document.body.textContent"), "a secret was shown"
        browser.eval("document.querySelector('[data-tab=\"refused\"]').click()")
        browser.wait("document.querySelector('#refused tbody').textContent.includes("
                     "'/conduit/webhooks/github/payments/payload')", "the refused request")

        # A phone's width: the deliveries as cards, with the detail open.
        browser.eval("document.querySelector('[data-tab=\"deliveries\"]').click()")
        browser.viewport(390, 844, True)
        browser.eval(f"{row}.click()")
        browser.wait("document.getElementById('detail-body').textContent.includes('moved')",
                     "the detail at a phone's width")
        browser.eval("window.scrollTo(0, 0)")
        overflow = browser.eval("document.documentElement.scrollWidth")
        assert overflow <= 390, f"the page is {overflow}px wide at a phone's 390px"
        browser.screenshot(os.path.join(args.screenshots, "ui-phone.png"))

        # Sign out: the API no longer answers the page.
        browser.viewport(1280, 900, False)
        browser.eval("document.getElementById('logout').click()")
        browser.wait("!document.getElementById('login-view').hidden", "the sign-in form again")
        status = browser.eval("""fetch('/conduit/deliveries', {credentials: 'same-origin'})
                                 .then((r) => r.status)""")
        assert status == 401, status
        log("signed out")

        problems = [e for e in browser.events if e.startswith("page exception")]
        assert not problems, problems
        ok = True
    finally:
        if browser:
            browser.close()
        for process in reversed(processes):
            stop(process)
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            for name in ("conduit.log", "simulator.log", "chromium.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    print(f"---- {name} (last lines)", file=sys.stderr)
                    with open(path, errors="replace") as f:
                        sys.stderr.write("".join(f.readlines()[-40:]))
            if browser:
                sys.stderr.write("\n".join(browser.events[-20:]) + "\n")
            print(f"kept {work}", file=sys.stderr)
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
