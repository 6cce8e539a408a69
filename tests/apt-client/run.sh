#!/bin/bash
# The real apt client against a repository published by cts-deb (issue 5, step 7).
#
#   tests/apt-client/run.sh
#
# Builds cts-server N, N+1 and N+2 with target/release/cts-deb (run `cargo build --release`
# first; CTS_DEB=PATH overrides the binary), creates a signed repository on the host with
# `cts-deb repo init --generate-key` + `cts-deb publish`, and serves it with python3's
# http.server bound to 127.0.0.1 *inside* a chroot of $CTS_E2E_SUITE (bookworm or trixie) in a network namespace that has
# only loopback (the e2e harness, tests/e2e/lib.sh, with its cached root that already holds the
# package's Depends). Each release is the package set (cts-server and its Python dependencies
# package). apt inside the chroot then: updates, installs N, upgrades to N+1 (application code
# only: apt's "Need to get" must be <= 200 kB), must refuse a tampered index, an unsigned
# repository and a repository signed with another key while the candidate stays N+1, then
# upgrades to N+2 (one requirement changed: the new dependencies package is downloaded, the old
# one goes with autoremove). Needs root, debootstrap, zstd, iproute2, gpg, xz, gzip.
#
# Prints "PASS <check>" / "FAIL <check>", quotes apt's output, then "N passed, M failed";
# exits 1 on any failure. Environment: lib.sh's CTS_E2E_CACHE, CTS_E2E_WORK, CTS_E2E_MIRROR,
# CTS_E2E_REFRESH; CTS_APT_PORT (port inside the namespace) [8080].
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../e2e/lib.sh
. "$REPO/tests/e2e/lib.sh"
# shellcheck source=../e2e/checks.sh
. "$REPO/tests/e2e/checks.sh"

# shellcheck disable=SC2034 # read by summary() (checks.sh)
T0=$(date +%s)
PORT=${CTS_APT_PORT:-8080}
SUITE=prod
ARCH=amd64
URI="http://127.0.0.1:$PORT/cts/"  # /cts is a symlink in the served tree: we swap what it points at
TMP=""                              # host side: debs, keys, served tree (bind-mounted read-only)
SERVER_PID=""
APTLOG=""


cts_deb_bin() {
    if [ -n "${CTS_DEB:-}" ]; then printf '%s\n' "$CTS_DEB"; return; fi
    local t=${CARGO_TARGET_DIR:-$REPO/target}/release/cts-deb
    [ -x "$t" ] || t=$REPO/target/release/cts-deb
    printf '%s\n' "$t"
}
CTS_DEB_BIN=$(cts_deb_bin)
cts_deb() { "$CTS_DEB_BIN" "$@"; }


next_version() { # V K: the revision + K when it is numeric (1.0.0-1 -> 1.0.0-2), else V+aptK
    local v=$1 k=$2
    case "$v" in
        *-*) local up=${v%-*} rev=${v##*-}
             case "$rev" in *[!0-9]* | '') printf '%s+apt%s\n' "$v" "$k" ;; *) printf '%s-%s\n' "$up" $((rev + k)) ;; esac ;;
        *) printf '%s+apt%s\n' "$v" "$k" ;;
    esac
}

build_set() { # build_set OUTDIR VERSION CONFIG: prints the set's paths, cts-server first
    local out=$1 v=$2 cfg=$3
    [ -f "$cfg" ] || e2e_die "build_set: no config '$cfg'"
    mkdir -p "$out"
    (cd "$REPO" && cts_deb build -q --target "$E2E_SUITE" --out "$out" ${v:+--version "$v"} --config "$cfg") \
        || e2e_die "cts-deb build ${v:-(default version)} for $E2E_SUITE failed"
}

# A pin of sqlparse other than the reference requirements' (Django accepts both): release N+2
# changes this one requirement.
SQLPARSE_BUMP='sqlparse==0.5.3 --hash=sha256:cf2196ed3418f3ba5de6af7e82c694a9fbdbfecccdfc72e281548517081f16ca'

