#!/usr/bin/python3
"""docs/openapi.yaml against the real thing.

  lint     Redocly CLI's lint of the document (Debian 12 packages no OpenAPI 3.1 validator), from
           the committed package-lock.json, installed with `npm ci` into the build folder.
  routes   Starts `conduit serve`, `conduit work` and `conduit run` at log_level=debug, reads the
           routes each one's port serves from its log (`port N serves GET /conduit/ping`), and
           fails when one is missing from the document's paths, or the document has one that no
           process serves (each operation's `x-conduit-served-by` names the commands).
  answers  A real redis-server, the Jira simulator, `conduit serve` and `conduit work`: calls
           every operation of the document, its errors included, and validates each answer's
           status, content type and body against the document's schema for that status.

Runs with Debian's python3, python3-yaml and python3-jsonschema (4.10 or later).
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import jsonschema
import yaml

ADMIN_TOKEN = "openapi-test-admin-token-0123456789"
METRICS_TOKEN = "openapi-test-metrics-token-0123456789"
JIRA_EMAIL = "dev@example.test"
JIRA_TOKEN = "simulator-token"
# The hook secrets are stored encrypted with it; a server with another key cannot read them.
SECRET_KEY = "5f" * 32
OTHER_SECRET_KEY = "a7" * 32
MAX_BODY_BYTES = 1024 * 1024
METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(what, check, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.1)


# --- the document ----------------------------------------------------------------------------


class Document:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.paths = self.doc["paths"]
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.checker = jsonschema.FormatChecker(formats=())
        self.checker.checks("date-time")(is_rfc3339)
        # (METHOD, path template) -> the answers seen, for the coverage check.
        self.seen = {}

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node:
            _, node = self.resolver.resolve(node["$ref"])
        return node

    def operations(self):
        for template, item in self.paths.items():
            for method in METHODS:
                if method in item:
                    yield method.upper(), template, item[method]

    def find(self, method, path, command):
        """The path template `command`'s port serves a concrete path by, and the operation for
        the method (None when the path is served for other methods only); (None, None) when
        that port serves the path for no method."""
        segments = path.split("/")
        # Literal segments first, as the router's order does (`/conduit/ui/session` before
        # `/conduit/ui/{file}`).
        for template, item in sorted(self.paths.items(), key=lambda p: p[0].count("{")):
            parts = template.split("/")
            if len(parts) != len(segments):
                continue
            if not all(p == s or (p.startswith("{") and s) for p, s in zip(parts, segments)):
                continue
            served = {m: item[m] for m in METHODS
                      if m in item and command in item[m].get("x-conduit-served-by", [])}
            if served:
                return template, served.get(method.lower())
        return None, None

    def validate(self, command, method, path, status, content_type, body, about=""):
        """Checks one answer of `conduit <command>`'s port against the document; returns the
        parsed body."""
        where = f"{method} {path} -> {status}" + (f" ({about})" if about else "")
        template, operation = self.find(method, path, command)
        if template is None:
            response = self.deref({"$ref": "#/components/responses/RouteNotFound"})
            if status != 404:
                fail(f"{where}: a path the document lacks answered {status}, not 404")
        elif operation is None:
            response = self.deref({"$ref": "#/components/responses/MethodNotAllowed"})
            if status != 405:
                fail(f"{where}: a method the document lacks answered {status}, not 405")
        else:
            responses = operation["responses"]
            response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
            if response is None:
                fail(f"{where}: the document has no answer {status} for {method} {template} "
                     f"(it has {', '.join(sorted(responses))})")
            response = self.deref(response)
            self.seen.setdefault((method, template), set()).add(status)
        content = response.get("content")
        if not content:
            if body:
                fail(f"{where}: the document says no body, the server sent {body[:200]!r}")
            return None
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in content:
            fail(f"{where}: content type {content_type!r}, the document has {sorted(content)}")
        schema = self.deref(content[media]).get("schema", {})
        text = body.decode("utf-8")
        instance = json.loads(text) if media == "application/json" else text
        validator = jsonschema.Draft202012Validator(schema, resolver=self.resolver,
                                                    format_checker=self.checker)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            details = "\n  ".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors)
            fail(f"{where}: the answer does not match the document's schema:\n  {details}\n"
                 f"body: {text[:1000]}")
        return instance


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def is_rfc3339(value):
    return not isinstance(value, str) or RFC3339.match(value) is not None


# --- HTTP -------------------------------------------------------------------------------------


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None

    def header(self, name):
        return self.headers.get(name.lower())


def read_answer(sock):
    """Reads one HTTP answer (with Content-Length, as Conduit always sends) from a socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        fail(f"no HTTP answer: {data[:200]!r}")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Answer(status, headers, rest[:length])


