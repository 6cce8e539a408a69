# shellcheck shell=bash
# Harness for the cts-server end-to-end test: a Debian bookworm chroot in its own network
# namespace (loopback only), with the package's dependencies pre-installed and cached.
#
# Source it from bash, then:
#   e2e_init                 # root dir, netns name, traps (call once)
#   e2e_prepare_root PKG...  # extract the cached root (debootstrap + PKG...), build it if missing
#   e2e_mount                # proc, sys, dev, devpts, dev/shm, run; policy-rc.d exit 0
#   e2e_netns_up             # netns with only "lo" (up) = network cut
#   e2e_in CMD...            # run CMD inside the chroot, inside the netns
#   e2e_start_services       # postgresql, rabbitmq-server, nginx, supervisor via their init.d scripts
#   e2e_teardown             # kill every process rooted in the chroot, unmount, delete netns, rm root
#
# Environment knobs:
#   CTS_E2E_CACHE   cache directory for root tarballs   [/var/cache/cts-deb-e2e]
#   CTS_E2E_WORK    parent of the throw-away chroot     [/var/tmp]
#   CTS_E2E_SUITE   Debian suite                        [bookworm]
#   CTS_E2E_MIRROR  Debian mirror URL                   [first bookworm URIs: in the host's apt sources]
#   CTS_E2E_KEEP=1  keep the chroot (still stops processes and unmounts) for inspection
#   CTS_E2E_REFRESH=1  rebuild the cached tarballs

E2E_CACHE=${CTS_E2E_CACHE:-/var/cache/cts-deb-e2e}
E2E_WORK=${CTS_E2E_WORK:-/var/tmp}
E2E_SUITE=${CTS_E2E_SUITE:-bookworm}
E2E_ROOT=""
E2E_NS=""
E2E_MOUNTS=()

e2e_log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
e2e_die() { e2e_log "ERROR: $*"; exit 1; }

# The Debian mirror, read from the host's apt configuration at run time (deb822 first): the URI
# of a source that lists the suite itself, or else of the first source that lists any suite but a
# -security one (the same archive carries every release, so a Debian 12 host that lists only
# bookworm still gives the mirror for trixie).
e2e_mirror() {
    if [ -n "${CTS_E2E_MIRROR:-}" ]; then printf '%s\n' "$CTS_E2E_MIRROR"; return; fi
    local uri want
    for want in "$E2E_SUITE" any; do
        uri=$(_e2e_mirror_for "$want")
        if [ -n "$uri" ]; then printf '%s\n' "$uri"; return; fi
    done
    e2e_die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list (set CTS_E2E_MIRROR)"
}

# _e2e_mirror_for SUITE|any: first URI of an archive source listing SUITE (any: any non-security suite)
_e2e_mirror_for() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        uri=$(awk -v suite="$1" '
            BEGIN { RS=""; FS="\n" }
            {
                u=""; s=0
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)   { split($i, a, /[ \t]+/); u=a[2] }
                    if ($i ~ /^Suites:/) {
                        n=split($i, b, /[ \t]+/)
                        for (j = 2; j <= n; j++)
                            if (b[j] == suite || (suite == "any" && b[j] !~ /-security$/)) s=1
                    }
                }
                if (s && u != "" && u !~ /security/) { print u; exit }
            }' "$f")
        if [ -n "$uri" ]; then printf '%s\n' "$uri"; return; fi
    done
    if [ -r /etc/apt/sources.list ]; then
        awk -v suite="$1" '$1 == "deb" {
                i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($i ~ /security/) next
                if ($(i+1) == suite || (suite == "any" && $(i+1) !~ /-security$/)) { print $i; exit } }' /etc/apt/sources.list
    fi
}

# The security archive's URI from the host's sources, if any.
e2e_security_mirror() {
    awk '/^URIs:/ && /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
}