# config DIR APP-CHANGE REQUIREMENTS-CHANGE: the reference config with its own copy of the app (a
# module added when APP-CHANGE is 1) and of the requirements (sqlparse re-pinned when
# REQUIREMENTS-CHANGE is 1) in DIR; prints the config's path
config() {
    local dir=$1
    mkdir -p "$dir"
    cp -a "$REPO/examples/cts-app" "$dir/cts-app"
    cp "$REPO/examples/cts.toml" "$dir/cts.toml"
    [ "$2" = 0 ] || echo 'RELEASE = "N+1"  # an application-only change' >"$dir/cts-app/cts/release.py"
    if [ "$3" = 1 ]; then
        grep -q '^sqlparse==' "$dir/cts-app/requirements.txt" || e2e_die "no sqlparse pin to change"
        awk -v pin="$SQLPARSE_BUMP" '/^sqlparse==/ {print pin; skip = 1; next}
            skip && /^ /  {next} {skip = 0; print}' "$REPO/examples/cts-app/requirements.txt" \
            >"$dir/cts-app/requirements.txt"
    fi
    echo "$dir/cts.toml"
}

# need_to_get: apt's "Need to get X of archives" figure from $APTLOG, as apt wrote it (49.3 kB)
need_to_get() { sed -n 's/^Need to get \([0-9.,]* [kMG]\?B\).*/\1/p' "$APTLOG" | head -1; }
# in_bytes FIGURE: apt's figure in bytes (kB, MB and GB as apt means them: powers of 1000)
in_bytes() {
    echo "$1" | tr -d , | awk '{m = 1} $2 == "kB" {m = 1e3} $2 == "MB" {m = 1e6}
        $2 == "GB" {m = 1e9} NF {printf "%d\n", $1 * m}'
}

# Teardown: stop the server by its PID, then the harness (processes rooted in the chroot,
# mounts in reverse order, netns, chroot tree), then our host directory. Also the EXIT trap.
apt_teardown() {
    set +e
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    fi
    (e2e_teardown) # exits its subshell; idempotent
    [ -z "$TMP" ] || rm -rf "$TMP"
    # shellcheck disable=SC2034 # lib.sh's list of mounts: all undone by the teardown above
    E2E_MOUNTS=()
}
on_exit() {
    local rc=$?
    trap - EXIT
    if [ -n "$E2E_ROOT$TMP" ]; then apt_teardown; fi
    exit "$rc"
}

# apt inside the namespace; output to $APTLOG; returns apt's status
apt_in() {
    e2e_in apt-get -o Dpkg::Use-Pty=0 "$@" </dev/null >"$APTLOG" 2>&1
}
candidate() { e2e_in apt-cache policy cts-server 2>/dev/null | awk '/Candidate:/ {print $2}'; }
installed() { e2e_in dpkg-query -W -f '${Version} ${Status}\n' cts-server 2>/dev/null; }

# tamper_indices DIR FROM TO MODE: in the repository copy DIR, "Version: FROM" -> "Version: TO"
# in Packages, the (untouched, validly signed) InRelease left as it is. MODE all: every variant
# (Packages, .gz, .xz) rewritten at its canonical path and at the by-hash paths InRelease names
# for it; MODE plain-only: Packages rewritten so, .gz and .xz deleted (apt falls back to Packages).
tamper_indices() {
    local root=$1 from=$2 to=$3 mode=$4 d rel work v algo old
    d=$root/dists/$SUITE/main/binary-$ARCH
    rel=$root/dists/$SUITE/Release
    work=$(mktemp -d "$TMP/tamper.XXXXXX")
    sed "s/^Version: $from\$/Version: $to/" "$d/Packages" >"$work/Packages"
    cmp -s "$d/Packages" "$work/Packages" && { note "nothing to tamper: no Version: $from"; return 1; }
    gzip -9n <"$work/Packages" >"$work/Packages.gz"
    xz -6 <"$work/Packages" >"$work/Packages.xz"
    for v in Packages Packages.gz Packages.xz; do
        rm -f "$d/$v"
        [ "$mode" = all ] || [ "$v" = Packages ] && cp "$work/$v" "$d/$v"
        for algo in SHA256 SHA512; do
            old=$(awk -v a="$algo:" -v p="main/binary-$ARCH/$v" \
                '$0 == a {s = 1; next} /^[^ ]/ {s = 0} s && $3 == p {print $1}' "$rel")
            [ -n "$old" ] || { note "$v: no $algo in Release"; return 1; }
            rm -f "$d/by-hash/$algo/$old"
            [ "$mode" = all ] || [ "$v" = Packages ] && cp "$work/$v" "$d/by-hash/$algo/$old"
        done
    done
    rm -rf "$work"
}

