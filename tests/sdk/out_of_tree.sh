#!/usr/bin/env bash
# Proves the installed SDK on every run: installs this build's SDK into a temporary prefix, then
# builds examples/hello-processor against that prefix alone (find_package(ConduitSDK)), runs its
# test, installs the plugin, and checks the pkg-config module.
# usage: out_of_tree.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" --component sdk >/dev/null
cmake -S "$source/examples/hello-processor" -B "$work/build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
ctest --test-dir "$work/build" --output-on-failure
cmake --install "$work/build" >/dev/null

test -f "$work/prefix/include/conduit/plugin.h" || { echo "no installed plugin.h"; exit 1; }
test -f "$work/prefix/lib/conduit/plugins/hello.so" || { echo "hello.so not installed"; exit 1; }
# The plugin exports its entry point and nothing else: no SDK function, vtable or typeinfo.
exported=$(nm -D --defined-only "$work/prefix/lib/conduit/plugins/hello.so" | awk '{print $3}' |
  grep -vxE '_init|_fini' | sort | xargs)
[ "$exported" = "conduit_plugin_entry_v1" ] || { echo "hello.so exports: $exported"; exit 1; }

pc_dir=$(dirname "$(find "$work/prefix" -name conduit-sdk.pc | head -1)")
cflags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags conduit-sdk | xargs)
[ "$(realpath "${cflags#-I}")" = "$(realpath "$work/prefix/include")" ] || { echo "pkg-config cflags: $cflags"; exit 1; }
echo "out-of-tree plugin build against the installed SDK: ok"
