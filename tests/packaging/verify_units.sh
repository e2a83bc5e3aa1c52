#!/usr/bin/env bash
# The systemd units, as systemd-analyze verify judges them: syntax, directives, and that
# ExecStart runs an executable. They name /usr/bin/conduit, where the package installs it; here
# they are checked against the binary just built. Any complaint at all fails the test.
#
# usage: verify_units.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(cd "$1" && pwd)
source=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for unit in "$source"/packaging/systemd/*.service; do
  name=$(basename "$unit")
  # A template is verified through one of its instances.
  [ "$name" = "conduit-worker@.service" ] && name="conduit-worker@9093.service"
  sed "s|/usr/bin/conduit|$build/core/conduit|" "$unit" >"$work/$name"
done

status=0
for unit in "$work"/*.service; do
  if ! systemd-analyze verify --man=no "$unit" 2>"$work/complaints" || [ -s "$work/complaints" ]; then
    echo "$(basename "$unit"):" >&2
    cat "$work/complaints" >&2
    status=1
  else
    echo "$(basename "$unit"): ok"
  fi
done
exit $status
