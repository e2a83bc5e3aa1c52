#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing Conduit need, when any is
# missing. `make run` and `make test` call it first, so a fresh machine needs nothing else.
set -euo pipefail

# Every program that the build, the tests (`make test`), `make run` and the examples run is
# here, beside what a Debian 12 machine has before anything is installed (coreutils, grep, sed,
# mawk, findutils, mount, util-linux's flock, setsid and unshare). `dpkg -S $(command -v TOOL)`
# names a tool's package; keep this list in step when a test or script runs a new program.
packages=(
  # build: compilers, cmake and ctest, nm and pkg-config (the SDK test), clang-format
  g++ binutils cmake make pkg-config clang-format
  libpistache-dev libhiredis-dev rapidjson-dev libssl-dev
  libboost-dev libboost-filesystem-dev libcpp-httplib-dev
  libfmt-dev libspdlog-dev libyaml-cpp-dev doctest-dev libsystemd-dev
  # tests and `make run`: redis-server, redis-cli, openssl (secret_key); systemd-analyze (the
  # units' test); curl and python3 (examples/send-sample.sh); promtool (the metrics' and the
  # alert rules' tests)
  redis-server redis-tools openssl systemd curl python3 prometheus
  # tests/openapi: python3 with PyYAML and jsonschema checks the answers against
  # docs/openapi.yaml; node and npm install and run Redocly's CLI, its lint (Debian 12 packages
  # no OpenAPI 3.1 validator)
  python3-yaml python3-jsonschema nodejs
  # the web page's browser test (tests/ui/browser_test.py): headless chromium, driven through its
  # DevTools protocol by python3 with python3-websocket
  chromium python3-websocket
)
# A nodejs from elsewhere (NodeSource's) brings its own npm, which Debian's npm would clash with.
command -v npm >/dev/null || packages+=(npm)
# The benchmark scripts and bench/chaos.sh drive Conduit with these (curl and python3 are in the
# list above already).
[ "${1:-}" = "--bench" ] && packages+=(wrk)
# `make package` and `make package-test`: dpkg-shlibdeps works out the packages' Depends, from
# the files that cpack's `file` finds to be ELF objects; debootstrap makes the test's Debian root.
[ "${1:-}" = "--package" ] && packages+=(dpkg-dev file debootstrap)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "These packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
