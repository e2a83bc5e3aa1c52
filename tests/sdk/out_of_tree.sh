#!/usr/bin/env bash
# Proves the installed SDK on every run: installs this build's SDK into a temporary prefix, then
# builds examples/hello-processor against that prefix alone (find_package(ConduitSDK)), runs its
# test, installs the plugin, checks that the package's version is the ABI's (1.0 found, 2
# refused) and checks the pkg-config module.
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

# The package's version is the ABI's, as plugin.h says it: a plugin written for ABI 1.0 finds it,
# one that asks for major 2 (whose entry point would be conduit_plugin_entry_v2) does not.
abi=$(sed -n 's/^#define CONDUIT_ABI_\(MAJOR\|MINOR\) \([0-9]*\)$/\2/p' \
  "$work/prefix/include/conduit/plugin.h" | paste -sd.)
mkdir -p "$work/probe"
cat >"$work/probe/CMakeLists.txt" <<'PROBE'
cmake_minimum_required(VERSION 3.16)
project(probe NONE)
find_package(ConduitSDK ${ASK} QUIET)
message(STATUS "asked ${ASK}: found=${ConduitSDK_FOUND} version=${ConduitSDK_VERSION}")
PROBE
probe() {
  rm -rf "$work/probe/build"
  cmake -S "$work/probe" -B "$work/probe/build" -DASK="$1" -DCMAKE_PREFIX_PATH="$work/prefix" |
    sed -n 's/^-- asked //p'
}
[ "$(probe 1.0)" = "1.0: found=1 version=$abi" ] || { echo "ConduitSDK 1.0: $(probe 1.0) (ABI $abi)"; exit 1; }
[ "$(probe "$abi")" = "$abi: found=1 version=$abi" ] || { echo "ConduitSDK $abi: $(probe "$abi")"; exit 1; }
case "$(probe 2)" in
  "2: found=0 "*) ;;
  *) echo "ConduitSDK 2 was found: $(probe 2)"; exit 1 ;;
esac

pc_dir=$(dirname "$(find "$work/prefix" -name conduit-sdk.pc | head -1)")
cflags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags conduit-sdk | xargs)
[ "$(realpath "${cflags#-I}")" = "$(realpath "$work/prefix/include")" ] || { echo "pkg-config cflags: $cflags"; exit 1; }
pc_version=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --modversion conduit-sdk)
[ "$pc_version" = "$abi" ] || { echo "pkg-config version: $pc_version, not the ABI's $abi"; exit 1; }
echo "out-of-tree plugin build against the installed SDK: ok"