class Client:
    def __init__(self, document, port, name, command):
        self.document = document
        self.port = port
        self.name = name
        self.command = command  # whose port: serve, work or run

    def call(self, method, path, body=None, headers=None, query=None, token=None, expect=None,
             about=""):
        """One request on its own connection; the answer is validated against the document."""
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                            response.read())
        finally:
            connection.close()
        return self.check(method, path, answer, expect, about)

    def raw(self, method, path, head_lines, body=b"", expect=None, about="", pause_s=0.0):
        """A request written by hand, for what http.client will not send."""
        request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
            f"{line}\r\n" for line in head_lines)
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            if pause_s:
                sock.sendall(request.encode())
                time.sleep(pause_s)
                answer = read_answer(sock)
            else:
                sock.sendall(request.encode() + b"\r\n" + body)
                answer = read_answer(sock)
        return self.check(method, path, answer, expect, about)

    def check(self, method, path, answer, expect, about):
        where = f"{self.name}: {method} {path}" + (f" ({about})" if about else "")
        if expect is not None and answer.status != expect:
            fail(f"{where}: expected {expect}, got {answer.status}: {answer.body[:500]!r}")
        answer.json = self.document.validate(self.command, method, path, answer.status,
                                             answer.header("content-type"), answer.body, about)
        return answer


def expect_error(answer, error_msg, field=None):
    body = answer.json
    if body.get("error_msg") != error_msg:
        fail(f"expected error {error_msg}, got {body}")
    if field is not None and body.get("field") != field:
        fail(f"expected the error to name field {field!r}, got {body}")


# --- processes --------------------------------------------------------------------------------