serve() { # serve NAME: what /cts points at (a directory of the served tree)
    ln -sfn "$1" "$TMP/www/cts.new" && mv -T "$TMP/www/cts.new" "$TMP/www/cts"
}

# --- checks -------------------------------------------------------------------------------------

chk_netns_loopback() {
    local links listen
    links=$(ip -n "$E2E_NS" -o link | awk -F': ' '{print $2}' | tr '\n' ' ')
    [ "$links" = "lo " ] || { note "links in the namespace: $links"; return 1; }
    listen=$(ip netns exec "$E2E_NS" ss -Hltn | awk '{print $4}' | tr '\n' ' ')
    [ "$listen" = "127.0.0.1:$PORT " ] || { note "listening sockets in the namespace: $listen"; return 1; }
    note "namespace $E2E_NS: links: $links; listening: $listen"
}

chk_update_ok() { # after a good update: exit 0, no W:/E: line
    local rc=$1
    echo "--- apt-get update (exit $rc):"
    quote <"$APTLOG"
    [ "$rc" = 0 ] || return 1
    ! grep -qE '^(W|E|Err):' "$APTLOG" || { note "warnings or errors above"; return 1; }
    grep -qF "${URI%/} $SUITE InRelease" "$APTLOG" || { note "InRelease not fetched from $URI"; return 1; }
}

# sqv, as apt 3.0 calls it (methods/sqv.cc): the release's default policy, first as of a year from
# now (apt warns when only that fails), on the detached Release.gpg and on InRelease split into its
# signed text and signature the way apt splits it (gpgv --output of the clearsigned text is what
# the signature covers; the signature block is the armored part)
chk_sqv() {
    local d=/srv/www/cts/dists/$SUITE key=/srv/www/cts/archive-key.asc ahead out rc=0 t
    ahead=$(date -u -d '+1 year' +%Y-%-m-%-d)
    t=$(e2e_in mktemp -d)
    e2e_in sh -c "sed -n '/^-----BEGIN PGP SIGNATURE-----/,\$p' $d/InRelease >$t/InRelease.sig &&
        sed -e '1,/^\$/d' -e '/^-----BEGIN PGP SIGNATURE-----/,\$d' -e 's/^- //' $d/InRelease | head -c -1 >$t/InRelease.data"
    for pair in "$d/Release.gpg $d/Release" "$t/InRelease.sig $t/InRelease.data"; do
        # shellcheck disable=SC2086
        out=$(e2e_in env SEQUOIA_CRYPTO_POLICY=/usr/share/apt/default-sequoia.config \
            sqv --keyring "$key" --policy-as-of "$ahead" $pair 2>&1) || rc=1
        echo "--- sqv $(e2e_in sqv --version 2>&1 | head -1) --policy-as-of $ahead ${pair##*/}: ${out:-no output} (exit ${rc})" | quote
    done
    e2e_in rm -rf "$t"
    [ "$rc" = 0 ]
}

chk_installed() { # VERSION
    local st
    st=$(installed)
    [ "$st" = "$1 install ok installed" ] || { note "dpkg-query: '$st', want '$1 install ok installed'"; return 1; }
}