e2e_init() {
    [ "$(id -u)" = 0 ] || e2e_die "must run as root (debootstrap, chroot, mounts, ip netns)"
    local t
    for t in debootstrap chroot ip tar zstd mount umount; do
        command -v "$t" >/dev/null || e2e_die "missing tool: $t"
    done
    mkdir -p "$E2E_CACHE" "$E2E_WORK"
    E2E_ROOT=$(mktemp -d "$E2E_WORK/cts-e2e.XXXXXX")
    chmod 755 "$E2E_ROOT"
    E2E_NS="cts-e2e-$$"
    trap 'e2e_teardown' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Run a command inside the chroot (in the network namespace once it exists). The command may
# start with VAR=value words (env(1) sets them). With E2E_IN_TIMEOUT set, it is ended after that
# many seconds (see e2e_in_within).
e2e_in() {
    local pre=()
    [ -z "${E2E_IN_TIMEOUT:-}" ] || pre=(timeout -k 10 "$E2E_IN_TIMEOUT")
    if [ -n "$E2E_NS" ] && ip netns list 2>/dev/null | grep -qw "^$E2E_NS"; then
        pre+=(ip netns exec "$E2E_NS")
    fi
    "${pre[@]}" chroot "$E2E_ROOT" env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}

# e2e_in_within SECONDS CMD...: e2e_in, but the harness gives up on CMD after SECONDS
e2e_in_within() {
    local limit=$1
    shift
    E2E_IN_TIMEOUT=$limit e2e_in "$@"
}

_e2e_mount() { # _e2e_mount TARGET mount-args...
    local target=$1; shift
    mkdir -p "$target"
    mount "$@" "$target"
    E2E_MOUNTS+=("$target")
}

e2e_mount() {
    local r=$E2E_ROOT
    _e2e_mount "$r/proc" -t proc proc
    _e2e_mount "$r/sys" -t sysfs sysfs
    _e2e_mount "$r/dev" -t tmpfs -o mode=0755,nosuid tmpfs
    local d
    for d in null zero full random urandom tty; do
        touch "$r/dev/$d"
        mount --bind "/dev/$d" "$r/dev/$d"
        E2E_MOUNTS+=("$r/dev/$d")
    done
    _e2e_mount "$r/dev/pts" -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts
    ln -sf pts/ptmx "$r/dev/ptmx"
    ln -sf /proc/self/fd "$r/dev/fd"
    ln -sf /proc/self/fd/0 "$r/dev/stdin"
    ln -sf /proc/self/fd/1 "$r/dev/stdout"
    ln -sf /proc/self/fd/2 "$r/dev/stderr"
    _e2e_mount "$r/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
    _e2e_mount "$r/run" -t tmpfs -o mode=0755,nosuid,nodev tmpfs
    mkdir -p "$r/run/lock" && chmod 1777 "$r/run/lock"
}

e2e_policy() { # e2e_policy 0|101
    printf '#!/bin/sh\nexit %s\n' "$1" >"$E2E_ROOT/usr/sbin/policy-rc.d"
    chmod 755 "$E2E_ROOT/usr/sbin/policy-rc.d"
}

e2e_netns_up() {
    ip netns add "$E2E_NS"
    ip -n "$E2E_NS" link set lo up
    e2e_log "network namespace $E2E_NS: $(ip -n "$E2E_NS" -o link | awk -F': ' '{printf "%s ", $2}')(no route out)"
}

# Cached tarballs:
#   base-<suite>-minbase.tar.zst           debootstrap --variant=minbase
#   root-<suite>-<hash of packages>.tar.zst  base + apt-get install PKG...
e2e_prepare_root() {
    local pkgs key base tarball mirror
    pkgs=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
    mirror=$(e2e_mirror)
    key=$(printf '%s|%s' "$E2E_SUITE" "$pkgs" | sha256sum | cut -c1-16)
    base="$E2E_CACHE/base-$E2E_SUITE-minbase.tar.zst"
    tarball="$E2E_CACHE/root-$E2E_SUITE-$key.tar.zst"
    if [ -n "${CTS_E2E_REFRESH:-}" ]; then rm -f "$base" "$tarball"; fi

    if [ -s "$tarball" ]; then
        e2e_log "using cached root $tarball"
        tar -C "$E2E_ROOT" --zstd -xpf "$tarball"
        return
    fi
    if [ -s "$base" ]; then
        e2e_log "using cached base $base"
        tar -C "$E2E_ROOT" --zstd -xpf "$base"
    else
        e2e_log "debootstrap --variant=minbase $E2E_SUITE from $mirror (takes a few minutes)"
        debootstrap --variant=minbase "$E2E_SUITE" "$E2E_ROOT" "$mirror" >"$E2E_WORK/cts-e2e-debootstrap.log" 2>&1 \
            || { tail -20 "$E2E_WORK/cts-e2e-debootstrap.log" >&2; e2e_die "debootstrap failed"; }
        rm -rf "$E2E_ROOT"/var/cache/apt/archives/*.deb
        tar -C "$E2E_ROOT" --zstd -cpf "$base.tmp" . && mv "$base.tmp" "$base"
        e2e_log "cached base as $base"
    fi
    # the chroot's own apt sources: same mirror, main + updates + security (network allowed here)
    printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$E2E_SUITE" "$mirror" "$E2E_SUITE" \
        >"$E2E_ROOT/etc/apt/sources.list"
    local sec
    sec=$(e2e_security_mirror)
    [ -n "$sec" ] && printf 'deb %s %s-security main\n' "$sec" "$E2E_SUITE" >>"$E2E_ROOT/etc/apt/sources.list"
    cp /etc/resolv.conf "$E2E_ROOT/etc/resolv.conf"
    e2e_mount
    e2e_policy 101   # no daemon may start while installing with the host's network
    e2e_log "installing into the chroot: $pkgs"
    e2e_in apt-get update -q >"$E2E_WORK/cts-e2e-apt.log" 2>&1 \
        && e2e_in apt-get install -y -q --no-install-recommends $pkgs >>"$E2E_WORK/cts-e2e-apt.log" 2>&1 \
        || { tail -30 "$E2E_WORK/cts-e2e-apt.log" >&2; e2e_die "dependency install failed"; }
    e2e_in apt-get clean
    e2e_kill_chroot_procs   # e.g. epmd, started by rabbitmq-server's postinst
    e2e_umount
    rm -f "$E2E_ROOT/usr/sbin/policy-rc.d"
    tar -C "$E2E_ROOT" --zstd -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    e2e_log "cached root as $tarball ($(du -h "$tarball" | cut -f1))"
}

# Prepare the chroot for the test proper: hosts (as Debian's installer writes them: the host name
# on 127.0.1.1), mounts, policy-rc.d exit 0, netns.
e2e_enter() {
    local h
    h=$(hostname)
    printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' "$h" >"$E2E_ROOT/etc/hosts"
    : >"$E2E_ROOT/etc/resolv.conf"     # no DNS: the network is cut anyway
    e2e_mount
    e2e_policy 0
    e2e_netns_up
}

e2e_start_services() {
    local s
    for s in postgresql rabbitmq-server nginx supervisor; do
        e2e_log "starting $s"
        e2e_in /etc/init.d/"$s" start </dev/null >"$E2E_WORK/cts-e2e-start-$s.log" 2>&1 \
            || { cat "$E2E_WORK/cts-e2e-start-$s.log" >&2; e2e_log "WARNING: $s did not start"; }
    done
}

# PIDs whose root directory is the chroot.
e2e_chroot_pids() {
    local p root
    [ -n "$E2E_ROOT" ] || return 0
    root=$(readlink -f "$E2E_ROOT")
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && printf '%s\n' "${p#/proc/}"
    done
    return 0
}

e2e_kill_chroot_procs() {
    local pids i
    pids=$(e2e_chroot_pids)
    [ -n "$pids" ] || return 0
    e2e_log "stopping $(echo "$pids" | wc -l) process(es) rooted in the chroot"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for i in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(e2e_chroot_pids)
        [ -n "$pids" ] || return 0
        sleep 1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 1
}

e2e_umount() {
    local i
    for ((i = ${#E2E_MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${E2E_MOUNTS[$i]}" 2>/dev/null || umount -l "${E2E_MOUNTS[$i]}" 2>/dev/null || true
    done
    E2E_MOUNTS=()
    # anything left below the root (e.g. mounted by a failed run)
    if [ -n "$E2E_ROOT" ]; then
        awk -v r="$(readlink -f "$E2E_ROOT")/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
    fi
}

e2e_teardown() {
    local rc=$?
    trap - EXIT
    set +e
    [ -n "$E2E_ROOT" ] || exit "$rc"
    e2e_kill_chroot_procs
    e2e_umount
    if [ -n "$E2E_NS" ]; then ip netns delete "$E2E_NS" 2>/dev/null; fi
    if [ -n "${CTS_E2E_KEEP:-}" ]; then
        e2e_log "kept chroot at $E2E_ROOT (processes stopped, unmounted)"
    elif [ -d "$E2E_ROOT" ] && ! grep -q " $(readlink -f "$E2E_ROOT")/" /proc/mounts; then
        rm -rf --one-file-system "$E2E_ROOT"
    fi
    left=$(e2e_chroot_pids)
    [ -z "$left" ] || e2e_log "WARNING: processes still running in the chroot: $left"
    exit "$rc"
}

# the repository's root (run.sh and the apt-client test set it too)
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# The previous release (a single package, from before the package set), from which the e2e scenario
# "previous-release" upgrades a serving server and piuparts tests the upgrade: the
# last commit whose package ran every instance as the one user cts and left epmd and RabbitMQ's
# distribution port on every address. Built with its own cts-deb and templates (git archive; a
# clone with history is needed), as version 1.0.0-0.
PREVIOUS_REV=${CTS_E2E_PREVIOUS_REV:-54c2339}
build_previous() { # build_previous OUT: prints the .deb's path
    local out=$1 wt bin
    wt=$(mktemp -d /tmp/cts-e2e-previous.XXXXXX)
    git -C "$REPO" archive "$PREVIOUS_REV" | tar -x -C "$wt" \
        || { rm -rf "$wt"; e2e_die "git archive $PREVIOUS_REV failed (the e2e test needs a clone with history)"; }
    # its cts-deb, compiled once per revision and kept in the cache (a fresh clone has no target/)
    bin=$E2E_CACHE/cts-deb-$(git -C "$REPO" rev-parse "$PREVIOUS_REV^{commit}")
    if [ ! -x "$bin" ]; then
        e2e_log "building cts-deb $PREVIOUS_REV (the previous release) into $bin"
        (cd "$wt" && CARGO_TARGET_DIR="$REPO/target/e2e-previous" cargo build --release --locked -q) \
            || { rm -rf "$wt"; e2e_die "building cts-deb $PREVIOUS_REV failed"; }
        cp "$REPO/target/e2e-previous/release/cts-deb" "$bin.tmp" && mv "$bin.tmp" "$bin"
    fi
    e2e_log "building the previous release's $E2E_SUITE package (cts-deb $PREVIOUS_REV) into $out"
    sed -i -e 's|CTS_POLL_INTERVAL = "30"|CTS_POLL_INTERVAL = "10"|g' "$wt/examples/cts.toml"
    "$bin" build --quiet --config "$wt/examples/cts.toml" \
        --templates "$wt" --target "$E2E_SUITE" --version 1.0.0-0 --out "$out" \
        || { rm -rf "$wt"; e2e_die "cts-deb $PREVIOUS_REV build failed"; }
    rm -rf "$wt"
}
