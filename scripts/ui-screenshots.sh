#!/usr/bin/env bash
# Takes fresh screenshots of the web page for the documentation: runs the browser test
# (tests/ui/browser_test.py, headless chromium against a real `conduit run`) and copies what it
# saved to docs/images/.
#
# usage: scripts/ui-screenshots.sh [BUILD_DIR]      (default build; build it first)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
ctest --test-dir "$root/$build" -R '^ui: the web page in a real browser' --output-on-failure
cp "$root/$build"/ui-screenshots/ui-*.png "$root/docs/images/"
ls -l "$root"/docs/images/ui-*.png