# chk_refused RC WANT_RC PATTERN: the last update ended with status WANT_RC ("nonzero" or a
# number), its output matches PATTERN (ERE), and neither the candidate nor the installed version
# changed (every broken repository offers N+2, so an accepted index would change the candidate);
# with WANT_NO_SOURCE set, also no version from any repository at all
chk_refused() {
    local rc=$1 want=$2 pattern=$3 cand
    echo "--- apt-get update (exit $rc):"
    quote <"$APTLOG"
    case "$want" in
        nonzero) [ "$rc" != 0 ] || { note "apt-get update exited 0"; return 1; } ;;
        *) [ "$rc" = "$want" ] || { note "apt-get update exited $rc, want $want"; return 1; } ;;
    esac
    grep -qE "$pattern" "$APTLOG" || { note "no line matches /$pattern/"; return 1; }
    cand=$(candidate)
    [ "$cand" = "$WANT_CANDIDATE" ] || { note "candidate is now '$cand', want '$WANT_CANDIDATE'"; return 1; }
    note "candidate still '$cand'"
    if [ -n "$WANT_NO_SOURCE" ]; then # no repository version known at all (only dpkg's status)
        [ -z "$(e2e_in apt-cache madison cts-server 2>/dev/null)" ] \
            || { note "apt-cache madison: $(e2e_in apt-cache madison cts-server)"; return 1; }
        note "apt-cache madison cts-server: nothing (no source offers it)"
    fi
    chk_installed "$WANT_INSTALLED"
}

