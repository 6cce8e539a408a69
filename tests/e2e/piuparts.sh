#!/bin/bash
# piuparts for cts-server (opt-in; not part of tests/e2e/run.sh because it downloads and installs
# the whole dependency stack twice, ~10 minutes on 2 cores):
#
#   tests/e2e/piuparts.sh [--previous PREVIOUS.deb] NEW.deb...
#
# Install/purge test of the package set NEW.deb... (the common package and its Python
# dependencies package, installed together) in a fresh chroot (piuparts' own policy-rc.d: no
# service starts, so cts-server's postinst must configure with everything deferred; piuparts
# purges the dependencies before the package). With --previous, that version is served from a
# local repository (a bind-mounted directory with a Packages file) and piuparts also tests the
# upgrade PREVIOUS -> the set: it installs from the repository what apt knows of the set's names
# (cts-server, from before the split), then the set. The base chroot is the e2e harness's cached
# debootstrap tarball (lib.sh), repacked as .tgz; the mirror is the one lib.sh reads from the
# host's apt sources. Prints piuparts' verdict line; exit status is piuparts'.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

prev=""
if [ "${1:-}" = --previous ]; then prev=$(readlink -f "$2"); shift 2; fi
[ $# -gt 0 ] || e2e_die "usage: piuparts.sh [--previous PREVIOUS.deb] NEW.deb..."
new=()
for f in "$@"; do new+=("$(readlink -f "$f")"); done
command -v piuparts >/dev/null || e2e_die "piuparts is not installed (apt-get install piuparts)"
zst="$E2E_CACHE/base-$E2E_SUITE-minbase.tar.zst"
tgz="$E2E_CACHE/piuparts-base-$E2E_SUITE.tgz"
[ -s "$zst" ] || e2e_die "no cached base $zst: run tests/e2e/run.sh once"
if [ ! -s "$tgz" ] || [ "$zst" -nt "$tgz" ]; then
    zstd -dc "$zst" | gzip -1 >"$tgz.tmp" && mv "$tgz.tmp" "$tgz"
fi
mirror=$(e2e_mirror)
args=(-b "$tgz" -m "$mirror main" -d "$E2E_SUITE" --no-eatmydata)
# What Debian 13's dependencies leave behind that the host's piuparts (1.1, Debian 12) does not
# know yet: systemd's DynamicUser directories and its tmpfiles' /root/.ssh and /etc/vconsole.conf
# link, and debconf's temporary directory. None is created by cts-server.
case "$E2E_SUITE" in
    bookworm) ;;
    *) for p in /etc/vconsole.conf /root/.ssh/ /var/cache/debconf/tmp.ci/ /var/cache/private/ \
            /var/lib/private/ /var/log/private/; do
           args+=(-i "$p")
       done ;;
esac
repo=""
if [ -n "$prev" ]; then
    repo=$(mktemp -d /tmp/cts-piuparts-repo.XXXXXX)
    chmod 755 "$repo"
    cp "$prev" "$repo/"
    (cd "$repo" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null)
    args+=(--bindmount "$repo" --extra-repo "deb [trusted=yes] file://$repo ./")
else
    args+=(--no-upgrade-test)
fi
log=$(mktemp /tmp/cts-piuparts.XXXXXX.log)
rc=0
piuparts "${args[@]}" -l "$log" "${new[@]}" >/dev/null 2>&1 || rc=$?
grep -E '^[0-9:]+ (ERROR|FAIL)' "$log" | head -20 >&2 || true
grep -E 'PASS:|FAIL:' "$log" | tail -1 || tail -3 "$log"
echo "piuparts log: $log"
[ -z "$repo" ] || rm -rf "$repo"
exit $rc
