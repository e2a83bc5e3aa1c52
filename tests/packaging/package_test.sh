#!/usr/bin/env bash
# The Debian packages as a user meets them, in a throwaway Debian 12 root made with debootstrap
# (no container engine here; a chroot has no running systemd, like a container):
#   dpkg -i the three packages, then apt-get -f install for what they depend on;
#   conduit plugins lists jira; conduit check accepts the shipped configuration; the generated
#   secrets, the spool folder and the config's permissions are right; the example processor builds against the
#   installed SDK alone; dpkg --remove keeps /etc/conduit and dpkg --purge removes it.
#
# usage: package_test.sh OUT_DIR SOURCE_DIR   (make package-test builds the packages first)
# env:   CONDUIT_DEBIAN_MIRROR: a site's own Debian mirror, for debootstrap and for apt in the
#        root; unset, both use their own default
#        CONDUIT_PACKAGE_TEST_CACHE (default /var/cache/conduit-package-test): the base system
#        is downloaded once and kept there as a tarball
set -euo pipefail

out=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
# debootstrap takes the mirror as its optional last argument, and writes the root's
# sources.list from it (or from its own default).
mirror=()
[ -n "${CONDUIT_DEBIAN_MIRROR:-}" ] && mirror=("$CONDUIT_DEBIAN_MIRROR")
cache=${CONDUIT_PACKAGE_TEST_CACHE:-/var/cache/conduit-package-test}
[ "$(id -u)" -eq 0 ] || { echo "package_test.sh needs root (debootstrap, chroot)" >&2; exit 1; }
ls "$out"/conduit_*.deb "$out"/conduit-plugin-jira_*.deb "$out"/conduit-sdk-dev_*.deb >/dev/null

root=$(mktemp -d /tmp/conduit-package-root.XXXXXX)
cleanup() {
  for mount in dev/pts dev proc; do umount "$root/$mount" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

step() { echo "--- $*"; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "a Debian 12 root"
mkdir -p "$cache"
tarball="$cache/bookworm-minbase.tgz"
if [ ! -f "$tarball" ]; then
  debootstrap --variant=minbase --make-tarball="$tarball" bookworm "$root/make" "${mirror[@]}" \
    >/dev/null
  rm -rf "$root/make"
fi
debootstrap --variant=minbase --unpack-tarball="$tarball" bookworm "$root" "${mirror[@]}" >/dev/null
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ ${#mirror[@]} -gt 0 ]; then
  echo "deb ${mirror[0]} bookworm main" >"$root/etc/apt/sources.list"
fi
[ -s "$root/etc/apt/sources.list" ] ||
  fail "debootstrap left the root no sources.list: set CONDUIT_DEBIAN_MIRROR"
# As in a container: no service starts during the installation.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d"
in_root apt-get update -qq >/dev/null

step "dpkg -i, then apt-get -f install"
cp "$out"/conduit_*.deb "$out"/conduit-plugin-jira_*.deb "$out"/conduit-sdk-dev_*.deb "$root/tmp/"
in_root sh -c 'dpkg -i /tmp/*.deb' >/dev/null 2>&1 || true  # its Depends are not there yet
in_root env DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq >/dev/null
in_root dpkg -s conduit conduit-plugin-jira conduit-sdk-dev | grep -q "Status: install ok installed" ||
  fail "the packages are not installed"

step "conduit plugins lists jira"
in_root conduit plugins | tee "$root/tmp/plugins.txt"
grep -Eq '^  jira +[0-9.]+ +ABI 1\.' "$root/tmp/plugins.txt" || fail "jira is not listed"

step "conduit check accepts the shipped configuration"
in_root sh -c 'cd / && conduit check' || fail "conduit check refused /etc/conduit"

step "the service's user, secrets and permissions"
in_root getent passwd conduit >/dev/null || fail "no user conduit"
# Names as the root knows them: its ids mean other names on this machine.
mode=$(in_root stat -c '%a %U:%G' /etc/conduit/app.env)
[ "$mode" = "640 root:conduit" ] || fail "app.env is $mode, not 640 root:conduit"
[ "$(in_root stat -c '%a %U' /etc/conduit/credentials/secret_key)" = "600 root" ] ||
  fail "secret_key is not 0600 root"
[ "$(wc -c <"$root/etc/conduit/credentials/secret_key")" = 64 ] || fail "secret_key is not 32 bytes in hex"
[ "$(stat -c '%a' "$root/usr/lib/conduit/plugins/jira.so")" = 644 ] || fail "jira.so mode"
[ "$(in_root stat -c '%a %U:%G' /var/lib/conduit/spool)" = "750 conduit:conduit" ] ||
  fail "/var/lib/conduit/spool is not 750 conduit:conduit"
grep -qx 'spool_dir=/var/lib/conduit/spool' "$root/etc/conduit/app.env" ||
  fail "the shipped app.env does not set spool_dir=/var/lib/conduit/spool"

step "installing again (an upgrade) keeps the secrets and an administrator's permissions"
key_before=$(cat "$root/etc/conduit/credentials/secret_key")
in_root chmod 0600 /etc/conduit/workers.yaml
in_root sh -c 'dpkg -i /tmp/conduit_*.deb' >/dev/null
[ "$(cat "$root/etc/conduit/credentials/secret_key")" = "$key_before" ] || fail "secret_key changed"
[ "$(in_root stat -c '%a' /etc/conduit/workers.yaml)" = 600 ] || fail "workers.yaml mode was reset"

step "the example processor builds against the installed SDK alone"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  cmake make g++ >/dev/null
cp -r "$source/examples/hello-processor" "$root/tmp/hello"
in_root sh -c 'cmake -S /tmp/hello -B /tmp/hello/build >/dev/null &&
  cmake --build /tmp/hello/build >/dev/null && ctest --test-dir /tmp/hello/build --output-on-failure'
[ -f "$root/tmp/hello/build/hello.so" ] || fail "hello.so was not built"

step "dpkg --remove keeps the configuration; dpkg --purge removes it"
in_root dpkg --remove conduit-plugin-jira conduit-sdk-dev conduit >/dev/null
[ ! -e "$root/usr/bin/conduit" ] || fail "/usr/bin/conduit is still there"
[ -f "$root/etc/conduit/app.env" ] || fail "remove took /etc/conduit/app.env"
in_root dpkg --purge conduit >/dev/null
[ ! -e "$root/etc/conduit" ] || fail "purge left /etc/conduit: $(find "$root/etc/conduit")"
[ ! -e "$root/var/lib/conduit" ] || fail "purge left /var/lib/conduit"

echo "package test: all passed"