class Site:
    """A folder with a redis-server, the Jira simulator and the config of the conduits."""

    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="conduit-openapi-")
        self.processes = []
        self.redis_port = free_port()
        self.redis = self.start(["redis-server", "--port", str(self.redis_port), "--bind",
                                 "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                 self.dir], "redis")
        eventually("redis-server", self.redis_answers)
        self.simulator_port = free_port()
        self.simulator = self.start_simulator()
        self.hcl_dir = os.path.join(self.dir, "statemachines")
        os.makedirs(self.hcl_dir)
        shutil.copy(os.path.join(args.source, "config", "statemachines", "jira.hcl"),
                    self.hcl_dir)
        self.workers = os.path.join(self.dir, "workers.yaml")
        with open(self.workers, "w", encoding="utf-8") as f:
            f.write("workers:\n  atlassian:\n    plugin: jira\n    statefile: jira.hcl\n"
                    "    projects: [soc, devhop]\n")

    def start_simulator(self):
        simulator = self.start([self.args.simulator, "--port", str(self.simulator_port),
                                "--email", JIRA_EMAIL, "--token", JIRA_TOKEN], "jira")
        eventually("the Jira simulator", lambda: self.connects(self.simulator_port))
        return simulator

    def config(self, name, **overrides):
        settings = {
            "bind": "127.0.0.1",
            "log_level": "debug",
            "redis_url": f"127.0.0.1:{self.redis_port}",
            "admin_token": ADMIN_TOKEN,
            "secret_key": SECRET_KEY,
            "metrics_token": METRICS_TOKEN,
            "plugin_dir": self.args.plugin_dir,
            "atlassian_domain_url": f"http://127.0.0.1:{self.simulator_port}",
            "atlassian_email": JIRA_EMAIL,
            "atlassian_api_key": JIRA_TOKEN,
            "max_body_bytes": str(MAX_BODY_BYTES),
            "max_inflight_bytes": str(MAX_BODY_BYTES),
            "header_timeout_ms": "1000",
            "retry_schedule": "50ms",
            "claim_idle_ms": "1000",
            "shutdown_timeout_ms": "5000",
        }
        for key, value in overrides.items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
        path = os.path.join(self.dir, f"{name}.env")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(f"{key}={value}\n" for key, value in settings.items())
        return path

    def conduit(self, command, name, port, **overrides):
        # `run` takes its port from the config only.
        overrides.setdefault("port", str(port))
        argv = [self.args.conduit, command, "--config", self.config(name, **overrides)]
        if command != "run":
            argv += ["-p", str(port)]
        if command != "serve":
            argv += ["--hcl-dir", self.hcl_dir, "--worker-cfg", self.workers]
        process = self.start(argv, name)
        eventually(f"conduit {command} on port {port}",
                   lambda: self.connects(port) or self.died(process, name))
        return process

    def start(self, argv, name):
        log = open(os.path.join(self.dir, f"{name}.log"), "wb")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        process.log_path = log.name
        self.processes.append(process)
        return process

    def log(self, process):
        with open(process.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def died(self, process, name):
        if process.poll() is not None:
            fail(f"{name} exited with {process.returncode}:\n{self.log(process)[-3000:]}")
        return False

    def stop(self, process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def connects(self, port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def redis_answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def close(self):
        for process in reversed(self.processes):
            self.stop(process)
        if os.environ.get("CONDUIT_OPENAPI_KEEP"):
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- lint -------------------------------------------------------------------------------------


def lint(args):
    here = os.path.dirname(os.path.abspath(__file__))
    lint_dir = os.path.join(args.work_dir, "redocly")
    os.makedirs(lint_dir, exist_ok=True)
    with open(os.path.join(here, "package-lock.json"), "rb") as f:
        lock_hash = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(lint_dir, "installed-lock.sha256")
    installed = open(stamp).read().strip() if os.path.exists(stamp) else ""
    if installed != lock_hash:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(here, name), lint_dir)
        print("npm ci: @redocly/cli from tests/openapi/package-lock.json", flush=True)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                       cwd=lint_dir, check=True)
        with open(stamp, "w", encoding="utf-8") as f:
            f.write(lock_hash)
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    redocly = os.path.join(lint_dir, "node_modules", ".bin", "redocly")
    result = subprocess.run([redocly, "lint", "--config", os.path.join(here, "redocly.yaml"),
                             os.path.join(args.source, "docs", "openapi.yaml")], env=env)
    if result.returncode != 0:
        fail("redocly lint found problems in docs/openapi.yaml (above)")
    print("docs/openapi.yaml passes redocly lint")


# --- routes -----------------------------------------------------------------------------------


def served_routes(log_text):
    routes = set()
    for match in re.finditer(r"port \d+ serves (\S+) (\S+)", log_text):
        method, pattern = match.groups()
        routes.add((method, re.sub(r":([A-Za-z_][A-Za-z0-9_]*)", r"{\1}", pattern)))
    return routes


def routes(args):
    document = Document(os.path.join(args.source, "docs", "openapi.yaml"))
    site = Site(args)
    try:
        processes = {}
        for command in ("serve", "work", "run"):
            port = free_port()
            # `run` on a Redis database of its own: it consumes deliveries too.
            overrides = {"redis_url": f"redis://127.0.0.1:{site.redis_port}/1"} \
                if command == "run" else {}
            processes[command] = site.conduit(command, command, port, **overrides)
        problems = []
        for command, process in processes.items():
            # Logged as the port opens, before the line that says it is listening.
            eventually(f"conduit {command} to say it is listening",
                       lambda: re.search(r"listening on|answering /conduit-reactor/ping",
                                         site.log(process)))
            served = served_routes(site.log(process))
            documented = {(method, template) for method, template, operation
                          in document.operations()
                          if command in operation.get("x-conduit-served-by", [])}
            for method, template in sorted(served - documented):
                problems.append(f"conduit {command} serves {method} {template}, which "
                                f"docs/openapi.yaml does not document for it "
                                f"(x-conduit-served-by)")
            for method, template in sorted(documented - served):
                problems.append(f"docs/openapi.yaml says conduit {command} serves {method} "
                                f"{template}; it does not")
            print(f"conduit {command}: {len(served)} routes, all documented"
                  if not any(command in p for p in problems) else f"conduit {command}: problems")
        if problems:
            fail("\n  " + "\n  ".join(problems))
    finally:
        site.close()


# --- answers ----------------------------------------------------------------------------------


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pull_request(issue, merged=True, number=1):
    return json.dumps({
        "action": "closed",
        "number": number,
        "pull_request": {
            "title": f"{issue}: idempotent settlement batches",
            "body": "Batches are settled once, whatever the retries.",
            "merged": merged,
            "html_url": f"https://github.com/acme/payments-service/pull/{number}",
            "head": {"ref": f"feature/{issue}-settlement"},
            "merged_by": {"login": "alice-dev"} if merged else None,
        },
        "repository": {"full_name": "acme/payments-service"},
        "sender": {"login": "alice-dev"},
    }, separators=(",", ":")).encode()


class Deliverer:
    def __init__(self, api, secret, repo_id="payments-service"):
        self.api = api
        self.secret = secret
        self.repo_id = repo_id
        self.count = 0

    def send(self, body, event="pull_request", delivery=None, expect=None, about="",
             content_type="application/json", alias=False, signature=None, headers=None):
        self.count += 1
        delivery = delivery or f"openapi-{os.getpid()}-{self.count}"
        all_headers = {"Content-Type": content_type, "X-GitHub-Event": event,
                       "X-GitHub-Delivery": delivery,
                       "X-Hub-Signature-256": signature or sign(self.secret, body)}
        all_headers.update(headers or {})
        for name in [n for n, v in all_headers.items() if v is None]:
            del all_headers[name]
        prefix = "/webhooks" if alias else "/conduit/webhooks"
        answer = self.api.call("POST", f"{prefix}/github/{self.repo_id}/payload", body=body,
                               headers=all_headers, expect=expect, about=about)
        return delivery, answer


def service_routes(client, with_reactor_ping):
    client.call("GET", "/conduit/ping", expect=200)
    client.call("GET", "/conduit/ready", expect=200)
    version = client.call("GET", "/conduit/version", expect=200)
    print(f"{client.name}: version {version.body.decode()}")
    if with_reactor_ping:
        client.call("GET", "/conduit-reactor/ping", expect=200)
    expect_error(client.call("PUT", "/conduit/ping", expect=405), "method_not_allowed")
    expect_error(client.call("GET", "/conduit/nowhere", expect=404), "route_not_found")


def edge_answers(client, body_limit):
    """What the edge answers on any route, from the headers alone."""
    expect_error(client.raw("GET", "/conduit/ping", ["Content-Length: abc"], expect=400,
                            about="unparsable Content-Length"), "malformed_request")
    expect_error(client.raw("GET", "/conduit/ping", ["Transfer-Encoding: chunked"],
                            expect=411, about="chunked"), "length_required")
    expect_error(client.raw("GET", "/conduit/ping", [f"Content-Length: {body_limit + 1}"],
                            expect=413, about="declared body over the limit"),
                 "payload_too_large")
    expect_error(client.raw("GET", "/conduit/ping", ["X-Padding: " + "a" * 70000], expect=431,
                            about="headers over max_header_bytes"), "request_header_too_large")
    expect_error(client.raw("GET", "/conduit/ping", ["X-Slow: yes"], pause_s=1.6, expect=408,
                            about="headers never finished"), "request_timeout")


def server_busy(api):
    """A body in flight holding max_inflight_bytes: the next declared body is 503 server_busy."""
    with socket.create_connection(("127.0.0.1", api.port), timeout=30) as holder:
        holder.sendall(f"POST /conduit/webhooks/github/payments-service/payload HTTP/1.1\r\n"
                       f"Host: 127.0.0.1\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\nx".encode())
        time.sleep(0.3)
        answer = api.raw("POST", "/conduit/webhooks/github/payments-service/payload",
                         ["Content-Length: 2048"], body=b"x" * 2048, expect=503,
                         about="bodies in flight over max_inflight_bytes")
        expect_error(answer, "server_busy")
        if not answer.header("retry-after"):
            fail("503 server_busy without Retry-After")


def hook_routes(api):
    register = {"provider": "github", "repo_id": "payments-service",
                "repo_path": "acme/payments-service"}
    expect_error(api.call("POST", "/conduit/webhooks/register", body=register, expect=401),
                 "unauthorized")
    expect_error(api.call("POST", "/conduit/webhooks/register", body=register, expect=401,
                          token="not-the-admin-token-at-all"), "unauthorized")
    expect_error(api.call("POST", "/conduit/webhooks/register", body="[1, 2]", expect=400,
                          token=ADMIN_TOKEN), "invalid_json")
    expect_error(api.call("POST", "/conduit/webhooks/register", expect=400, token=ADMIN_TOKEN,
                          body={"provider": "github", "repo_id": "payments-service"}),
                 "missing_field", "repo_path")
    expect_error(api.call("POST", "/conduit/webhooks/register", expect=400, token=ADMIN_TOKEN,
                          body=dict(register, repo_id="no spaces")), "invalid_field", "repo_id")
    expect_error(api.call("POST", "/conduit/webhooks/register", expect=400, token=ADMIN_TOKEN,
                          body=dict(register, repo_path=7)), "invalid_field", "repo_path")
    expect_error(api.call("POST", "/conduit/webhooks/register", expect=400, token=ADMIN_TOKEN,
                          body=dict(register, provider="svn")), "unknown_provider",
                 "provider")
    padded = json.dumps(dict(register, padding="x" * 70000))
    expect_error(api.call("POST", "/conduit/webhooks/register", body=padded, expect=413,
                          token=ADMIN_TOKEN, about="admin body over 64 KiB"),
                 "payload_too_large")
    created = api.call("POST", "/conduit/webhooks/register", body=register, expect=201,
                       token=ADMIN_TOKEN)
    expect_error(api.call("POST", "/conduit/webhooks/register", body=register, expect=409,
                          token=ADMIN_TOKEN), "hook_exists")

    updated = api.call("PATCH", "/conduit/webhooks/update", body=register, expect=200,
                       token=ADMIN_TOKEN)
    aliased = api.call("PATCH", "/webhooks/update", body=register, expect=200, token=ADMIN_TOKEN)
    if len({created.json["data"]["secret"], updated.json["data"]["secret"],
            aliased.json["data"]["secret"]}) != 3:
        fail("update did not make a new secret")
    expect_error(api.call("PATCH", "/conduit/webhooks/update", expect=404, token=ADMIN_TOKEN,
                          body=dict(register, repo_id="nobody")), "hook_not_found")
    expect_error(api.call("PATCH", "/webhooks/update", expect=401, body=register),
                 "unauthorized")
    expect_error(api.call("PATCH", "/webhooks/update", expect=400, token=ADMIN_TOKEN,
                          body={"repo_id": "payments-service"}), "missing_field", "provider")

    imported = {"provider": "github", "repo_id": "web", "repo_path": "acme/web",
                "secret": "the-secret-github-already-has"}
    api.call("PATCH", "/conduit/internal/webhooks/import", body=imported, expect=201,
             token=ADMIN_TOKEN)
    expect_error(api.call("PATCH", "/conduit/internal/webhooks/import", body=imported,
                          expect=409, token=ADMIN_TOKEN), "hook_exists")
    api.call("PATCH", "/internal/webhooks/import", expect=201, token=ADMIN_TOKEN,
             body=dict(imported, repo_id="docs", repo_path="acme/docs"))
    expect_error(api.call("PATCH", "/internal/webhooks/import", expect=400, token=ADMIN_TOKEN,
                          body=dict(imported, secret="")), "missing_field", "secret")
    expect_error(api.call("PATCH", "/internal/webhooks/import", expect=401, body=imported),
                 "unauthorized")

    api.call("GET", "/conduit/webhooks/find", expect=200, token=ADMIN_TOKEN,
             query={"provider": "github", "repo_id": "web"})
    expect_error(api.call("GET", "/conduit/webhooks/find", expect=404, token=ADMIN_TOKEN,
                          query={"provider": "github", "repo_id": "nobody"}), "hook_not_found")
    expect_error(api.call("GET", "/conduit/webhooks/find", expect=400, token=ADMIN_TOKEN,
                          query={"provider": "github"}), "missing_field", "repo_id")
    expect_error(api.call("GET", "/conduit/webhooks/find", expect=401,
                          query={"provider": "github", "repo_id": "web"}), "unauthorized")
    listed = api.call("GET", "/conduit/webhooks/list", expect=200, token=ADMIN_TOKEN,
                      query={"provider": "github"})
    if [h["repo_id"] for h in listed.json["data"]] != ["docs", "payments-service", "web"]:
        fail(f"list: {listed.json}")
    expect_error(api.call("GET", "/conduit/webhooks/list", expect=400, token=ADMIN_TOKEN),
                 "missing_field", "provider")
    expect_error(api.call("GET", "/conduit/webhooks/list", expect=401,
                          query={"provider": "github"}), "unauthorized")

    api.call("DELETE", "/conduit/webhooks/github/docs", expect=204, token=ADMIN_TOKEN)
    expect_error(api.call("DELETE", "/conduit/webhooks/github/docs", expect=404,
                          token=ADMIN_TOKEN), "hook_not_found")
    expect_error(api.call("DELETE", "/conduit/webhooks/github/web", expect=401),
                 "unauthorized")
    expect_error(api.call("GET", "/conduit/webhooks/github/web", expect=405, token=ADMIN_TOKEN),
                 "method_not_allowed")
    return aliased.json["data"]["secret"]


def payload_routes(api, secret):
    """Every check of the payload route, in its order; returns the delivery ids queued."""
    hooks = Deliverer(api, secret)
    body = pull_request("SOC-1")
    nobody = Deliverer(api, secret, repo_id="nobody")
    expect_error(nobody.send(body, expect=404)[1], "hook_not_found")
    expect_error(hooks.send(body, expect=400, about="a GitLab delivery at a GitHub hook",
                            headers={"X-GitHub-Event": None,
                                     "X-Gitlab-Event": "Merge Request Hook"})[1],
                 "wrong_provider")
    expect_error(hooks.send(body, signature="", expect=401, about="no signature",
                            headers={"X-Hub-Signature-256": None})[1], "signature_missing")
    expect_error(hooks.send(body, signature="sha1=abc", expect=401)[1], "signature_malformed")
    expect_error(hooks.send(body, signature="sha256=" + "0" * 64, expect=401)[1],
                 "signature_mismatch")
    expect_error(hooks.send(body, expect=400, headers={"X-GitHub-Event": None})[1],
                 "missing_event_header")
    expect_error(hooks.send(body, expect=400, headers={"X-GitHub-Delivery": None})[1],
                 "missing_delivery_header")
    expect_error(hooks.send(body, delivery="not a delivery id", expect=400)[1],
                 "invalid_delivery_id")
    expect_error(hooks.send(body, content_type="text/plain", expect=415)[1],
                 "unsupported_content_type")
    ping = hooks.send(b'{"zen":"Design for failure.","hook_id":1}', event="ping", expect=200)[1]
    if ping.json["data"].get("queued") is not False:
        fail(f"ping: {ping.json}")
    expect_error(hooks.send(b"[1, 2, 3]", expect=400)[1], "invalid_payload")
    expect_error(hooks.send(b"payload=", content_type="application/x-www-form-urlencoded",
                            expect=400)[1], "invalid_payload")

    moved, answer = hooks.send(body, expect=202, about="SOC-1, merged")
    again = hooks.send(body, delivery=moved, expect=200, about="the same delivery again")[1]
    if again.json["data"].get("duplicate") is not True:
        fail(f"duplicate: {again.json}")
    form = b"payload=" + urllib.parse.quote_plus(pull_request("SOC-2", number=2)).encode()
    hooks.send(form, content_type="application/x-www-form-urlencoded", expect=202, alias=True,
               about="form-encoded, at the original's path")
    ignored = hooks.send(pull_request("SOC-3", merged=False, number=3), expect=202,
                         about="closed without merge")[0]
    expect_error(hooks.send(body, alias=True, signature="sha256=" + "1" * 64, expect=401)[1],
                 "signature_mismatch")
    return {"moved": moved, "ignored": ignored, "entry": answer.json["data"]["entry"]}


def metrics_routes(client):
    expect_error(client.call("GET", "/metrics", expect=401), "unauthorized")
    expect_error(client.call("GET", "/metrics", expect=401, token="not-the-metrics-token"),
                 "unauthorized")
    client.call("GET", "/metrics", expect=200, token=METRICS_TOKEN)
    expect_error(client.call("GET", "/metrics", expect=403, token=ADMIN_TOKEN,
                             headers={"Origin": "https://elsewhere.example"},
                             about="from another site"), "csrf_token_invalid")
    return client.call("GET", "/metrics", expect=200, token=ADMIN_TOKEN)


def answers(args):
    document = Document(os.path.join(args.source, "docs", "openapi.yaml"))
    site = Site(args)
    try:
        api_port, worker_port = free_port(), free_port()
        site.conduit("serve", "serve", api_port)
        site.worker_port = worker_port
        site.worker = site.conduit("work", "work", worker_port)
        api = Client(document, api_port, "API port", "serve")
        worker = Client(document, worker_port, "worker port", "work")

        service_routes(api, with_reactor_ping=False)
        service_routes(worker, with_reactor_ping=True)
        expect_error(worker.call("GET", "/conduit/webhooks/list", expect=404,
                                 query={"provider": "github"}), "route_not_found")
        edge_answers(api, MAX_BODY_BYTES)
        edge_answers(worker, 1024)
        secret = hook_routes(api)
        deliveries = payload_routes(api, secret)
        server_busy(api)
        if "/metrics" in document.paths:
            metrics_routes(api)
            metrics_routes(worker)
        if "/conduit/ui/" in document.paths:
            ui_routes(api)
        extra_routes(document, api, site, deliveries, secret)

        other_server(document, site, secret)

        # Redis gone: readiness and the routes that need it answer 503 redis_unavailable.
        site.stop(site.redis)
        expect_error(api.call("GET", "/conduit/ready", expect=503), "redis_unavailable")
        expect_error(worker.call("GET", "/conduit/ready", expect=503), "redis_unavailable")
        expect_error(api.call("GET", "/conduit/webhooks/list", expect=503, token=ADMIN_TOKEN,
                              query={"provider": "github"}), "redis_unavailable")
        coverage(document)
    finally:
        site.close()


def record(api, delivery, **query):
    return api.call("GET", f"/conduit/deliveries/github/payments-service/{delivery}",
                    token=ADMIN_TOKEN, expect=200, query=query).json["data"]


def wait_status(api, delivery, status):
    last = {}

    def reached():
        last.update(record(api, delivery))
        return last["status"] == status

    deadline = time.monotonic() + 60
    while not reached():
        if time.monotonic() > deadline:
            fail(f"delivery {delivery} is not {status} after 60 s: {json.dumps(last)}")
        time.sleep(0.1)


def delivery_routes(api, site, hooks, deliveries):
    """The delivery log: listing, its filters, one record, replays, refused requests."""
    moved = deliveries["moved"]
    wait_status(api, moved, "done")
    wait_status(api, deliveries["ignored"], "ignored")
    done = record(api, moved, payload="true")
    if done["issues"] != ["SOC-1"] or "payload" not in done:
        fail(f"the record of the delivery that moved SOC-1: {done}")
    if "payload" in record(api, moved):
        fail("a record without payload=true has its payload")
    base = "/conduit/deliveries"
    listed = api.call("GET", base, token=ADMIN_TOKEN, expect=200).json["data"]
    if not listed["deliveries"]:
        fail("the delivery log is empty")
    accepted = done["accepted_at_ms"]
    found = api.call("GET", base, token=ADMIN_TOKEN, expect=200, query={
        "provider": "github", "repo_id": "payments-service", "status": "done",
        "kind": "pull_request.merged", "issue": "soc-1", "since": done["accepted_at"],
        "until": str(accepted), "limit": "1"}).json["data"]
    if [r["delivery"] for r in found["deliveries"]] != [moved]:
        fail(f"the filters did not find the delivery that moved SOC-1: {found}")
    first = api.call("GET", base, token=ADMIN_TOKEN, expect=200, query={"limit": "1"})
    cursor = first.json["data"]["next_cursor"]
    if cursor:
        api.call("GET", base, token=ADMIN_TOKEN, expect=200,
                 query={"limit": "1", "cursor": cursor}, about="the next page")
    for name, value in [("limit", "0"), ("limit", "501"), ("limit", "ten"),
                        ("since", "yesterday"), ("until", "2026-13-45T00:00:00Z"),
                        ("status", "lost"), ("issue", "not an issue"), ("cursor", "a b"),
                        ("repo_id", "no spaces")]:
        expect_error(api.call("GET", base, token=ADMIN_TOKEN, expect=400, query={name: value},
                              about=f"{name}={value}"), "invalid_field", name)
    expect_error(api.call("GET", base, token=ADMIN_TOKEN, expect=400,
                          query={"since": str(accepted + 1), "until": str(accepted)}),
                 "invalid_field", "until")
    expect_error(api.call("GET", base, token=ADMIN_TOKEN, expect=400,
                          query={"provider": "svn"}), "unknown_provider", "provider")
    expect_error(api.call("GET", base, expect=401), "unauthorized")

    one = f"{base}/github/payments-service/{moved}"
    expect_error(api.call("GET", one, token=ADMIN_TOKEN, expect=400,
                          query={"payload": "maybe"}), "invalid_field", "payload")
    expect_error(api.call("POST", f"{one}/replay", token=ADMIN_TOKEN, expect=400,
                          query={"force": "yes"}), "invalid_field", "force")
    expect_error(api.call("GET", f"{base}/github/payments-service/nothing-like-it",
                          token=ADMIN_TOKEN, expect=404), "delivery_not_found")
    expect_error(api.call("GET", one, expect=401), "unauthorized")
    expect_error(api.call("POST", f"{one}/replay", token=ADMIN_TOKEN, expect=409),
                 "not_failed")
    expect_error(api.call("POST", f"{base}/github/payments-service/nothing-like-it/replay",
                          token=ADMIN_TOKEN, expect=404), "delivery_not_found")
    expect_error(api.call("POST", f"{one}/replay", expect=401), "unauthorized")
    replayed = api.call("POST", f"{one}/replay", token=ADMIN_TOKEN, expect=202,
                        query={"force": "true"}).json["data"]
    if replayed["delivery"] != moved:
        fail(f"replay: {replayed}")
    wait_status(api, moved, "done")

    # With no worker running, a delivery stays queued: its replay is 409 delivery_in_progress.
    site.stop(site.worker)
    waiting = hooks.send(pull_request("SOC-7", number=7), expect=202, about="no worker")[0]
    expect_error(api.call("POST", f"{base}/github/payments-service/{waiting}/replay",
                          token=ADMIN_TOKEN, expect=409, query={"force": "true"}),
                 "delivery_in_progress")
    site.worker = site.conduit("work", "work-again", site.worker_port)
    wait_status(api, waiting, "done")

    refused = api.call("GET", f"{base}/refused", token=ADMIN_TOKEN, expect=200).json["data"]
    if not any(r["status"] == 401 for r in refused["refused"]):
        fail(f"the refused requests have none of the 401s: {refused}")
    expect_error(api.call("GET", f"{base}/refused", expect=401), "unauthorized")


def dead_letter(api, site, hooks, issue, number):
    """A delivery whose worker fails for good: Jira unreachable, past the retry schedule."""
    site.stop(site.simulator)
    delivery = hooks.send(pull_request(issue, number=number), expect=202,
                          about=f"{issue}, Jira down")[0]
    wait_status(api, delivery, "dead")
    site.simulator = site.start_simulator()
    return delivery


def dead_letter_routes(api, site, hooks):
    base = "/conduit/dead-letters"
    first = dead_letter(api, site, hooks, "SOC-4", 4)
    letters = api.call("GET", base, token=ADMIN_TOKEN, expect=200).json["data"]["dead_letters"]
    if first not in [letter["delivery"] for letter in letters]:
        fail(f"the dead letters lack {first}: {letters}")
    api.call("GET", base, token=ADMIN_TOKEN, expect=200, query={
        "provider": "github", "repo_id": "payments-service", "worker": "atlassian",
        "since": "1", "until": "2100-01-01T00:00:00+01:00", "limit": "500"})
    for name, value in [("limit", "0"), ("since", "soon")]:
        expect_error(api.call("GET", base, token=ADMIN_TOKEN, expect=400, query={name: value},
                              about=f"{name}={value}"), "invalid_field", name)
    expect_error(api.call("GET", base, expect=401), "unauthorized")

    replay = f"{base}/replay"
    key = {"provider": "github", "repo_id": "payments-service", "delivery": first}
    expect_error(api.call("POST", replay, token=ADMIN_TOKEN, expect=400, body="[]"),
                 "invalid_json")
    expect_error(api.call("POST", replay, token=ADMIN_TOKEN, expect=400,
                          body={"since": "soon"}), "invalid_field", "since")
    expect_error(api.call("POST", replay, token=ADMIN_TOKEN, expect=400,
                          body={"repo": "payments-service"}, about="a misspelt filter"),
                 "invalid_field", "repo")
    expect_error(api.call("POST", replay, token=ADMIN_TOKEN, expect=400,
                          body={"deliveries": [{"repo_id": "payments-service",
                                                "delivery": first}]}),
                 "missing_field", "deliveries[0].provider")
    expect_error(api.call("POST", replay, token=ADMIN_TOKEN, expect=413,
                          body={"deliveries": [key] * 2000}, about="a body over 64 KiB"),
                 "payload_too_large")
    expect_error(api.call("POST", replay, expect=401, body={}), "unauthorized")
    put_back = api.call("POST", replay, token=ADMIN_TOKEN, expect=202,
                        body={"deliveries": [key]}).json["data"]
    if put_back["replayed"] != 1:
        fail(f"dead-letter replay: {put_back}")
    wait_status(api, first, "done")
    api.call("POST", replay, token=ADMIN_TOKEN, expect=202, body={}, about="all of them")

    second = dead_letter(api, site, hooks, "SOC-5", 5)
    one = f"{base}/github/payments-service/{second}"
    expect_error(api.call("DELETE", one, expect=401), "unauthorized")
    api.call("DELETE", one, token=ADMIN_TOKEN, expect=204)
    expect_error(api.call("DELETE", one, token=ADMIN_TOKEN, expect=404),
                 "dead_letter_not_found")

    third = dead_letter(api, site, hooks, "SOC-6", 6)
    api.call("POST", f"/conduit/deliveries/github/payments-service/{third}/replay",
             token=ADMIN_TOKEN, expect=202, about="a dead delivery")
    wait_status(api, third, "done")


def ui_routes(api):
    """The web page: its files, the sign-in, and its session opening the admin routes."""
    redirect = api.call("GET", "/conduit/ui", expect=308)
    if redirect.header("location") != "/conduit/ui/":
        fail(f"/conduit/ui redirects to {redirect.header('location')}")
    api.call("GET", "/conduit/ui/", expect=200)
    api.call("GET", "/conduit/ui/app.js", expect=200)
    api.call("GET", "/conduit/ui/app.css", expect=200)
    expect_error(api.call("GET", "/conduit/ui/secrets.txt", expect=404), "route_not_found")
    if api.call("GET", "/conduit/ui/session", expect=200).json["data"]["signed_in"]:
        fail("signed in without a session")
    expect_error(api.call("GET", "/conduit/ui/summary", expect=401), "unauthorized")

    login = "/conduit/ui/login"
    expect_error(api.call("POST", login, expect=401, body={"token": "not-the-admin-token"}),
                 "unauthorized")
    expect_error(api.call("POST", login, expect=413, body={"token": "x" * 9000}),
                 "payload_too_large")
    expect_error(api.call("POST", login, expect=403, body={"token": ADMIN_TOKEN},
                          headers={"Sec-Fetch-Site": "cross-site"}, about="from another site"),
                 "csrf_token_invalid")
    form = api.call("POST", login, expect=303, body=f"token={ADMIN_TOKEN}",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    if not (form.header("set-cookie") or "").startswith("conduit_session="):
        fail(f"a form sign-in without the session cookie: {form.headers}")
    signed = api.call("POST", login, expect=200, body={"token": ADMIN_TOKEN})
    cookie = signed.header("set-cookie").split(";")[0]
    csrf = signed.json["data"]["csrf_token"]
    session = {"Cookie": cookie}
    state = api.call("GET", "/conduit/ui/session", expect=200, headers=session).json["data"]
    if not state["signed_in"] or state["csrf_token"] != csrf:
        fail(f"the session after signing in: {state}")
    api.call("GET", "/conduit/ui/summary", expect=200, headers=session)
    api.call("GET", "/conduit/webhooks/list", expect=200, headers=session,
             query={"provider": "github"}, about="with the session cookie")
    expect_error(api.call("DELETE", "/conduit/webhooks/github/nobody", expect=403,
                          headers=session, about="the session without its CSRF token"),
                 "csrf_token_invalid")
    expect_error(api.call("DELETE", "/conduit/webhooks/github/nobody", expect=404,
                          headers=dict(session, **{"X-CSRF-Token": csrf}),
                          about="the session with its CSRF token"), "hook_not_found")
    expect_error(api.call("GET", "/conduit/webhooks/list", expect=403, token=ADMIN_TOKEN,
                          query={"provider": "github"}, headers={"Sec-Fetch-Site": "cross-site"},
                          about="from another site"), "csrf_token_invalid")
    expect_error(api.call("POST", "/conduit/ui/logout", expect=403, headers=session),
                 "csrf_token_invalid")
    api.call("POST", "/conduit/ui/logout", expect=204,
             headers=dict(session, **{"X-CSRF-Token": csrf}))


def other_server(document, site, secret):
    """A server with no admin_token, and a secret_key that cannot read the stored secrets."""
    port = free_port()
    site.conduit("serve", "serve-other", port, admin_token=None, metrics_token=None,
                 secret_key=OTHER_SECRET_KEY)
    other = Client(document, port, "API port without admin_token", "serve")
    other.call("GET", "/conduit/webhooks/list", expect=200, query={"provider": "github"},
               about="from loopback")
    expect_error(other.call("GET", "/conduit/webhooks/list", expect=401,
                            query={"provider": "github"}, headers={"X-Forwarded-For": "192.0.2.7"},
                            about="through a proxy"), "admin_loopback_only")
    expect_error(other.call("GET", "/conduit/ui/", expect=401,
                            headers={"X-Forwarded-For": "192.0.2.7"}, about="through a proxy"),
                 "admin_loopback_only")
    if other.call("POST", "/conduit/ui/login", expect=200,
                  body={}).json["data"]["csrf_token"] is not None:
        fail("a sign-in without admin_token made a session")
    expect_error(Deliverer(other, secret).send(pull_request("SOC-9"), expect=500,
                                               about="the secret sealed with another key")[1],
                 "hook_secret_unreadable")


def extra_routes(document, api, site, deliveries, secret):
    """The routes of issue 11: the delivery log, dead letters, refused requests, the page."""
    hooks = Deliverer(api, secret)
    if "/conduit/deliveries" in document.paths:
        delivery_routes(api, site, hooks, deliveries)
    if "/conduit/dead-letters" in document.paths:
        dead_letter_routes(api, site, hooks)


def coverage(document):
    """Every operation of the document was called, and answered 2xx or 3xx at least once."""
    missing = []
    for method, template, operation in document.operations():
        seen = document.seen.get((method, template), set())
        if "serve" not in operation.get("x-conduit-served-by", []) and \
                "work" not in operation.get("x-conduit-served-by", []):
            continue
        if not any(200 <= status < 400 for status in seen):
            missing.append(f"{method} {template} (answers seen: {sorted(seen) or 'none'})")
    if missing:
        fail("operations of docs/openapi.yaml that the test never saw succeed:\n  " +
             "\n  ".join(missing))
    calls = sum(len(s) for s in document.seen.values())
    print(f"{len(document.seen)} operations, {calls} distinct answers, all as documented")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["lint", "routes", "answers"])
    parser.add_argument("--source", required=True, help="the source checkout")
    parser.add_argument("--work-dir", required=True, help="a folder of the build for npm")
    parser.add_argument("--conduit", help="the conduit binary")
    parser.add_argument("--simulator", help="the conduit-jira-simulator binary")
    parser.add_argument("--plugin-dir", help="the folder of the built plugins")
    args = parser.parse_args()
    for name in ("source", "work_dir", "conduit", "simulator", "plugin_dir"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    {"lint": lint, "routes": routes, "answers": answers}[args.mode](args)


if __name__ == "__main__":
    main()