chk_teardown() {
    local root=$1 ns=$2 p r left="" problems=0
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$root" | "$root "*) left="$left ${p#/proc/}" ;; esac
    done
    [ -z "$left" ] || { note "processes left in the chroot:$left"; problems=1; }
    [ -z "$SERVER_PID" ] || ! kill -0 "$SERVER_PID" 2>/dev/null || { note "http server $SERVER_PID alive"; problems=1; }
    ! awk -v r="$root" 'index($2, r) == 1' /proc/mounts | grep -q . || { note "mounts left: $(awk -v r="$root" 'index($2, r) == 1 {print $2}' /proc/mounts)"; problems=1; }
    ! ip netns list | grep -qw "^$ns" || { note "netns $ns still exists"; problems=1; }
    [ ! -e "$root" ] || { note "chroot $root not removed"; problems=1; }
    [ ! -e "$3" ] || { note "host directory $3 not removed"; problems=1; }
    [ "$problems" = 0 ] && note "no process rooted in $root, no mount below it, netns $ns deleted, trees removed"
}

# --- main -----------------------------------------------------------------------------------------
main() {
    local rc deb0 deb1 deb2 key stanza root ns tmp
    [ -x "$CTS_DEB_BIN" ] || e2e_die "no $CTS_DEB_BIN: run 'cargo build --release' first (or set CTS_DEB)"
    for t in gpg xz gzip ss dpkg-deb; do command -v "$t" >/dev/null || e2e_die "missing tool: $t"; done

    e2e_init
    E2E_NS="cts-apt-$$"
    trap on_exit EXIT
    TMP=$(mktemp -d /tmp/cts-apt-client.XXXXXX)
    chmod 755 "$TMP"
    APTLOG=$TMP/apt.log
    mkdir -p "$TMP/www" "$TMP/keys"
    chmod 700 "$TMP/keys"

    e2e_log "building the cts-server sets N, N+1 (app code changed), N+2 (one requirement changed) with $CTS_DEB_BIN"
    local set0 set1 set2 deps0 deps2 cfg0 cfg1 cfg2
    cfg0=$(config "$TMP/cfg0" 0 0) && cfg1=$(config "$TMP/cfg1" 1 0) && cfg2=$(config "$TMP/cfg2" 1 1) \
        || e2e_die "could not write the three configs"
    set0=$(build_set "$TMP/debs0" "" "$cfg0") || e2e_die "building N failed"
    deb0=${set0%%$'\n'*}
    V0=$(dpkg-deb -f "$deb0" Version)
    local base=${V0%+deb*}    # the build appends the release's +debNN to the version it is given
    SFX=${V0#"$base"}
    set1=$(build_set "$TMP/debs1" "$(next_version "$base" 1)" "$cfg1") || e2e_die "building N+1 failed"
    set2=$(build_set "$TMP/debs2" "$(next_version "$base" 2)" "$cfg2") || e2e_die "building N+2 failed"
    deb1=${set1%%$'\n'*}
    deb2=${set2%%$'\n'*}
    V1=$(dpkg-deb -f "$deb1" Version)
    V2=$(dpkg-deb -f "$deb2" Version)
    deps0=$(dpkg-deb -f "${set0##*$'\n'}" Package)
    deps2=$(dpkg-deb -f "${set2##*$'\n'}" Package)
    [ "$(basename "${set0##*$'\n'}")" = "$(basename "${set1##*$'\n'}")" ] \
        && cmp -s "${set0##*$'\n'}" "${set1##*$'\n'}" && [ "$deps0" != "$deps2" ] \
        && pass "same-requirements-same-dependencies-package" \
        || fail "same-requirements-same-dependencies-package"
    note "N and N+1: $deps0; N+2: $deps2"
    echo "=== apt client test: cts-server N=$V0, N+1=$V1, N+2=$V2 ($(dpkg-deb -f "$deb0" Architecture)); repository $URI suite $SUITE"

    # shellcheck disable=SC2046 # one package name per word

    e2e_prepare_root $(deps_of "$deb0")
    e2e_enter
    e2e_policy 101   # no service is started by any maintainer script: this test is about apt
    [ ! -e "$E2E_ROOT/etc/apt/sources.list" ] \
        || mv "$E2E_ROOT/etc/apt/sources.list" "$E2E_ROOT/etc/apt/sources.list.mirror"   # only our source
    rm -f "$E2E_ROOT"/etc/apt/sources.list.d/*
    rm -rf "$E2E_ROOT"/var/lib/apt/lists/*
    # the served tree, read-only inside the chroot; the host publishes into it live
    _e2e_mount "$E2E_ROOT/srv/www" --bind "$TMP/www"
    mount -o remount,bind,ro "$E2E_ROOT/srv/www"

    # 1. repo init (Ed25519 key) + publish N, on the host
    key=$TMP/keys/archive-key.asc
    stanza=$TMP/cts.sources
    if cts_deb repo init --repo "$TMP/www/repo" --origin CTS --label "CTS apt-client test" --suite "$SUITE" \
        --architectures "$ARCH" --generate-key "$key" --uri "$URI" >"$stanza" 2>"$TMP/init.err" \
        && cts_deb publish --repo "$TMP/www/repo" --suite "$SUITE" --key "$key" $set0 >"$TMP/publish.err" 2>&1; then
        cat "$TMP/init.err" "$TMP/publish.err" | quote
        pass repo-init-publish-N
    else
        cat "$TMP/init.err" "$TMP/publish.err" | quote
        fail repo-init-publish-N
    fi
    serve repo
    echo "--- /etc/apt/sources.list.d/cts.sources, as printed by cts-deb repo init:"
    quote <"$stanza"
    install -m 644 "$stanza" "$E2E_ROOT/etc/apt/sources.list.d/cts.sources"

    # 2. the server: python3 http.server on 127.0.0.1 inside the namespace, by PID
    ip netns exec "$E2E_NS" chroot "$E2E_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        python3 -m http.server --bind 127.0.0.1 --directory /srv/www "$PORT" \
        </dev/null >"$TMP/http.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 50); do
        e2e_in curl -sf -o /dev/null "${URI}dists/$SUITE/InRelease" && break
        sleep 0.2
    done
    check netns-loopback-only-server chk_netns_loopback

    # 3. update + install N
    apt_in update; rc=$?
    check apt-update-signed-repo chk_update_ok $rc
    if [ "$E2E_SUITE" != bookworm ]; then   # apt >= 3.0 verifies with sqv (bookworm: gpgv)
        check sqv-accepts-published-signatures chk_sqv
    fi
    apt_in install -y cts-server; rc=$?
    echo "--- apt-get install -y cts-server (exit $rc):"
    quote <"$APTLOG"
    if [ $rc = 0 ] && grep -qF "${URI%/} $SUITE/main $ARCH cts-server $(dpkg-deb -f "$deb0" Architecture) $V0 [" "$APTLOG" \
        && chk_installed "$V0"; then
        pass "install-N-$V0"
    else
        fail "install-N-$V0"
    fi

    # 4. publish N+1 (live; its dependencies package is N's, byte for byte: a no-op), update + upgrade
    cts_deb publish --repo "$TMP/www/repo" --suite "$SUITE" --key "$key" $set1 2>&1 | quote
    apt_in update; rc=$?
    check apt-update-after-publish chk_update_ok $rc
    [ "$(candidate)" = "$V1" ] || note "candidate after update: $(candidate)"
    apt_in upgrade -y; rc=$?
    echo "--- apt-get upgrade -y (exit $rc):"
    quote <"$APTLOG"
    if [ $rc = 0 ] && grep -qF "${URI%/} $SUITE/main $ARCH cts-server $(dpkg-deb -f "$deb1" Architecture) $V1 [" "$APTLOG" \
        && grep -qF "Unpacking cts-server ($V1) over ($V0)" "$APTLOG" \
        && chk_installed "$V1"; then
        pass "upgrade-N+1-$V1"
    else
        fail "upgrade-N+1-$V1"
    fi
    local bytes
    NEED_TO_GET=$(need_to_get)
    bytes=$(in_bytes "$NEED_TO_GET")
    echo "NEED-TO-GET (N -> N+1, application code only): $NEED_TO_GET ($bytes bytes; the set N is $(cat $set0 | wc -c) bytes)"
    if [ -n "$bytes" ] && [ "$bytes" -le 200000 ] && ! grep -q "Get:.* $deps0 " "$APTLOG"; then
        pass "app-only-upgrade-downloads-at-most-200kB"
    else
        fail "app-only-upgrade-downloads-at-most-200kB"
    fi

    # N+2 goes into the real repository, but the client only sees broken copies of it first:
    # each refusal must leave the candidate at N+1.
    cts_deb publish --repo "$TMP/www/repo" --suite "$SUITE" --key "$key" $set2 2>&1 | quote

    WANT_INSTALLED=$V1
    # 5a. Packages changed after signing: every variant rewritten (canonical and by-hash paths)
    WANT_CANDIDATE=$V1
    local V9
    V9=$(next_version "$base" 8)$SFX
    cp -a "$TMP/www/repo" "$TMP/www/tampered"
    if tamper_indices "$TMP/www/tampered" "$V2" "$V9" all; then
        serve tampered
        apt_in update; rc=$?
        check tampered-index-refused chk_refused $rc nonzero 'Hash Sum mismatch|File has unexpected size'
    else
        fail tampered-index-refused
    fi
    # 5b. the same with a same-size edit and only the uncompressed variant served (.xz and .gz
    #     404), so that the size matches and apt has to compare the hashes
    cp -a "$TMP/www/repo" "$TMP/www/tampered-same-size"
    if [ ${#V2} = ${#V9} ] && tamper_indices "$TMP/www/tampered-same-size" "$V2" "$V9" plain-only; then
        serve tampered-same-size
        apt_in update; rc=$?
        check tampered-same-size-hash-mismatch chk_refused $rc nonzero 'Hash Sum mismatch'
    else
        note "versions $V2 and $V9 differ in length"
        fail tampered-same-size-hash-mismatch
    fi

    # 6a. unsigned: InRelease and Release.gpg removed
    cp -a "$TMP/www/repo" "$TMP/www/unsigned"
    rm -f "$TMP/www/unsigned/dists/$SUITE/InRelease" "$TMP/www/unsigned/dists/$SUITE/Release.gpg"
    serve unsigned
    apt_in update; rc=$?
    check unsigned-repo-refused chk_refused $rc nonzero 'is (not|no longer) signed'

    # 6b. signed with another key: a second repository, same Origin/Label/Suite, N..N+2 published.
    #     apt 2.6 and 3.0 keep the previous (valid) indices, warn and exit 0 for a source they
    #     already have; the refusal shows as the warning and the unchanged candidate.
    if cts_deb repo init -q --repo "$TMP/www/otherkey" --origin CTS --label "CTS apt-client test" --suite "$SUITE" \
        --architectures "$ARCH" --generate-key "$TMP/keys/other.asc" --uri "$URI" >/dev/null \
        && cts_deb publish -q --repo "$TMP/www/otherkey" --suite "$SUITE" --key "$TMP/keys/other.asc" \
            $set0 "$deb1" $set2 >/dev/null; then
        serve otherkey
        apt_in update; rc=$?
        # apt 2.6 (gpgv): NO_PUBKEY; apt 3.0 (sqv): "Missing key …"; both exit 0 here
        check other-key-refused chk_refused $rc 0 \
            'NO_PUBKEY [0-9A-F]+|Missing key [0-9A-F]+'
        grep -q 'The repository is not updated and the previous index files will be used' "$APTLOG" \
            || note "(no 'not updated' line)"
    else
        fail other-key-refused
    fi

    # control: the real repository again -> accepted, candidate N+2
    serve repo
    apt_in update; rc=$?
    if chk_update_ok $rc && [ "$(candidate)" = "$V2" ]; then
        note "candidate $(candidate)"
        pass "real-repo-accepted-candidate-N+2"
    else
        note "candidate $(candidate)"
        fail "real-repo-accepted-candidate-N+2"
    fi

    # N+1 -> N+2: a new dependencies package. `apt upgrade` (apt-get upgrade --with-new-pkgs)
    # installs it; plain `apt-get upgrade` keeps cts-server back, as for any new dependency.
    apt_in upgrade --with-new-pkgs -y; rc=$?
    echo "--- apt-get upgrade --with-new-pkgs -y (exit $rc):"
    quote <"$APTLOG"
    NEED_TO_GET=$(need_to_get)
    bytes=$(in_bytes "$NEED_TO_GET")
    echo "NEED-TO-GET (N+1 -> N+2, one requirement changed): $NEED_TO_GET ($bytes bytes)"
    if [ $rc = 0 ] && chk_installed "$V2" && grep -qF "Get:" "$APTLOG" && grep -q "Get:.* $deps2 " "$APTLOG" \
        && [ "$(e2e_in dpkg-query -W -f '${Status}' "$deps2")" = "install ok installed" ]; then
        pass "upgrade-N+2-new-dependencies-package"
    else
        fail "upgrade-N+2-new-dependencies-package"
    fi
    apt_in autoremove -y; rc=$?
    echo "--- apt-get autoremove -y (exit $rc):"
    quote <"$APTLOG"
    if [ $rc = 0 ] && grep -q "Removing $deps0 " "$APTLOG" && chk_installed "$V2" \
        && [ "$(e2e_in dpkg-query -W -f '${Status}' "$deps2")" = "install ok installed" ]; then
        pass "autoremove-takes-the-old-dependencies-package"
    else
        fail "autoremove-takes-the-old-dependencies-package"
    fi
    WANT_INSTALLED=$V2 WANT_CANDIDATE=$V2

    # 6c/6d. a client that has no index of the source yet (lists emptied): unsigned and
    #        other-key repositories are errors (exit 100); no source offers cts-server afterwards
    #        (the candidate is the installed N+1)
    WANT_NO_SOURCE=1
    rm -rf "$E2E_ROOT"/var/lib/apt/lists/*
    serve unsigned
    apt_in update; rc=$?
    check unsigned-repo-refused-new-client chk_refused $rc 100 'is not signed'
    rm -rf "$E2E_ROOT"/var/lib/apt/lists/*
    serve otherkey
    apt_in update; rc=$?
    check other-key-refused-new-client chk_refused $rc 100 'NO_PUBKEY|Missing key'

    note "http server: $(grep -c '"GET ' "$TMP/http.log") requests from 127.0.0.1, $(grep -c '"GET [^ ]*/by-hash/' "$TMP/http.log") of them by-hash"

    # 7. teardown, checked
    root=$(readlink -f "$E2E_ROOT")
    ns=$E2E_NS
    tmp=$TMP
    apt_teardown
    check teardown-clean chk_teardown "$root" "$ns" "$tmp"
    SERVER_PID=""
    E2E_ROOT=""
    TMP=""
}

V0="" V1="" V2="" SFX="" WANT_CANDIDATE="" WANT_NO_SOURCE="" WANT_INSTALLED="" NEED_TO_GET=""
main
summary "APT CLIENT"
