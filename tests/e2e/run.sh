#!/bin/bash
# End-to-end test of the cts-server package in a Debian bookworm chroot with the network cut.
#
#   tests/e2e/run.sh [PATH/cts-server_*.deb]
#
# Without an argument the package is built first (cargo run --release -- build) from a copy of
# examples/cts.toml with CTS_POLL_INTERVAL=10 (instead of 30) so that the poll check is quick.
# Needs root, debootstrap, zstd, iproute2 (ip netns), lintian and devscripts (checkbashisms).
# The chroot gets its dependencies over the network (cached as a tarball, see lib.sh); the
# package itself is installed with apt-get inside a network namespace holding only "lo".
#
# Prints "PASS <check>" / "FAIL <check>" per check, then "N passed, M failed"; exits 1 on any
# failure. Environment: see lib.sh (CTS_E2E_CACHE, CTS_E2E_KEEP, CTS_E2E_MIRROR, ...), and
#   CTS_E2E_POLL_WAIT   seconds to wait for two polls per instance [90]
#   CTS_E2E_SKIP_LINTIAN=1
#   CTS_E2E_SKIP_SCENARIOS=1   skip the PostgreSQL-stopped scenario
#   CTS_E2E_OUT=DIR     where to build the .deb (kept); default: a temporary directory, removed
#   CTS_E2E_PREVIOUS_REV  git revision of the previous release (scenario previous-release)
# Internal: run.sh --scenario pg-stopped DEB, run.sh --scenario previous-release DEB OLD-DEB,
#   run.sh --scenario instances DEB ADD-JORDAN-DEB DROP-IRAQ-DEB FAILS-DEB FIXED-DEB FULL-DEB SLOW-DEB
#   (one scenario in its own chroot and namespace)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=checks.sh
. "$HERE/checks.sh"

# shellcheck disable=SC2034 # read by summary() (checks.sh)
T0=$(date +%s)
HOST=cts.example.org
INSTANCES=(turkey iraq)
declare -A PREFIX=([turkey]=/TR [iraq]=/IQ)
declare -A PORT=([turkey]=8001 [iraq]=8002)


# curl inside the namespace (the chroot's curl, so the client is inside the "cut" machine)
ccurl() { e2e_in curl -sS --max-time 20 "$@"; }
psql_in() { # psql_in DB SQL
    e2e_in runuser -u postgres -- psql -X -qAt -d "$1" -c "$2"
}


build_deb() { # build_deb OUT [VERSION SOURCE-DIR EXTRA-ENV SERVER-NAME]: EXTRA-ENV is added to each instance's env
    # E2E_INSTANCES: "+jordan" adds an instance jordan (/JO, port 8003), "-iraq" drops iraq
    local out=$1 version=${2:-} source=${3:-} extra=${4:-} cfg args=()
    cfg=$(mktemp -d /tmp/cts-e2e-config.XXXXXX)
    sed -e "s|^path = \"cts-app\"|path = \"$REPO/examples/cts-app\"|" \
        -e "s|^requirements = \"cts-app/requirements.txt\"|requirements = \"$REPO/examples/cts-app/requirements.txt\"|" \
        -e 's|CTS_POLL_INTERVAL = "30"|CTS_POLL_INTERVAL = "10"|g' \
        "$REPO/examples/cts.toml" >"$cfg/cts.toml"
    case "${E2E_INSTANCES:-}" in *+jordan*)
        sed -i '/^\[web\]/i [[instance]]\nname = "jordan"\nprefix = "/JO"\nsettings_module = "cts.settings"\ngunicorn = { workers = 2, bind = "127.0.0.1:8003" }\nenv = { CTS_POLL_INTERVAL = "10" }\n' "$cfg/cts.toml" ;;
    esac
    case "${E2E_INSTANCES:-}" in *-iraq*)
        awk 'BEGIN { RS = ""; ORS = "\n\n" } !/name = "iraq"/' "$cfg/cts.toml" >"$cfg/x" && mv "$cfg/x" "$cfg/cts.toml" ;;
    esac
    if [ -n "$extra" ]; then
        sed -i "s|CTS_POLL_INTERVAL = \"10\" }|CTS_POLL_INTERVAL = \"10\", $extra }|" "$cfg/cts.toml"
    fi
    if [ -n "${5:-}" ]; then   # another server name (nginx site, CTS_ALLOWED_HOSTS)
        sed -i "s|^server_names = \[\"cts.example.org\"\]|server_names = [\"cts.example.org\", \"$5\"]|" "$cfg/cts.toml"
    fi
    [ -z "$version" ] || args+=(--version "$version")
    [ -z "$source" ] || args+=(--source "$source")
    e2e_log "building the $E2E_SUITE package (poll interval 10 s${version:+, version $version}) into $out"
    local path
    path=$(cd "$REPO" && cargo run --release -q -- build --config "$cfg/cts.toml" --templates "$REPO" \
        --target "$E2E_SUITE" --out "$out" "${args[@]}") || { rm -rf "$cfg"; e2e_die "cts-deb build failed"; }
    rm -rf "$cfg"
    printf '%s\n' "${path%%$'\n'*}"    # the set's first line: the common package
}

# app_with_0002 DIR: the example app copied to DIR, plus migration scans 0002 (a table,
# scans_e2e_upgrade; reversible)
app_with_0002() {
    cp -a "$REPO/examples/cts-app" "$1"
    cat >"$1/scans/migrations/0002_e2e_upgrade.py" <<'EOF'
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scans", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE scans_e2e_upgrade (id serial PRIMARY KEY, note text NOT NULL DEFAULT 'n+1')",
            "DROP TABLE scans_e2e_upgrade",
        ),
    ]
EOF
}

# build_next DEB DIR: release N+1 of DEB: version <N>+e2e1+debNN, the same app plus a migration
# (scans 0002: table scans_e2e_upgrade) and changed conffiles: the server name next.example.test
# added (nginx site; CTS_ALLOWED_HOSTS in every /etc/cts-server/<instance>.conf) and
# CTS_E2E_RELEASE='2' in every <instance>.conf
build_next() {
    local deb=$1 dir=$2 version app
    version=$(dpkg-deb -f "$deb" Version)
    version="${version%+deb*}+e2e1"    # the build appends the target's +debNN again
    app="$dir/cts-app"
    app_with_0002 "$app"
    build_deb "$dir" "$version" "$app" 'CTS_E2E_RELEASE = "2"' next.example.test
}

# set_files DEB: DEB's package set on the host: the Python dependencies package DEB depends on
# (built beside it; none for a package from before the split), then DEB
set_files() {
    local deb=$1 deps
    [ -f "$deb" ] || { echo "no such package: $deb" >&2; return 1; }
    deps=$(dpkg-deb -f "$deb" Depends | grep -o '[a-z0-9.+-]*-pydeps-[0-9a-f]*' || true)
    if [ -n "$deps" ]; then
        ls "$(dirname "$deb")/${deps}"_*.deb || e2e_die "$(basename "$deb") needs $deps, not built beside it"
    fi
    echo "$deb"
}

# stage_set DEB: DEB's package set copied into the chroot's /tmp; sets DEBS to their paths
# there; fails (so does the check) when the set is incomplete or a copy fails
stage_set() {
    local list f
    DEBS=()
    list=$(set_files "$1") || return 1
    for f in $list; do
        cp "$f" "$E2E_ROOT/tmp/" || return 1
        DEBS+=("/tmp/$(basename "$f")")
    done
    [ ${#DEBS[@]} -gt 0 ]
}

install_deb() { # install_deb DEB LOG: apt-get install inside the namespace; sets INSTALL_SECONDS
    local deb=$1 log=$2 t1 t2 rc=0
    stage_set "$deb" || return 1
    t1=$(date +%s.%N)
    e2e_in apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "${DEBS[@]}" \
        </dev/null >"$log" 2>&1 || rc=$?
    t2=$(date +%s.%N)
    INSTALL_SECONDS=$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.1f", b - a}')
    return $rc
}

# --- checks -------------------------------------------------------------------------------------

chk_network_cut() {
    local links mirror
    links=$(ip -n "$E2E_NS" -o link | awk -F': ' '{print $2}' | tr '\n' ' ')
    [ "$links" = "lo " ] || { note "links in the namespace: $links"; return 1; }
    mirror=$(e2e_mirror)
    if e2e_in curl -sS --max-time 5 -o /dev/null "$mirror" 2>/dev/null; then
        note "the Debian mirror is reachable from the namespace"
        return 1
    fi
}

chk_no_pending() {
    [ ! -e "$E2E_ROOT/var/lib/cts-server/pending" ] || { note "pending: $(cat "$E2E_ROOT/var/lib/cts-server/pending")"; return 1; }
}

uid_of() { awk -F: -v u="$1" '$1 == u {print $3}' "$E2E_ROOT/etc/passwd"; }
proc_user() { awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
proc_args() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }

chk_nginx() {
    local pid
    pid=$(cat "$E2E_ROOT/run/nginx.pid" 2>/dev/null) || { note "no /run/nginx.pid"; return 1; }
    kill -0 "$pid" 2>/dev/null || { note "nginx pid $pid not running"; return 1; }
    e2e_in nginx -t -q || return 1
    [ -L "$E2E_ROOT/etc/nginx/sites-enabled/cts.conf" ] || { note "site not enabled"; return 1; }
    ! grep -v '^[[:space:]]*#' "$E2E_ROOT/etc/nginx/sites-available/cts.conf" | grep -q default_server \
        || { note "default_server in cts.conf"; return 1; }
}

chk_supervisord() {
    local pid
    pid=$(e2e_in supervisorctl pid 2>/dev/null) || return 1
    [ "$(proc_user "$pid")" = 0 ] || { note "supervisord not root"; return 1; }
    sv_status >&2
}

# chk_program PROGRAM PATTERN: running under supervisor, as user cts, command matches PATTERN
chk_program() { # chk_program cts-INSTANCE-KIND PATTERN: running, as cts-INSTANCE, command matching
    local prog=$1 pattern=$2 pid uid user
    user=${prog%-*}
    uid=$(uid_of "$user")
    pid=$(e2e_in supervisorctl pid "$(sv_name "$prog")" 2>/dev/null)
    case "$pid" in '' | 0 | *[!0-9]*) note "$prog: not running (pid '$pid')"; return 1 ;; esac
    [ "$(proc_user "$pid")" = "$uid" ] || { note "$prog: runs as uid $(proc_user "$pid"), want $user ($uid)"; return 1; }
    proc_args "$pid" | grep -qE "$pattern" || { note "$prog: command is $(proc_args "$pid")"; return 1; }
}

# exactly one beat process for the instance on this server (the processes rooted in this
# chroot, so a second test run on the same host does not count), as cts-INSTANCE
chk_one_beat() {
    local inst=$1 uid line pid n=0 root
    uid=$(uid_of "cts-$inst")
    root=$(readlink -f "$E2E_ROOT")
    for p in /proc/[0-9]*; do
        [ "$p" = "/proc/$BASHPID" ] && continue
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] || continue
        line=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
        case "$line" in
            *"celery -A cts.celery:app beat --schedule "*"celerybeat-$inst."*) n=$((n + 1)); pid=${p#/proc/} ;;
        esac
    done
    [ "$n" = 1 ] || { note "$n beat processes for $inst"; return 1; }
    [ "$(proc_user "$pid")" = "$uid" ] || { note "beat of $inst not running as cts-$inst"; return 1; }
    chk_program "cts-$inst-beat" "celery -A cts.celery:app beat"
}

chk_listen_loopback() { # chk_listen_loopback PORT
    local lines
    lines=$(ip netns exec "$E2E_NS" ss -Hltn "sport = :$1")
    [ -n "$lines" ] || { note "nothing listens on :$1"; return 1; }
    if echo "$lines" | awk '{print $4}' | grep -vqE '^(127\.[0-9.]+|\[::1\]):'; then
        note "port $1 listens beyond loopback: $(echo "$lines" | awk '{print $4}' | tr '\n' ' ')"
        return 1
    fi
}

chk_health() {
    local inst=$1 out code hdr
    out=$(ccurl -k -D - -o /dev/null -w 'CODE=%{http_code}\n' --resolve "$HOST:443:127.0.0.1" \
        "https://$HOST${PREFIX[$inst]}/health/") || { note "curl failed"; return 1; }
    code=$(echo "$out" | sed -n 's/^CODE=//p')
    hdr=$(echo "$out" | tr -d '\r' | sed -n 's/^[Xx]-[Cc][Tt][Ss]-[Ii]nstance: //p')
    [ "$code" = 200 ] && [ "$hdr" = "$inst" ] || { note "HTTP $code, X-CTS-Instance '$hdr'"; return 1; }
}

chk_redirect() {
    local out code loc
    out=$(ccurl -D - -o /dev/null -w 'CODE=%{http_code}\n' --resolve "$HOST:80:127.0.0.1" "http://$HOST/TR/health/") || return 1
    code=$(echo "$out" | sed -n 's/^CODE=//p')
    loc=$(echo "$out" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    [ "$code" = 301 ] && [ "$loc" = "https://$HOST/TR/health/" ] || { note "HTTP $code Location '$loc'"; return 1; }
}

chk_tls() { # TLS 1.2+ only
    ccurl -k -o /dev/null --tlsv1.2 --resolve "$HOST:443:127.0.0.1" "https://$HOST/static/cts/cts.css" || { note "TLS 1.2 failed"; return 1; }
    if ccurl -k -o /dev/null --tlsv1.0 --tls-max 1.1 --resolve "$HOST:443:127.0.0.1" "https://$HOST/static/cts/cts.css" 2>/dev/null; then
        note "TLS 1.1 accepted"
        return 1
    fi
}

chk_static() {
    local out code
    out=$(ccurl -k -D - -o /dev/null -w 'CODE=%{http_code}\n' --resolve "$HOST:443:127.0.0.1" "https://$HOST/static/cts/cts.css") || return 1
    code=$(echo "$out" | sed -n 's/^CODE=//p')
    [ "$code" = 200 ] || { note "HTTP $code"; return 1; }
    if echo "$out" | grep -qi '^X-CTS-Instance:'; then note "served by Django, not nginx"; return 1; fi
    echo "$out" | grep -qi '^Content-Type: text/css' || { note "no text/css content type"; return 1; }
    # and not in any gunicorn log
    ! grep -qs 'cts.css' "$E2E_ROOT"/var/www/cts/log/cts-*-gunicorn.log || { note "gunicorn saw the request"; return 1; }
}

chk_media() {
    local f=/var/www/cts/public/media/e2e-probe.txt body
    e2e_in runuser -u cts-turkey -- sh -c "echo media-ok > $f" || { note "cts-turkey cannot write the media dir"; return 1; }
    body=$(ccurl -k --resolve "$HOST:443:127.0.0.1" "https://$HOST/media/e2e-probe.txt")
    e2e_in rm -f "$f"
    [ "$body" = media-ok ] || { note "nginx served '$body'"; return 1; }
}

# Uploads are inert: an .html or .svg the app user wrote into media is not served as active
# content (not text/html or image/svg+xml, a download, and sandboxed by CSP); a PNG keeps its type.
chk_media_inert() {
    local d=/var/www/cts/public/media f hdrs bad=0
    e2e_in runuser -u cts-iraq -- sh -c "printf '<script>alert(1)</script>' >$d/e2e.html &&
        printf '<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>' >$d/e2e.svg &&
        printf 'PNG' >$d/e2e.png" || return 1
    for f in e2e.html e2e.svg e2e.png; do
        hdrs=$(ccurl -k -D - -o /dev/null --resolve "$HOST:443:127.0.0.1" "https://$HOST/media/$f" | tr -d '\r' | tr 'A-Z' 'a-z')
        echo "--- GET /media/$f: $(echo "$hdrs" | grep -E '^(content-type|content-disposition|content-security-policy):' | tr '\n' ' ')"
        echo "$hdrs" | grep -q "^content-security-policy: sandbox" || { note "$f: no CSP sandbox"; bad=1; }
        echo "$hdrs" | grep -q '^x-content-type-options: nosniff' || { note "$f: no nosniff"; bad=1; }
        case $f in
            *.png) echo "$hdrs" | grep -q '^content-type: image/png' || { note "$f: type changed"; bad=1; } ;;
            *) echo "$hdrs" | grep -qE '^content-type: (text/html|image/svg)' && { note "$f: served as active content"; bad=1; }
               echo "$hdrs" | grep -q '^content-disposition: attachment' || { note "$f: not a download"; bad=1; } ;;
        esac
    done
    e2e_in rm -f "$d/e2e.html" "$d/e2e.svg" "$d/e2e.png"
    return $bad
}

# A request for a name that is not ours gets nothing from our site (444: closed without a
# response): on 443, where it is the only site; on 80 nginx's own default site answers such
# names (our site is nobody's default_server), so there the check is that our site does not (no
# redirect to https://evil…), and then, with that default site disabled, that nothing does. No
# response carries nginx's version.
unknown_host_on() { # unknown_host_on 80|443: prints "HTTP-code curl-exit location"
    local scheme=http out rc=0
    [ "$1" = 443 ] && scheme=https
    out=$(e2e_in curl -sk --http1.1 -D - -o /dev/null -w 'CODE=%{http_code}\n' -H 'Host: evil.example.net' \
        "$scheme://127.0.0.1:$1/static/cts/cts.css") || rc=$?
    printf '%s %s %s\n' "$(echo "$out" | sed -n 's/^CODE=//p')" "$rc" \
        "$(echo "$out" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
}

# no_response "CODE EXIT LOCATION": the connection closed without an HTTP response (code 000;
# curl calls that 52, or 56 / 92 when it happens inside TLS or HTTP/2, depending on its version)
no_response() {
    case "$1" in "000 0 "*) return 1 ;; "000 "*) return 0 ;; *) return 1 ;; esac
}

chk_unknown_host() {
    local out bad=0 default=$E2E_ROOT/etc/nginx/sites-enabled/default aside=$E2E_ROOT/etc/nginx/e2e-default-site
    out=$(unknown_host_on 443)
    echo "--- Host: evil.example.net on :443: HTTP/curl-exit/location: $out (HTTP 000: no response)"
    no_response "$out" || { note ":443 answered for an unknown host"; bad=1; }
    out=$(unknown_host_on 80)
    echo "--- Host: evil.example.net on :80 (nginx's default site enabled): $out"
    case "$out" in *https://evil*) note "our site redirected an unknown host"; bad=1 ;; esac
    if [ -L "$default" ]; then
        mv "$default" "$aside" && e2e_in /etc/init.d/nginx reload >/dev/null 2>&1 && sleep 2
        out=$(unknown_host_on 80)
        mv "$aside" "$default" && e2e_in /etc/init.d/nginx reload >/dev/null 2>&1 && sleep 2
        echo "--- Host: evil.example.net on :80 (default site disabled: ours is the only one): $out"
        no_response "$out" || { note ":80 answered for an unknown host"; bad=1; }
    fi
    out=$(ccurl -k -D - -o /dev/null --resolve "$HOST:443:127.0.0.1" "https://$HOST/TR/health/" | tr -d '\r' | grep -i '^server:')
    echo "--- $out"
    [ "$(echo "$out" | tr 'A-Z' 'a-z')" = "server: nginx" ] || { note "Server header: $out"; bad=1; }
    return $bad
}

# Root never follows what the service user planted: with the state directory handed to cts as
# older versions had it, cts plants symlinks to root-only files under setup's state file names;
# a setup run must leave those files untouched, remove the links and take the directory back.
chk_state_symlinks_planted_as_cts() {
    local st=/var/lib/cts-server f v bad=0 before
    for v in 1 2 3; do printf 'root-only %s\n' "$v" >"$E2E_ROOT/etc/e2e-victim$v"; chmod 600 "$E2E_ROOT/etc/e2e-victim$v"; done
    before=$(cat "$E2E_ROOT"/etc/e2e-victim? | sha256sum)
    e2e_in chown cts:cts "$st" && e2e_in chmod 750 "$st"
    e2e_in runuser -u cts -- sh -c "cd $st && rm -f migrated-version pending nginx-site-enabled &&
        ln -s /etc/e2e-victim1 migrated-version && ln -s /etc/e2e-victim2 pending &&
        ln -s /etc/e2e-victim3 nginx-site-enabled" || { note "cts could not plant the links"; return 1; }
    e2e_in cts-server-setup >/dev/null 2>&1 || { note "setup failed"; bad=1; }
    [ "$(cat "$E2E_ROOT"/etc/e2e-victim? | sha256sum)" = "$before" ] || { note "a root-only file was written through a planted link"; bad=1; }
    [ "$(e2e_in stat -c '%U:%G %a' "$st")" = "root:root 755" ] || { note "$st: $(e2e_in stat -c '%U:%G %a' "$st")"; bad=1; }
    for f in migrated-version nginx-site-enabled; do
        [ -f "$E2E_ROOT$st/$f" ] && [ ! -L "$E2E_ROOT$st/$f" ] || { note "$st/$f is not a plain file again"; bad=1; }
    done
    if e2e_in runuser -u cts -- ln -s /etc/e2e-victim1 "$st/pending" 2>/dev/null; then
        note "cts can still create entries in $st"; bad=1
    fi
    rm -f "$E2E_ROOT"/etc/e2e-victim?
    return $bad
}

# /etc/rabbitmq is the rabbitmq user's: what setup reads and writes there it does as that user.
# rabbitmq replaces setup's drop-in and RabbitMQ's env file by links to root-only files; a setup
# run must neither write them nor copy their content anywhere rabbitmq can read.
chk_rabbitmq_links_not_followed() {
    local v bad=0 before out
    for v in 1 2; do printf 'root-only %s\n' "$v" >"$E2E_ROOT/etc/e2e-rvictim$v"; chmod 600 "$E2E_ROOT/etc/e2e-rvictim$v"; done
    before=$(cat "$E2E_ROOT"/etc/e2e-rvictim? | sha256sum)
    cp -p "$E2E_ROOT/etc/rabbitmq/rabbitmq-env.conf" "$E2E_WORK/rabbitmq-env.conf.$$"
    e2e_in runuser -u rabbitmq -- sh -c 'cd /etc/rabbitmq &&
        ln -sf /etc/e2e-rvictim1 conf.d/51-cts-server-distribution.conf &&
        mv rabbitmq-env.conf rabbitmq-env.conf.e2e && ln -s /etc/e2e-rvictim2 rabbitmq-env.conf' \
        || { note "rabbitmq could not plant the links"; bad=1; }
    out=$(e2e_in cts-server-setup 2>&1)
    echo "--- setup with links planted by rabbitmq:" && echo "$out" | grep -iE 'rabbit|error|done|INCOMPLETE' | quote
    [ "$(cat "$E2E_ROOT"/etc/e2e-rvictim? | sha256sum)" = "$before" ] || { note "a root-only file was written through a link"; bad=1; }
    if grep -qs 'root-only' "$E2E_ROOT"/etc/rabbitmq/conf.d/* "$E2E_ROOT"/etc/rabbitmq/rabbitmq-env.conf.new-* 2>/dev/null; then
        note "a root-only file's content landed where rabbitmq reads"; bad=1
    fi
    rm -f "$E2E_ROOT/etc/rabbitmq/rabbitmq-env.conf" "$E2E_ROOT"/etc/rabbitmq/rabbitmq-env.conf.new-*
    mv -f "$E2E_WORK/rabbitmq-env.conf.$$" "$E2E_ROOT/etc/rabbitmq/rabbitmq-env.conf"
    rm -f "$E2E_ROOT/etc/rabbitmq/rabbitmq-env.conf.e2e" "$E2E_ROOT/etc/rabbitmq/conf.d/51-cts-server-distribution.conf" "$E2E_ROOT"/etc/e2e-rvictim?
    out=$(e2e_in cts-server-setup 2>&1)
    echo "$out" | grep -q 'cts-server-setup: done' || { echo "$out" | quote; note "setup did not finish once the links were gone"; bad=1; }
    return $bad
}

# What listens beyond loopback (ss -ltnpu in the namespace): only nginx (80, 443). The chroot's
# /etc/hosts is Debian's (host name on 127.0.1.1), so epmd and the distribution port, which
# follow the node name, must be on 127.0.1.1 / 127.0.0.1; anything else fails the check.
chk_wide_listeners() {
    local all wide bad=0 line proc
    all=$(ip netns exec "$E2E_NS" ss -Hltnpu)
    echo "--- ss -ltnpu (listening sockets in the server's namespace):" && echo "$all" | quote
    wide=$(echo "$all" | awk '{print $5, $7}' | grep -vE '^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):')
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        proc=$(echo "$line" | sed -n 's/.*users:(("\([^"]*\)".*/\1/p')
        case "${line%% *}:$proc" in
            *:80:nginx | *:443:nginx) ;;
            *) note "beyond loopback: $line"; bad=1 ;;
        esac
    done <<EOF
$wide
EOF
    return $bad
}

chk_rabbitmq_guest_removed() {
    local users
    users=$(e2e_in rabbitmqctl -s list_users | cut -f1 | tr '\n' ' ') || return 1
    echo "--- RabbitMQ users: $users"
    ! echo " $users" | grep -q ' guest '
}

# RabbitMQ on all interfaces (no drop-in yet) and the restart setup asks for fails, as it did in
# the field ("could not bind to distribution port"): setup must end INCOMPLETE naming it, never
# "done"; the next run, with a restart that works, repairs it although the drop-in is in place.
chk_rabbitmq_failed_restart_then_repaired() {
    local dropin=$E2E_ROOT/etc/rabbitmq/conf.d/50-cts-server.conf init=$E2E_ROOT/etc/init.d/rabbitmq-server
    local out wide bad=0
    mv "$dropin" "$dropin.e2e"
    e2e_in /etc/init.d/rabbitmq-server restart >/dev/null 2>&1
    wide=$(ip netns exec "$E2E_NS" ss -Hltn 'sport = :5672' | awk '{print $4}' | grep -vE '^(127\.|\[::1\])' | tr '\n' ' ')
    echo "--- before: RabbitMQ listens for AMQP on: $wide"
    [ -n "$wide" ] || { note "precondition: RabbitMQ is not on all interfaces"; bad=1; }
    mv "$init" "$init.e2e"
    printf '#!/bin/sh\necho "rabbitmq-server: e2e: this restart fails" >&2\nexit 1\n' >"$init"
    chmod 755 "$init"
    out=$(e2e_in cts-server-setup 2>&1)
    mv -f "$init.e2e" "$init"
    rm -f "$dropin.e2e"
    echo "--- setup with a failing RabbitMQ restart:" && echo "$out" | grep -E 'rabbitmq|RabbitMQ|INCOMPLETE|done' | quote
    echo "$out" | grep -q 'cts-server-setup: done' && { note "setup said done"; bad=1; }
    echo "$out" | grep -q 'INCOMPLETE: pending steps: broker-listen' || { note "no INCOMPLETE naming broker-listen"; bad=1; }
    grep -qx broker-listen "$E2E_ROOT/var/lib/cts-server/pending" 2>/dev/null || { note "pending does not list broker-listen"; bad=1; }
    out=$(e2e_in cts-server-setup 2>&1)
    echo "--- the next run:" && echo "$out" | grep -E 'rabbitmq|RabbitMQ|INCOMPLETE|done' | quote
    echo "$out" | grep -q 'cts-server-setup: done' || { note "the rerun did not finish"; bad=1; }
    chk_listen_loopback 5672 || bad=1
    chk_listen_loopback 4369 || bad=1
    chk_listen_loopback 25672 || bad=1
    return $bad
}

chk_databases() {
    local inst db
    for inst in "${INSTANCES[@]}"; do
        db=cts_$inst
        [ "$(psql_in postgres "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] || { note "no database $db"; return 1; }
        [ "$(psql_in "$db" "SELECT count(*) FROM django_migrations WHERE app = 'scans'")" -ge 1 ] 2>/dev/null \
            || { note "$db: scans not migrated"; return 1; }
        [ "$(psql_in "$db" "SELECT to_regclass('public.scans_pollrun') IS NOT NULL")" = t ] || { note "$db: no scans_pollrun"; return 1; }
        [ "$(psql_in "$db" "SELECT count(*) FROM pg_extension WHERE extname = 'hstore'")" = 1 ] || { note "$db: no hstore"; return 1; }
        [ "$(psql_in "$db" "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$db'")" = "$db" ] \
            || { note "$db: wrong owner"; return 1; }
    done
}

chk_broker() {
    local vhosts users perms inst
    vhosts=$(e2e_in rabbitmqctl -s list_vhosts name) || return 1
    users=$(e2e_in rabbitmqctl -s list_users | cut -f1) || return 1
    for inst in "${INSTANCES[@]}"; do
        echo "$vhosts" | grep -qx "cts_$inst" || { note "no vhost cts_$inst"; return 1; }
        echo "$users" | grep -qx "cts_$inst" || { note "no user cts_$inst"; return 1; }
        perms=$(e2e_in rabbitmqctl -s list_permissions -p "cts_$inst")
        echo "$perms" | grep -q "^cts_$inst" || { note "no permissions for cts_$inst on its vhost"; return 1; }
        if echo "$perms" | grep -q '^guest'; then note "guest has access to cts_$inst"; return 1; fi
    done
}

polls() { psql_in "cts_$1" "SELECT count(*) FROM scans_pollrun"; }

chk_polls() {
    local wait=${CTS_E2E_POLL_WAIT:-90} t_end inst ok n
    t_end=$(($(date +%s) + wait))
    while :; do
        ok=1
        for inst in "${INSTANCES[@]}"; do
            n=$(polls "$inst" 2>/dev/null)
            [ "${n:-0}" -ge 2 ] || ok=0
        done
        [ $ok = 1 ] && break
        [ "$(date +%s)" -lt "$t_end" ] || break
        sleep 3
    done
    for inst in "${INSTANCES[@]}"; do note "$inst: $(polls "$inst") poll runs"; done
    [ $ok = 1 ]
}

chk_env_modes() {
    local inst m
    for inst in "${INSTANCES[@]}"; do
        m=$(e2e_in stat -c '%a %U:%G' "/etc/cts-server/$inst.env")
        [ "$m" = "640 root:cts-$inst" ] || { note "$inst.env: $m"; return 1; }
    done
}

# One system user per instance: each instance's programs run as cts-<instance>, which can read
# its own secrets but not another instance's (env file, /proc/PID/environ), and whose database
# role may connect to its own database only. The static files' owner cts reads no secret.
chk_instances_isolated() {
    local bad=0 inst other pid pw out
    for inst in "${INSTANCES[@]}"; do
        other=iraq; [ "$inst" = turkey ] || other=turkey
        for pid in $(e2e_in supervisorctl pid "cts-$inst:cts-$inst-gunicorn" "cts-$inst:cts-$inst-worker" "cts-$inst:cts-$inst-beat"); do
            [ "$(e2e_in stat -c %U "/proc/$pid")" = "cts-$inst" ] || { note "pid $pid of $inst runs as $(e2e_in stat -c %U "/proc/$pid")"; bad=1; }
        done
        e2e_in runuser -u "cts-$inst" -- cat "/etc/cts-server/$inst.env" >/dev/null 2>&1 || { note "cts-$inst cannot read its own secrets"; bad=1; }
        if e2e_in runuser -u "cts-$inst" -- cat "/etc/cts-server/$other.env" >/dev/null 2>&1; then
            note "cts-$inst reads $other.env"; bad=1
        fi
        pid=$(gunicorn_master "$other")
        if e2e_in runuser -u "cts-$inst" -- cat "/proc/$pid/environ" >/dev/null 2>&1; then
            note "cts-$inst reads the environment of $other's gunicorn"; bad=1
        fi
        pw=$(sed -n "s/^CTS_DB_PASSWORD='\(.*\)'$/\1/p" "$E2E_ROOT/etc/cts-server/$inst.env")
        out=$(e2e_in env PGPASSWORD="$pw" psql -X -qAt -h 127.0.0.1 -U "cts_$inst" -d "cts_$inst" -c 'SELECT 1' 2>&1)
        [ "$out" = 1 ] || { note "cts_$inst cannot connect to cts_$inst: $out"; bad=1; }
        out=$(e2e_in env PGPASSWORD="$pw" psql -X -qAt -h 127.0.0.1 -U "cts_$inst" -d "cts_$other" -c 'SELECT 1' 2>&1)
        echo "--- cts_$inst connecting to cts_$other: $out"
        echo "$out" | grep -q 'permission denied for database' || { note "cts_$inst may connect to cts_$other"; bad=1; }
        if e2e_in runuser -u cts -- cat "/etc/cts-server/$inst.env" >/dev/null 2>&1; then
            note "cts (static files) reads $inst.env"; bad=1
        fi
    done
    return $bad
}

secrets() { # every secret value of every instance, one per line
    local inst
    for inst in "${INSTANCES[@]}"; do
        sed -n "s/^CTS_[A-Z_]*=['\"]\{0,1\}\([^'\"]*\)['\"]\{0,1\}$/\1/p" "$E2E_ROOT/etc/cts-server/$inst.env"
    done
}

# all command lines on the machine, one per line (read by bash itself: no helper process whose
# own arguments could match)
all_cmdlines() {
    local p a
    for p in /proc/[0-9]*; do
        [ "$p" = "/proc/$BASHPID" ] && continue
        a=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") && printf '%s\n' "$a"
    done
}

chk_no_secret_in_ps() {
    local f n
    f=$(mktemp /tmp/cts-e2e-secrets.XXXXXX)    # patterns in a 0600 file, never on a command line
    secrets >"$f"
    n=$(grep -c . "$f")
    if [ "$n" != 6 ] || awk 'length($0) < 32 {bad=1} END {exit !bad}' "$f"; then
        note "expected 6 secrets of >= 32 characters, found $n"; rm -f "$f"; return 1
    fi
    if e2e_in ps -eww -o user=,args= | grep -qFf "$f"; then note "a secret appears in ps output"; rm -f "$f"; return 1; fi
    if all_cmdlines | grep -qFf "$f"; then note "a secret appears in a process command line"; rm -f "$f"; return 1; fi
    rm -f "$f"
}

chk_no_secret_in_deb() {
    local deb=$1 x f rc=0
    x=$(mktemp -d /tmp/cts-e2e-deb.XXXXXX)
    f=$x.secrets
    secrets >"$f"
    dpkg-deb -R "$deb" "$x/tree" || { rm -rf "$x" "$f"; return 1; }
    # the extracted tree (control + data), gzip'd members decompressed too, and the raw .deb
    if grep -rqFf "$f" "$x/tree"; then note "a secret appears in the .deb's files"; rc=1; fi
    if find "$x/tree" -name '*.gz' -exec zcat {} + 2>/dev/null | grep -qFf "$f"; then note "a secret appears in a .gz"; rc=1; fi
    if grep -qFf "$f" "$deb"; then note "a secret appears in the raw .deb"; rc=1; fi
    rm -rf "$x" "$f"
    return $rc
}

chk_conffiles_pristine() {
    local out
    out=$(e2e_in dpkg --verify cts-server 2>&1)
    [ -z "$out" ] || { note "dpkg --verify: $out"; return 1; }
}

chk_logrotate() {
    e2e_in logrotate -d /etc/logrotate.d/cts-server >/tmp/cts-e2e-logrotate.$$ 2>&1
    local rc=$?
    if [ $rc != 0 ] || grep -qiE '^error' /tmp/cts-e2e-logrotate.$$; then
        grep -iE 'error' /tmp/cts-e2e-logrotate.$$ | head -5 >&2
        rm -f /tmp/cts-e2e-logrotate.$$
        return 1
    fi
    rm -f /tmp/cts-e2e-logrotate.$$
}

chk_layout() {
    local bad=0 line p want got
    while read -r p want; do
        got=$(e2e_in stat -c '%U:%G %a' "$p" 2>/dev/null)
        [ "$got" = "$want" ] || { note "$p: '$got', want '$want'"; bad=1; }
    done <<'EOF'
/var/www/cts root:root 755
/var/www/cts/env/ root:root 755
/var/www/cts/log root:adm 750
/var/www/cts/public root:root 755
/var/www/cts/public/static cts:cts 755
/var/www/cts/public/media root:cts 2775
/var/www/cts/ssl root:root 755
/var/www/cts/ssl/cts.key root:root 600
/var/www/cts/ssl/cts.crt root:root 644
/var/lib/cts-server root:root 755
/var/lib/cts-server/beat root:root 755
/var/lib/cts-server/beat/turkey cts-turkey:cts-turkey 750
/var/lib/cts-server/beat/iraq cts-iraq:cts-iraq 750
EOF
    [ "$(readlink "$E2E_ROOT/var/www/cts/source")" = current/source ] || { note "source link wrong"; bad=1; }
    [ "$(readlink "$E2E_ROOT/var/www/cts/env")" = current/env ] || { note "env link wrong"; bad=1; }
    case "$(readlink "$E2E_ROOT/var/www/cts/current")" in releases/?*) ;; *) note "current is not a link to releases/<release>"; bad=1 ;; esac
    # the release (virtualenv and code) is root's: nothing in it another user owns or may write
    [ "$(e2e_in stat -c '%U:%G %a' /var/www/cts/current/)" = "root:root 755" ] || { note "release: $(e2e_in stat -c '%U:%G %a' /var/www/cts/current/)"; bad=1; }
    line=$(e2e_in find /var/www/cts/current/ \( ! -user root -o -perm /022 \) ! -type l -print -quit)
    [ -z "$line" ] || { note "in the release, not root's or writable by others: $line"; bad=1; }
    e2e_in getent passwd cts | grep -q ':/var/lib/cts-server/beat:/usr/sbin/nologin$' || { note "user cts: $(e2e_in getent passwd cts)"; bad=1; }
    for p in turkey iraq; do
        e2e_in getent passwd "cts-$p" | grep -q ":/var/lib/cts-server/beat/$p:/usr/sbin/nologin$" || { note "user cts-$p: $(e2e_in getent passwd "cts-$p")"; bad=1; }
        e2e_in id -nG "cts-$p" | grep -qw cts || { note "cts-$p is not in group cts (media)"; bad=1; }
    done
    return $bad
}

chk_rerun_setup() {
    local before after out
    before=$(cat "$E2E_ROOT"/etc/cts-server/*.env | sha256sum)
    out=$(e2e_in cts-server-setup 2>&1) || { echo "$out" | quote >&2; return 1; }
    after=$(cat "$E2E_ROOT"/etc/cts-server/*.env | sha256sum)
    [ "$before" = "$after" ] || { note "secrets changed"; return 1; }
    echo "$out" | grep -q 'cts-server-setup: done' || { echo "$out" | quote >&2; return 1; }
    sleep 2
    chk_health turkey && chk_health iraq
}

chk_scripts_static() { # sh -n and checkbashisms on the maintainer scripts and shipped shell scripts
    local deb=$1 x f bad=0
    x=$(mktemp -d /tmp/cts-e2e-deb.XXXXXX)
    dpkg-deb -R "$deb" "$x"
    for f in "$x"/DEBIAN/preinst "$x"/DEBIAN/postinst "$x"/DEBIAN/prerm "$x"/DEBIAN/postrm \
        "$x"/usr/sbin/cts-server-setup "$x"/usr/share/cts-server/bin/cts-run; do
        [ -f "$f" ] || { note "missing ${f#"$x"}"; bad=1; continue; }
        sh -n "$f" || bad=1
        checkbashisms "$f" >&2 || bad=1
    done
    rm -rf "$x"
    return $bad
}

chk_lintian() { # the release's own lintian, inside the chroot, on every package of the set
    local deb f out rc=0 bad=0 list
    list=$(set_files "$1") || return 1
    for deb in $list; do
        f=/tmp/lintian-$(basename "$deb")
        cp "$deb" "$E2E_ROOT$f" && chmod 644 "$E2E_ROOT$f"
        rc=0
        out=$(e2e_in runuser -u nobody -- env HOME=/tmp lintian --fail-on error,warning "$f" 2>&1) || rc=$?
        rm -f "$E2E_ROOT$f"
        echo "--- lintian $(e2e_in dpkg-query -W -f '${Version}' lintian) ($E2E_SUITE) on $(basename "$deb"): exit $rc, ${out:-no tags}" | quote
        [ $rc = 0 ] || bad=1
    done
    return $bad
}

chk_nginx_no_warnings() { # nginx -t with our site enabled: not one [warn] or [emerg] line
    local out
    out=$(e2e_in nginx -t 2>&1)
    echo "--- nginx -t ($(e2e_in nginx -v 2>&1 | sed 's/.*nginx\///')):" && echo "$out" | quote
    echo "$out" | grep -q 'test is successful' || return 1
    ! echo "$out" | grep -qE '\[(warn|emerg|alert|crit)\]'
}

chk_rabbitmq_no_deprecated() { # RabbitMQ logs no use of a deprecated feature (RabbitMQ 4 warns)
    local logs hits
    logs=$(ls "$E2E_ROOT"/var/log/rabbitmq/*.log 2>/dev/null)
    [ -n "$logs" ] || { note "no RabbitMQ log in /var/log/rabbitmq"; return 1; }
    # shellcheck disable=SC2086
    hits=$(grep -ih 'deprecated' $logs)
    echo "--- RabbitMQ $(e2e_in dpkg-query -W -f '${Version}' rabbitmq-server) log lines naming a deprecated feature: $(printf '%s' "$hits" | grep -c .)"
    [ -z "$hits" ] || { echo "$hits" | head -5 | quote; return 1; }
}

# A setup step that hangs: rabbitmqctl replaced by a wrapper that, like Debian's, goes through
# "su -c" (a new session) and then never returns. Setup must fail within its timeout naming the
# command, leave no process of the hang behind, and the next run must not find the lock taken.
chk_setup_hang_then_rerun() {
    local ctl=$E2E_ROOT/usr/sbin/rabbitmqctl out rc=0 t0 t1 left
    mv "$ctl" "$ctl.e2e-real"
    printf '#!/bin/sh\nexec su rabbitmq -s /bin/sh -c "sleep 3600 # e2e-hang"\n' >"$ctl"
    chmod 755 "$ctl"
    t0=$(date +%s)
    out=$(e2e_in_within 300 CTS_SERVER_SETUP_TIMEOUT=5 cts-server-setup 2>&1) || rc=$?
    t1=$(date +%s)
    mv -f "$ctl.e2e-real" "$ctl"
    echo "--- setup with a hanging rabbitmqctl (CTS_SERVER_SETUP_TIMEOUT=5): exit $rc after $((t1 - t0)) s" && echo "$out" | tail -4 | quote
    [ "$rc" != 0 ] && [ "$rc" != 124 ] || { note "setup exit $rc (want a failure of setup itself, not of the harness' timeout)"; return 1; }
    [ $((t1 - t0)) -lt 60 ] || { note "took $((t1 - t0)) s"; return 1; }
    echo "$out" | grep -q "did not finish within 5 s" || { note "no line naming the hung command"; return 1; }
    left=$(pgrep -f 'e2e-hang' || true)
    [ -z "$left" ] || { note "processes of the hang still running: $left"; kill $left 2>/dev/null; return 1; }
    out=$(e2e_in_within 300 cts-server-setup 2>&1) || { echo "$out" | tail -5 | quote >&2; return 1; }
    echo "$out" | grep -q 'cts-server-setup: done' || { echo "$out" | tail -5 | quote >&2; return 1; }
    echo "--- the next run: $(echo "$out" | tail -1)"
}

# repack DEB with version VERSION (control + the version baked into the scripts) into DIR
repack_version() {
    local deb=$1 version=$2 dir=$3 old x f
    old=$(dpkg-deb -f "$deb" Version)
    x=$(mktemp -d /tmp/cts-e2e-repack.XXXXXX)
    dpkg-deb -R "$deb" "$x/t"
    sed -i "s/^Version: .*/Version: $version/" "$x/t/DEBIAN/control"
    for f in "$x"/t/DEBIAN/preinst "$x"/t/DEBIAN/postinst "$x"/t/DEBIAN/prerm "$x"/t/DEBIAN/postrm "$x"/t/usr/sbin/cts-server-setup; do
        [ -f "$f" ] && sed -i "s/^VERSION='$old'\$/VERSION='$version'/" "$f"
    done
    (cd "$x/t" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
    dpkg-deb --root-owner-group -Zxz -b "$x/t" "$dir/cts-server_${version}_all.deb" >/dev/null
    rm -rf "$x"
    set_files "$deb" | grep -- -pydeps- | xargs -r cp -t "$dir/"    # its dependencies package
    echo "$dir/cts-server_${version}_all.deb"
}

# the package's programs, as its supervisor.conf (rendered from the plan's one list) names them
program_count() { grep -c '^\[program:' "$E2E_ROOT/etc/cts-server/supervisor.conf"; }
# a program's supervisor name: its group (one per instance, cts-<instance>) and its own name
sv_name() { printf '%s:%s\n' "${1%-*}" "$1"; }
# supervisorctl status of every program of the package's groups (as supervisor.conf lists them)
sv_status() {
    # shellcheck disable=SC2046 # one GROUP:* per word
    e2e_in supervisorctl status $(sed -n 's/^\[group:\(.*\)\]$/\1:*/p' "$E2E_ROOT/etc/cts-server/supervisor.conf") 2>&1
}

all_running() { # every program RUNNING (waits up to 20 s for STARTING ones)
    local out n
    n=$(program_count)
    for _ in $(seq 20); do
        out=$(sv_status)
        [ "$(echo "$out" | grep -c ' RUNNING ')" = "$n" ] && return 0
        sleep 1
    done
    echo "$out" | quote >&2
    return 1
}

chk_downgrade_refused() {
    local deb=$1 installed out rc=0
    installed=$(e2e_in dpkg-query -W -f '${Version}' cts-server)
    stage_set "$deb" || return 1
    out=$(e2e_in apt-get install -y --allow-downgrades -o Dpkg::Use-Pty=0 "${DEBS[@]}" </dev/null 2>&1) || rc=$?
    echo "$out" | grep -E 'refusing|cts-server:' | quote
    [ $rc != 0 ] || { note "the downgrade was accepted"; return 1; }
    echo "$out" | grep -q 'refusing to downgrade' || { echo "$out" | tail -20 | quote >&2; return 1; }
    [ "$(e2e_in dpkg-query -W -f '${Version} ${Status}' cts-server)" = "$installed install ok installed" ] \
        || { note "state after refusal: $(e2e_in dpkg-query -W -f '${Version} ${Status}' cts-server)"; return 1; }
    sleep 6    # abort-upgrade restarted the workers and beats stopped by the prerm
    all_running && chk_health turkey && chk_health iraq
}

chk_remove() {
    local n pid
    # another site, which must keep being served
    echo "$OTHER_SITE" >"$E2E_ROOT/etc/nginx/sites-available/e2e-other"
    ln -sf ../sites-available/e2e-other "$E2E_ROOT/etc/nginx/sites-enabled/e2e-other"
    e2e_in /etc/init.d/nginx reload >/dev/null 2>&1
    sleep 1
    other_site_ok || { note "the other site does not answer before the remove"; return 1; }
    pid=$(cat "$E2E_ROOT/run/nginx.pid")
    e2e_in apt-get remove -y -o Dpkg::Use-Pty=0 cts-server </dev/null >/tmp/cts-e2e-remove.$$ 2>&1 \
        || { quote </tmp/cts-e2e-remove.$$ >&2; rm -f /tmp/cts-e2e-remove.$$; return 1; }
    rm -f /tmp/cts-e2e-remove.$$
    sleep 2
    n=0
    while IFS= read -r line; do
        case "$line" in *cts-run* | *"gunicorn cts.wsgi"* | *"celery -A cts"*) n=$((n + 1)); note "left: $line" ;; esac
    done < <(all_cmdlines)
    [ "$n" = 0 ] || { note "$n cts processes still running after remove"; return 1; }
    ! e2e_in supervisorctl status 2>/dev/null | grep -q '^cts-' || { note "supervisor still has cts-* groups"; return 1; }
    [ ! -e "$E2E_ROOT/etc/supervisor/conf.d/cts-server.conf" ] || { note "supervisor link left"; return 1; }
    [ ! -e "$E2E_ROOT/etc/nginx/sites-enabled/cts.conf" ] || { note "nginx link left"; return 1; }
    e2e_in nginx -t -q || { note "nginx -t fails after remove"; return 1; }
    kill -0 "$pid" 2>/dev/null || { note "nginx stopped by the remove"; return 1; }
    other_site_ok || { note "the other site is not served after the remove"; return 1; }
    [ -e "$E2E_ROOT/etc/cts-server/turkey.env" ] || { note "secrets deleted on remove"; return 1; }
    [ -L "$E2E_ROOT/var/www/cts/env" ] || { note "venv deleted on remove"; return 1; }
}

chk_reinstall() { # from the config-files state: links and programs come back, same secrets
    local deb=$1 before after log=/tmp/cts-e2e-reinstall.$$
    before=$(cat "$E2E_ROOT"/etc/cts-server/*.env | sha256sum)
    stage_set "$deb" || return 1
    e2e_in apt-get install -y -o Dpkg::Use-Pty=0 "${DEBS[@]}" </dev/null >"$log" 2>&1 \
        || { quote <"$log" | tail -30 >&2; rm -f "$log"; return 1; }
    rm -f "$log"
    after=$(cat "$E2E_ROOT"/etc/cts-server/*.env | sha256sum)
    [ "$before" = "$after" ] || { note "secrets changed"; return 1; }
    chk_no_pending && all_running && chk_nginx && chk_health turkey && chk_health iraq
}

chk_purge() {
    POLLS_BEFORE_PURGE=$(polls turkey)
    e2e_in apt-get purge -y -o Dpkg::Use-Pty=0 cts-server </dev/null >/tmp/cts-e2e-purge.$$ 2>&1 \
        || { quote </tmp/cts-e2e-purge.$$ >&2; rm -f /tmp/cts-e2e-purge.$$; return 1; }
    rm -f /tmp/cts-e2e-purge.$$
    local left
    left=$(cd "$E2E_ROOT" && ls -d etc/cts-server var/lib/cts-server var/www/cts/env var/www/cts/env-* var/www/cts/ssl \
        var/www/cts/releases var/www/cts/current \
        var/www/cts/log var/www/cts/public/static var/www/cts/source \
        etc/rabbitmq/conf.d/50-cts-server.conf etc/rabbitmq/conf.d/51-cts-server-distribution.conf \
        etc/systemd/system/epmd.socket.d etc/nginx/sites-available/cts.conf etc/nginx/sites-enabled/cts.conf \
        etc/supervisor/conf.d/cts-server.conf 2>/dev/null)
    [ -z "$left" ] || { note "left after purge: $left"; return 1; }
    ! grep -q cts-server "$E2E_ROOT/etc/rabbitmq/rabbitmq-env.conf" || { note "setup's block left in rabbitmq-env.conf"; return 1; }
    e2e_in getent passwd cts >/dev/null || { note "user cts deleted"; return 1; }
    [ "$(cat "$E2E_ROOT/var/www/cts/public/media/e2e-upload.txt" 2>/dev/null)" = kept ] || { note "media deleted"; return 1; }
    note "kept: user cts, databases cts_turkey/cts_iraq, RabbitMQ vhosts/users, media, /var/backups/cts-server"
    [ "$(psql_in postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'cts_%'")" = 2 ] || { note "databases dropped"; return 1; }
}

# --- lifecycle helpers ----------------------------------------------------------------------------

apt_in() { # apt_in LOG ARGS...: apt-get -y ARGS inside the namespace, output to LOG
    local log=$1
    shift
    e2e_in apt-get -y -o Dpkg::Use-Pty=0 "$@" </dev/null >"$log" 2>&1
}
status_of() { e2e_in dpkg-query -W -f '${Version} ${Status}' cts-server 2>/dev/null; }
secrets_sum() { cat "$E2E_ROOT"/etc/cts-server/*.env 2>/dev/null | sha256sum; }
gunicorn_master() { e2e_in supervisorctl pid "cts-$1:cts-$1-gunicorn" 2>/dev/null; }
children_of() { # PIDs whose parent is $1
    local p
    for p in /proc/[0-9]*; do
        [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$1" ] && printf '%s\n' "${p#/proc/}"
    done
    return 0
}
# host_status INSTANCE HOST: HTTP status of INSTANCE's /health/ asked as HOST, straight from its
# gunicorn (as nginx forwards it), so that Django's ALLOWED_HOSTS answers: nginx itself refuses
# names that are not server names before Django would
host_status() {
    ccurl -o /dev/null -w '%{http_code}' -H "Host: $2" -H 'X-Forwarded-Proto: https' \
        "http://127.0.0.1:${PORT[$1]}${PREFIX[$1]}/health/" 2>/dev/null
}

# install_under_load NAME DEB LOG [PATH...]: apt-get install DEB (conffiles: the default answer,
# else the admin's version) while load_start NAME PATH... runs; then load_stop NAME (LOAD_LINE,
# LOAD_FAILURES) and APT_SECONDS; returns apt-get's status
install_under_load() {
    local name=$1 deb=$2 log=$3 rc=0 t1 t2
    shift 3
    stage_set "$deb" || return 1
    load_start "$name" "$@"
    t1=$(date +%s)
    apt_in "$log" install -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${DEBS[@]}" || rc=$?
    t2=$(date +%s)
    sleep 5    # the old gunicorn workers finish; the new ones serve
    load_stop "$name"
    APT_SECONDS=$((t2 - t1))
    return $rc
}

# zero-downtime probe: load_start NAME [PATH...], ..., load_stop NAME → LOAD_LINE, LOAD_FAILURES
# (PATHs: the health pages of turkey and iraq unless given)
load_start() {
    local name=$1
    shift
    [ $# -gt 0 ] || set -- /TR/health/ /IQ/health/
    cp "$HERE/load.py" "$E2E_ROOT/tmp/cts-load.py"
    rm -f "$E2E_ROOT/tmp/cts-load.stop"
    e2e_in python3 /tmp/cts-load.py --stop /tmp/cts-load.stop --max-seconds 900 --max-requests 60000 \
        --host "$HOST" "$@" >"$E2E_WORK/cts-e2e-load-$name.$$" 2>&1 &
    LOAD_PID=$!
    sleep 2
}
load_stop() {
    touch "$E2E_ROOT/tmp/cts-load.stop"
    wait "$LOAD_PID"
    LOAD_LINE=$(grep '^LOAD ' "$E2E_WORK/cts-e2e-load-$1.$$" || cat "$E2E_WORK/cts-e2e-load-$1.$$")
    rm -f "$E2E_WORK/cts-e2e-load-$1.$$" "$E2E_ROOT/tmp/cts-load.stop"
    LOAD_FAILURES=$(echo "$LOAD_LINE" | sed -n 's/.* failures=\([0-9]*\).*/\1/p')
    echo "ZERO-DOWNTIME ($1): $LOAD_LINE"
}

# every action dpkg can pass: the harmless ones exit 0, unknown ones fail loudly
chk_maint_args() {
    local d=/var/lib/dpkg/info/cts-server bad=0 a out
    run_ok() { # run_ok SCRIPT ARGS...
        if ! out=$(e2e_in "$d.$1" "${@:2}" 2>&1); then note "$1 ${*:2}: failed: $out"; bad=1; fi
    }
    run_ok preinst abort-upgrade 9.9
    run_ok prerm failed-upgrade 0.9 0.9
    for a in "upgrade 9.9" "failed-upgrade 0.9 9.9" "abort-install" "abort-install 0.9" \
        "abort-upgrade 0.9" "disappear other-pkg 1.0"; do
        # shellcheck disable=SC2086
        run_ok postrm $a
    done
    run_ok postinst abort-upgrade 9.9
    run_ok postinst abort-remove
    # deconfigure (Breaks/Conflicts) stops the programs; abort-deconfigure starts them again
    run_ok prerm deconfigure in-favour other-pkg 1.0
    if sv_status | grep -q ' RUNNING '; then note "deconfigure left programs running"; bad=1; fi
    run_ok postinst abort-deconfigure in-favour other-pkg 1.0
    all_running || bad=1
    for a in preinst postinst prerm postrm; do
        if out=$(e2e_in "$d.$a" bogus-action 2>&1); then
            note "$a bogus-action succeeded"; bad=1
        elif ! echo "$out" | grep -q "unknown argument 'bogus-action'"; then
            note "$a bogus-action: '$out'"; bad=1
        fi
    done
    return $bad
}

chk_reinstall_same() { # apt-get install --reinstall of the installed version, under load
    local deb=$1 version before venv m1 m2 log=$E2E_WORK/cts-e2e-reinstall-same.$$ rc=0
    version=$(dpkg-deb -f "$deb" Version)
    before=$(secrets_sum)
    venv=$(readlink "$E2E_ROOT/var/www/cts/current")
    m1=$(gunicorn_master turkey)
    stage_set "$deb" || return 1
    load_start reinstall
    apt_in "$log" install --reinstall "${DEBS[@]}" || rc=$?
    sleep 3
    load_stop reinstall
    [ $rc = 0 ] || { quote <"$log" | tail -30 >&2; rm -f "$log"; return 1; }
    grep -E 'cts-server-setup: (done|warning|supervisor)' "$log" | quote
    rm -f "$log"
    [ "$(status_of)" = "$version install ok installed" ] || { note "state: $(status_of)"; return 1; }
    [ "$(secrets_sum)" = "$before" ] || { note "secrets changed"; return 1; }
    [ "$(readlink "$E2E_ROOT/var/www/cts/current")" = "$venv" ] || { note "release rebuilt on a reinstall"; return 1; }
    m2=$(gunicorn_master turkey)
    [ "$m1" = "$m2" ] || { note "gunicorn master restarted ($m1 -> $m2)"; return 1; }
    [ "${LOAD_FAILURES:-x}" = 0 ] || { note "failed requests during the reinstall"; return 1; }
    chk_no_pending && all_running && chk_conffiles_pristine && chk_health turkey && chk_health iraq
}

# N -> N+1 (new migration, changed conffiles) while a client loop hits both instances; the admin
# edited iraq.conf before, so dpkg keeps it under --force-confdef --force-confold.
# Sets UPG_* results for the individual checks below.
run_upgrade_under_load() {
    local deb2=$1 log=$E2E_WORK/cts-e2e-upgrade.$$ inst rc=0
    UPG_VERSION=$(dpkg-deb -f "$deb2" Version)
    UPG_SECRETS=$(secrets_sum)
    UPG_VENV=$(readlink "$E2E_ROOT/var/www/cts/current")
    for inst in "${INSTANCES[@]}"; do
        declare -g "UPG_MASTER_$inst=$(gunicorn_master "$inst")"
        declare -g "UPG_WORKERS_$inst=$(children_of "$(gunicorn_master "$inst")" | tr '\n' ' ')"
        declare -g "UPG_POLLS_$inst=$(polls "$inst")"
    done
    e2e_in runuser -u cts-turkey -- sh -c 'echo kept > /var/www/cts/public/media/e2e-upload.txt'
    # the admin lets iraq answer to one more name (takes effect with the next reload)
    printf "# edited by the admin\nCTS_ALLOWED_HOSTS='cts.example.org,localhost,iraq.example.test'\n" \
        >>"$E2E_ROOT/etc/cts-server/iraq.conf"
    UPG_HOSTS_BEFORE="turkey@next.example.test=$(host_status turkey next.example.test) iraq@iraq.example.test=$(host_status iraq iraq.example.test)"
    UPG_IRAQ_SUM=$(sha256sum <"$E2E_ROOT/etc/cts-server/iraq.conf")
    install_under_load upgrade "$deb2" "$log" || rc=$?
    echo "UPGRADE TIME (apt-get install N -> N+1 under load): ${APT_SECONDS}s"
    grep -E 'cts-server-setup|Unpacking|Setting up cts|dpkg-dist|Configuration file' "$log" | quote
    UPG_RC=$rc
    [ $rc = 0 ] || quote <"$log" | tail -30 >&2
    rm -f "$log"
}

chk_upg_installed() {
    [ "$UPG_RC" = 0 ] || { note "apt-get install exited $UPG_RC"; return 1; }
    [ "$(status_of)" = "$UPG_VERSION install ok installed" ] || { note "state: $(status_of)"; return 1; }
}
chk_upg_zero_downtime() {
    [ "${LOAD_FAILURES:-x}" = 0 ] || { note "$LOAD_LINE"; return 1; }
}
chk_upg_gunicorn_graceful() { # same master (no restart), all new workers, new settings in them
    local inst m w old new
    for inst in "${INSTANCES[@]}"; do
        m=$(gunicorn_master "$inst")
        old="UPG_MASTER_$inst"
        [ "$m" = "${!old}" ] || { note "$inst: gunicorn master restarted (${!old} -> $m)"; return 1; }
        old="UPG_WORKERS_$inst"
        new=$(children_of "$m" | tr '\n' ' ')
        [ -n "$new" ] || { note "$inst: no workers"; return 1; }
        for w in $new; do
            case " ${!old} " in *" $w "*) note "$inst: worker $w survived the reload"; return 1 ;; esac
        done
    done
    # the new workers see the new settings (CTS_ALLOWED_HOSTS, re-read by gunicorn.conf.py on HUP):
    # the package's new turkey.conf and the admin's kept iraq.conf; both were 400 before
    local after
    after="turkey@next.example.test=$(host_status turkey next.example.test) iraq@iraq.example.test=$(host_status iraq iraq.example.test)"
    note "new allowed host: before the upgrade $UPG_HOSTS_BEFORE; after $after"
    [ "$UPG_HOSTS_BEFORE" = "turkey@next.example.test=400 iraq@iraq.example.test=400" ] || return 1
    [ "$after" = "turkey@next.example.test=200 iraq@iraq.example.test=200" ] || return 1
}
chk_upg_venv_switched() {
    local now
    now=$(readlink "$E2E_ROOT/var/www/cts/current")
    [ "$now" != "$UPG_VENV" ] || { note "no new release ($now)"; return 1; }
    [ "releases/$(cat "$E2E_ROOT/var/lib/cts-server/previous-release")" = "$UPG_VENV" ] && [ -d "$E2E_ROOT/var/www/cts/$UPG_VENV/env" ] \
        || { note "previous release $UPG_VENV not kept for --rollback"; return 1; }
    chk_workers_in_release "$now" || return 1
    grep -q "version=$UPG_VERSION " "$E2E_ROOT/var/www/cts/env/.cts-server-stamp" || { note "stamp: $(cat "$E2E_ROOT/var/www/cts/env/.cts-server-stamp")"; return 1; }
    head -1 "$E2E_ROOT/var/www/cts/env/bin/gunicorn" | grep -qx '#!/var/www/cts/env/bin/python' \
        || { note "gunicorn shebang: $(head -1 "$E2E_ROOT/var/www/cts/env/bin/gunicorn")"; return 1; }
    note "current -> $UPG_VENV before, -> $now after"
}

# chk_workers_in_release releases/R [INSTANCE...]: each program's process works in release R (cwd),
# gunicorn's workers (forked after the reload) included
chk_workers_in_release() {
    local want=/var/www/cts/$1/source pid cwd p bad=0
    shift
    [ $# -gt 0 ] || set -- "${INSTANCES[@]}"
    for p in $(for i in "$@"; do printf 'cts-%s-gunicorn cts-%s-worker cts-%s-beat ' "$i" "$i" "$i"; done); do
        pid=$(e2e_in supervisorctl pid "$(sv_name "$p")" 2>/dev/null)
        for pid in $pid $(children_of "$pid"); do
            cwd=$(readlink "/proc/$pid/cwd") || continue
            cwd=${cwd#"$(readlink -f "$E2E_ROOT")"}
            [ "$cwd" = "$want" ] || { note "$p ($pid) works in $cwd, not $want"; bad=1; }
        done
    done
    return $bad
}
chk_upg_migrated_and_backed_up() {
    local inst
    for inst in "${INSTANCES[@]}"; do
        [ "$(psql_in "cts_$inst" "SELECT count(*) FROM django_migrations WHERE app = 'scans' AND name = '0002_e2e_upgrade'")" = 1 ] \
            || { note "cts_$inst: 0002 not applied"; return 1; }
        [ "$(psql_in "cts_$inst" "SELECT to_regclass('public.scans_e2e_upgrade') IS NOT NULL")" = t ] || { note "cts_$inst: no new table"; return 1; }
    done
    [ "$(ls "$E2E_ROOT"/var/backups/cts-server/*.dump 2>/dev/null | wc -l)" = 2 ] || { note "pre-migration dumps: $(ls "$E2E_ROOT"/var/backups/cts-server/)"; return 1; }
    [ "$(cat "$E2E_ROOT/var/lib/cts-server/migrated-version")" = "$UPG_VERSION" ] || { note "migrated-version not updated"; return 1; }
}
chk_upg_data_kept() {
    local inst old n
    [ "$(secrets_sum)" = "$UPG_SECRETS" ] || { note "secrets changed"; return 1; }
    for inst in "${INSTANCES[@]}"; do
        old="UPG_POLLS_$inst"
        n=$(polls "$inst")
        [ "$n" -ge "${!old}" ] 2>/dev/null || { note "$inst: poll rows $n < ${!old}"; return 1; }
    done
    [ "$(cat "$E2E_ROOT/var/www/cts/public/media/e2e-upload.txt" 2>/dev/null)" = kept ] || { note "media file lost"; return 1; }
}
chk_upg_conffiles() { # unedited turkey.conf updated; edited iraq.conf kept, new one as .dpkg-dist
    local c=$E2E_ROOT/etc/cts-server
    grep -qx "CTS_E2E_RELEASE='2'" "$c/turkey.conf" || { note "turkey.conf not updated"; return 1; }
    grep -q "server_name cts.example.org next.example.test;" "$E2E_ROOT/etc/nginx/sites-available/cts.conf" \
        || { note "nginx site not updated"; return 1; }
    [ "$(sha256sum <"$c/iraq.conf")" = "$UPG_IRAQ_SUM" ] || { note "the admin's iraq.conf was replaced"; return 1; }
    grep -qx "CTS_E2E_RELEASE='2'" "$c/iraq.conf.dpkg-dist" 2>/dev/null || { note "no iraq.conf.dpkg-dist with the new version"; return 1; }
    [ ! -e "$c/turkey.conf.dpkg-dist" ] && [ ! -e "$c/turkey.conf.dpkg-old" ] || { note "turkey.conf backups left"; return 1; }
}
chk_upg_running() {
    all_running && chk_health turkey && chk_health iraq && chk_one_beat turkey && chk_one_beat iraq
}

chk_half_configured() { # the postinst dies half-way (CTS_SERVER_FAIL_AT), dpkg --configure -a finishes
    local deb=$1 log=$E2E_WORK/cts-e2e-half.$$ rc=0 version
    version=$(dpkg-deb -f "$deb" Version)
    stage_set "$deb" || return 1
    e2e_in env CTS_SERVER_FAIL_AT=migrate apt-get install -y --reinstall -o Dpkg::Use-Pty=0 \
        "${DEBS[@]}" </dev/null >"$log" 2>&1 || rc=$?
    grep -E "on purpose|half|error processing" "$log" | head -4 | quote
    [ $rc != 0 ] || { note "the injected failure did not fail the postinst"; rm -f "$log"; return 1; }
    [ "$(status_of)" = "$version install ok half-configured" ] || { note "state: $(status_of)"; rm -f "$log"; return 1; }
    e2e_in dpkg --configure -a </dev/null >"$log" 2>&1 || { quote <"$log" | tail -20 >&2; rm -f "$log"; return 1; }
    grep -E 'cts-server-setup: (done|warning|error)' "$log" | quote
    rm -f "$log"
    [ "$(status_of)" = "$version install ok installed" ] || { note "state after --configure -a: $(status_of)"; return 1; }
    chk_no_pending && all_running && chk_health turkey && chk_health iraq
}

OTHER_SITE='server { listen 127.0.0.1:8080; location / { default_type text/plain; return 200 "other site\n"; } }'
other_site_ok() { [ "$(ccurl http://127.0.0.1:8080/ 2>/dev/null)" = "other site" ]; }

chk_broken_other_site() { # another site breaks nginx -t: our postinst must not take nginx down
    local deb=$1 pid log=$E2E_WORK/cts-e2e-broken.$$ rc=0
    pid=$(cat "$E2E_ROOT/run/nginx.pid")
    printf 'server { listen 127.0.0.1:8081; this_is_no_directive on; }\n' >"$E2E_ROOT/etc/nginx/sites-available/zz-broken"
    ln -sf ../sites-available/zz-broken "$E2E_ROOT/etc/nginx/sites-enabled/zz-broken"
    stage_set "$deb" || return 1
    apt_in "$log" install --reinstall "${DEBS[@]}" || rc=$?
    grep -E 'cts-server-setup: (warning|done)' "$log" | head -3 | quote
    rm -f "$E2E_ROOT/etc/nginx/sites-enabled/zz-broken" "$E2E_ROOT/etc/nginx/sites-available/zz-broken"
    [ $rc = 0 ] || { quote <"$log" | tail -20 >&2; rm -f "$log"; return 1; }
    rm -f "$log"
    kill -0 "$pid" 2>/dev/null && [ "$(cat "$E2E_ROOT/run/nginx.pid")" = "$pid" ] || { note "nginx master $pid gone"; return 1; }
    [ -L "$E2E_ROOT/etc/nginx/sites-enabled/cts.conf" ] || { note "our site link was removed"; return 1; }
    chk_health turkey && chk_health iraq
}

chk_install_after_purge() { # from "not installed": database and user reused, rows still there
    local deb=$1 log=$E2E_WORK/cts-e2e-after-purge.$$ n
    install_deb "$deb" "$log" || { quote <"$log" | tail -30 >&2; rm -f "$log"; return 1; }
    rm -f "$log"
    chk_no_pending && all_running && chk_health turkey && chk_health iraq || return 1
    n=$(polls turkey)
    [ "$n" -ge "$POLLS_BEFORE_PURGE" ] 2>/dev/null || { note "rows lost: $n < $POLLS_BEFORE_PURGE"; return 1; }
}

# piuparts' order: remove cts-server, purge its dependencies, then purge cts-server
chk_purge_after_deps() {
    local log=$E2E_WORK/cts-e2e-depspurge.$$ deps left
    apt_in "$log" remove cts-server || { quote <"$log" | tail -20 >&2; rm -f "$log"; return 1; }
    deps=$(e2e_in dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' 'postgresql*' 'rabbitmq-server' 'supervisor' 'nginx*' 'erlang-base' \
        2>/dev/null | awk '$2 ~ /^[ic]/ {print $1}' | tr '\n' ' ')
    note "purging first: $deps"
    # shellcheck disable=SC2086
    apt_in "$log" purge $deps || { quote <"$log" | tail -20 >&2; rm -f "$log"; return 1; }
    touch "$E2E_ROOT/etc/cts-server/purge-data"   # the admin's opt-in: media go too (PostgreSQL is gone)
    e2e_in dpkg --purge cts-server </dev/null >"$log" 2>&1 || { quote <"$log" >&2; rm -f "$log"; return 1; }
    quote <"$log"
    rm -f "$log"
    [ -z "$(e2e_in dpkg-query -W -f '${Status}' cts-server 2>/dev/null | grep -v 'not-installed')" ] || { note "state: $(status_of)"; return 1; }
    left=$(cd "$E2E_ROOT" && ls -d etc/cts-server var/lib/cts-server var/www/cts/env var/www/cts/env-* var/www/cts/ssl \
        var/www/cts/releases var/www/cts/current \
        var/www/cts/log var/www/cts/public/static 2>/dev/null)
    [ -z "$left" ] || { note "left after purge: $left"; return 1; }
    e2e_in getent passwd cts >/dev/null || { note "user cts deleted"; return 1; }
    [ ! -e "$E2E_ROOT/var/www/cts/public/media" ] || { note "purge-data set, media kept"; return 1; }
}

# --- scenario: install while PostgreSQL and RabbitMQ are stopped ---------------------------------
scenario_pg_stopped() {
    local deb=$1 out rc
    e2e_init
    # shellcheck disable=SC2046 # one package name per word
    e2e_prepare_root $(deps_of "$deb")
    e2e_enter
    e2e_start_services
    e2e_in /etc/init.d/postgresql stop >/dev/null 2>&1
    e2e_in /etc/init.d/rabbitmq-server stop >/dev/null 2>&1
    if e2e_in pg_isready -q; then fail pg-stopped-precondition; return; fi
    if e2e_in bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672' 2>/dev/null; then fail rabbitmq-stopped-precondition; return; fi
    install_deb "$deb" "$E2E_WORK/cts-e2e-pgstopped-install.$$.log"
    rc=$?
    echo "--- apt-get install with PostgreSQL and RabbitMQ stopped (exit $rc, ${INSTALL_SECONDS}s); cts-server-setup output:"
    grep -E 'cts-server-setup|^Setting up cts-server' "$E2E_WORK/cts-e2e-pgstopped-install.$$.log" | quote
    if [ $rc = 0 ] && e2e_in dpkg-query -W -f '${Status}' cts-server | grep -q 'install ok installed'; then
        pass pg-stopped-package-configures
    else
        quote <"$E2E_WORK/cts-e2e-pgstopped-install.$$.log" | tail -30
        fail pg-stopped-package-configures
    fi
    rm -f "$E2E_WORK/cts-e2e-pgstopped-install.$$.log"
    if grep -qx db "$E2E_ROOT/var/lib/cts-server/pending" 2>/dev/null \
        && grep -qx broker "$E2E_ROOT/var/lib/cts-server/pending" 2>/dev/null; then
        pass pg-stopped-skip-recorded
    else
        note "pending: $(cat "$E2E_ROOT/var/lib/cts-server/pending" 2>/dev/null)"
        fail pg-stopped-skip-recorded
    fi
    e2e_in /etc/init.d/postgresql start >/dev/null 2>&1
    e2e_in /etc/init.d/rabbitmq-server start >/dev/null 2>&1
    out=$(e2e_in cts-server-setup 2>&1)
    rc=$?
    echo "--- after starting PostgreSQL and RabbitMQ: cts-server-setup (exit $rc):"
    echo "$out" | quote
    if [ $rc = 0 ] && echo "$out" | grep -q 'cts-server-setup: done' && chk_no_pending; then
        pass pg-stopped-setup-completes
    else
        fail pg-stopped-setup-completes
    fi
    sleep 3
    check pg-stopped-health-TR chk_health turkey
    check pg-stopped-health-IQ chk_health iraq
    check pg-stopped-databases chk_databases
    check pg-stopped-rabbitmq-vhosts-users chk_broker
    check pg-stopped-rabbitmq-loopback-only chk_listen_loopback 5672
}

# scenario_server DEPS-DEB DEB CHECK: a serving server for a scenario: a chroot with DEPS-DEB's
# dependencies, its services started, DEB installed (CHECK passes or fails on that); 1 if not
scenario_server() {
    local log=$E2E_WORK/cts-e2e-scenario.$$.log rc=0
    e2e_init
    # shellcheck disable=SC2046 # one package name per word
    e2e_prepare_root $(deps_of "$1")
    e2e_enter
    e2e_start_services
    install_deb "$2" "$log" || rc=$?
    if [ $rc = 0 ]; then pass "$3"; else quote <"$log" | tail -30; fail "$3"; fi
    rm -f "$log"
    sleep 3
    return $rc
}

# --- scenario: add an instance, then remove one, each by an upgrade under load --------------------
# Each instance is a supervisor group of its own: the instances an upgrade neither adds nor
# removes keep serving without one failed request and keep their gunicorn master (a graceful
# reload for the new code); the added one starts, the removed one stops and its data stays.
scenario_instances() {
    local deb=$1 add=$2 drop=$3
    PREFIX[jordan]=/JO
    scenario_server "$deb" "$deb" instances-base-installs || return 0
    upgrade_under_load add-instance "$add" /TR/health/ /IQ/health/ turkey iraq
    check add-instance-zero-failed-requests-on-the-others chk_upg_zero_downtime
    check add-instance-others-keep-their-gunicorn chk_masters_kept turkey iraq
    check add-instance-jordan-programs-running chk_program cts-jordan-gunicorn "gunicorn cts.wsgi:application --bind 127.0.0.1:8003"
    check add-instance-jordan-health chk_health jordan
    upgrade_under_load remove-instance "$drop" /TR/health/ /JO/health/ turkey jordan
    check remove-instance-zero-failed-requests-on-the-others chk_upg_zero_downtime
    check remove-instance-others-keep-their-gunicorn chk_masters_kept turkey jordan
    check remove-instance-iraq-programs-gone chk_iraq_gone
    check remove-instance-iraq-data-kept chk_iraq_data_kept
    check remove-instance-health-TR chk_health turkey
    INSTANCES=(turkey jordan)
    shift 3
    scenario_failures "$@"
}

# upgrade_under_load NAME DEB PATH PATH INSTANCE...: install_under_load DEB with PATHs loaded;
# remembers each INSTANCE's gunicorn master (UPG_MASTER_<instance>) first
upgrade_under_load() {
    local name=$1 deb=$2 p1=$3 p2=$4 inst rc=0 log=$E2E_WORK/cts-e2e-$1.$$.log
    shift 4
    for inst in "$@"; do declare -g "UPG_MASTER_$inst=$(gunicorn_master "$inst")"; done
    install_under_load "$name" "$deb" "$log" "$p1" "$p2" || rc=$?
    echo "--- $name: apt-get install $(basename "$deb") exited $rc; cts-server-setup said:"
    grep -E 'cts-server-setup: (supervisor|error|warning|INCOMPLETE|done)' "$log" | quote
    [ $rc = 0 ] || { quote <"$log" | tail -20; LOAD_FAILURES="apt-get failed"; }
    rm -f "$log"
}

chk_masters_kept() { # chk_masters_kept INSTANCE...: same gunicorn master as before the upgrade
    local inst old now bad=0
    for inst in "$@"; do
        old="UPG_MASTER_$inst"
        now=$(gunicorn_master "$inst")
        [ -n "${!old}" ] && [ "$now" = "${!old}" ] || { note "$inst: gunicorn master ${!old} -> $now"; bad=1; }
    done
    return $bad
}

chk_iraq_gone() {
    local out
    out=$(e2e_in supervisorctl status 2>&1)
    echo "$out" | quote
    ! echo "$out" | grep -q 'cts-iraq' || { note "supervisor still has iraq's programs"; return 1; }
    ! e2e_in pgrep -u cts-iraq >/dev/null || { note "processes of cts-iraq still run"; return 1; }
}

chk_iraq_data_kept() {
    [ "$(psql_in postgres "SELECT 1 FROM pg_database WHERE datname = 'cts_iraq'")" = 1 ] || { note "database cts_iraq gone"; return 1; }
    [ -f "$E2E_ROOT/etc/cts-server/iraq.env" ] || { note "iraq.env gone"; return 1; }
}

# --- scenario, continued: upgrades that fail, on the server of scenario_instances -------------
# (turkey and jordan). Each failure must leave the previous release fully running: its gunicorn,
# workers and beats RUNNING in it, every database back on its schema, no failed request.

# build_failing DIR VERSION KIND: turkey+jordan with a migration that KIND names:
#   fails   scans 0002 (a table) and 0003, which raises on jordan's database only: turkey (first)
#           is migrated, jordan fails half-way
#   fixed   the same 0002, and a 0003 that works
#   slow    fixed, plus 0004, which sleeps 300 s on jordan while /tmp/cts-e2e-slow exists
build_failing() {
    local dir=$1 version=$2 kind=$3 app=$1/app-$3 body
    app_with_0002 "$app"
    body='pass'
    [ "$kind" != fails ] || body='if schema_editor.connection.settings_dict["NAME"] == "cts_jordan":
        raise RuntimeError("e2e: migration 0003 fails on cts_jordan")'
    cat >"$app/scans/migrations/0003_e2e_step.py" <<PY
from django.db import migrations


def forward(apps, schema_editor):
    $body


class Migration(migrations.Migration):
    dependencies = [("scans", "0002_e2e_upgrade")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
PY
    if [ "$kind" = slow ]; then
        cat >"$app/scans/migrations/0004_e2e_slow.py" <<'PY'
import os
import time

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.settings_dict["NAME"] == "cts_jordan" and os.path.exists("/tmp/cts-e2e-slow"):
        time.sleep(300)


class Migration(migrations.Migration):
    dependencies = [("scans", "0003_e2e_step")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
PY
    fi
    E2E_INSTANCES=+jordan-iraq build_deb "$dir" "$version" "$app"
}

applied() { # applied INSTANCE: scans migrations applied to its database, on one line
    psql_in "cts_$1" "SELECT name FROM django_migrations WHERE app = 'scans' ORDER BY id" | tr '\n' ' '
}

# attempt_under_load NAME DEB: install DEB with turkey and jordan loaded; FAILED_RC its exit
attempt_under_load() {
    local log=$E2E_WORK/cts-e2e-$1.$$.log
    FAILED_RC=0
    install_under_load "$1" "$2" "$log" /TR/health/ /JO/health/ || FAILED_RC=$?
    echo "--- $1: apt-get install $(basename "$2") exited $FAILED_RC; cts-server-setup said:"
    grep -E 'cts-server-setup|No space|Errno' "$log" | grep -v '^ *$' | tail -25 | quote
    rm -f "$log"
}

# chk_previous_running RELEASE: the failure left RELEASE current, every program RUNNING in it
chk_previous_running() {
    [ "$(readlink "$E2E_ROOT/var/www/cts/current")" = "$1" ] || { note "current -> $(readlink "$E2E_ROOT/var/www/cts/current"), not $1"; return 1; }
    all_running || return 1
    chk_workers_in_release "$1" turkey jordan
}

chk_failed_install() { # chk_failed_install VERSION: apt failed, the package is half-configured
    [ "$FAILED_RC" != 0 ] || { note "apt-get succeeded"; return 1; }
    [ "$(status_of)" = "$1 install ok half-configured" ] || { note "state: $(status_of)"; return 1; }
}

chk_schemas() { # chk_schemas EXPECTED: turkey's and jordan's applied scans migrations
    local inst bad=0
    for inst in turkey jordan; do
        [ "$(applied "$inst")" = "$1" ] || { note "$inst: applied '$(applied "$inst")', want '$1'"; bad=1; }
    done
    return $bad
}

scenario_failures() {
    local fails=$1 fixed=$2 full=$3 slow=$4 rel base first out pid i
    rel=$(readlink "$E2E_ROOT/var/www/cts/current")
    base=$(applied turkey)
    echo "--- before: release $rel, scans migrations applied: $base"
    # 1. a migration that fails on the second instance
    attempt_under_load failed-migration "$fails"
    check failed-migration-install-fails-half-configured chk_failed_install "$(dpkg-deb -f "$fails" Version)"
    check failed-migration-zero-failed-requests chk_upg_zero_downtime
    check failed-migration-both-databases-migrated-back chk_schemas "$base"
    check failed-migration-previous-release-running chk_previous_running "$rel"
    first=$(cd "$E2E_ROOT/var/backups/cts-server" && ls cts_jordan-*-from-* 2>/dev/null | sort | head -1)
    # retried as an admin would: the same failure, one more dump of the same upgrade
    out=$(e2e_in dpkg --configure -a 2>&1) && note "dpkg --configure -a succeeded"
    echo "$out" | grep -E 'cts-server-setup: (error|.*migrated .* back)' | quote
    # 2. the fixed version
    upgrade_under_load fixed-migration "$fixed" /TR/health/ /JO/health/ turkey jordan
    check fixed-migration-zero-failed-requests chk_upg_zero_downtime
    check fixed-migration-both-migrated chk_schemas "${base}0002_e2e_upgrade 0003_e2e_step "
    check fixed-migration-first-dump-of-the-upgrade-kept chk_first_dump_kept "$first"
    check fixed-migration-runs-new-release chk_previous_running "$(readlink "$E2E_ROOT/var/www/cts/current")"
    check rollback-migrates-back-runs-previous-release chk_rollback "$rel" "$base"
    check rollback-undone-by-setup-when-hold-removed chk_roll_forward "${base}0002_e2e_upgrade 0003_e2e_step "
    check rollback-with-dumps-restores-keeps-the-databases chk_rollback_dumps "$rel" "$base"
    check rollback-with-dumps-undone chk_roll_forward "${base}0002_e2e_upgrade 0003_e2e_step "
    # 3. the disk fills up while the new release is built
    rel=$(readlink "$E2E_ROOT/var/www/cts/current")
    disk_full_on
    attempt_under_load disk-full "$full"
    check disk-full-install-fails-half-configured chk_failed_install "$(dpkg-deb -f "$full" Version)"
    check disk-full-zero-failed-requests chk_upg_zero_downtime
    check disk-full-previous-release-running chk_previous_running "$rel"
    check disk-full-no-partial-release chk_no_partial_release "$rel"
    disk_full_off
    check disk-full-then-configure-a-completes chk_configure_a
    # 4. setup killed (SIGKILL) while jordan migrates
    rel=$(readlink "$E2E_ROOT/var/www/cts/current")
    base=$(applied turkey)
    touch "$E2E_ROOT/tmp/cts-e2e-slow"
    stage_set "$slow" || return 1
    load_start setup-killed /TR/health/ /JO/health/
    apt_in "$E2E_WORK/cts-e2e-killed.$$.log" install "${DEBS[@]}" &
    pid=$!
    for i in $(seq 1 240); do
        e2e_in pgrep -f 'manage.py migrate --noinput -v 1' >/dev/null && [ "$(applied turkey)" != "$base" ] && break
        sleep 0.5
    done
    kill_setup
    FAILED_RC=0
    wait "$pid" || FAILED_RC=$?
    rm -f "$E2E_ROOT/tmp/cts-e2e-slow"
    sleep 3
    load_stop setup-killed
    grep -E 'cts-server-setup|Killed' "$E2E_WORK/cts-e2e-killed.$$.log" | tail -12 | quote
    rm -f "$E2E_WORK/cts-e2e-killed.$$.log"
    check setup-killed-install-fails-half-configured chk_failed_install "$(dpkg-deb -f "$slow" Version)"
    check setup-killed-zero-failed-requests chk_upg_zero_downtime
    check setup-killed-turkey-migrated-back chk_schemas "$base"
    check setup-killed-previous-release-running chk_previous_running "$rel"
    check setup-killed-then-configure-a-completes chk_configure_a
    check status-lists-removed-instance-iraq chk_status_removed
    check forget-instance-refused-for-configured-turkey chk_forget_configured
    check forget-instance-iraq-drops-its-data-after-a-final-dump chk_forget_iraq
}

chk_status_removed() {
    local out
    out=$(e2e_in cts-server-setup --status 2>&1) || { echo "$out" | quote; return 1; }
    echo "--- cts-server-setup --status:"
    echo "$out" | quote
    echo "$out" | grep -q '^instance iraq: removed instance, data kept: database cts_iraq ' || return 1
    echo "$out" | grep -q '^instance turkey: configured; .*programs RUNNING: 3$' || return 1
}

chk_forget_configured() {
    local out
    if out=$(e2e_in cts-server-setup --forget-instance turkey 2>&1); then note "forgetting turkey succeeded"; return 1; fi
    echo "$out" | quote
    echo "$out" | grep -q 'turkey is configured' && [ "$(psql_in postgres "SELECT 1 FROM pg_database WHERE datname = 'cts_turkey'")" = 1 ]
}

chk_forget_iraq() {
    local out rc=0
    out=$(e2e_in cts-server-setup --forget-instance iraq 2>&1) || rc=$?
    echo "--- cts-server-setup --forget-instance iraq (exit $rc):"
    echo "$out" | quote
    [ $rc = 0 ] || return 1
    [ -z "$(psql_in postgres "SELECT 1 FROM pg_database WHERE datname = 'cts_iraq' UNION ALL SELECT 1 FROM pg_roles WHERE rolname = 'cts_iraq'")" ] || { note "database or role cts_iraq left"; return 1; }
    ! e2e_in rabbitmqctl -s list_vhosts name | grep -qx cts_iraq || { note "vhost cts_iraq left"; return 1; }
    ! e2e_in getent passwd cts-iraq >/dev/null || { note "user cts-iraq left"; return 1; }
    [ ! -e "$E2E_ROOT/etc/cts-server/iraq.env" ] || { note "iraq.env left"; return 1; }
    ls "$E2E_ROOT"/var/backups/cts-server/cts_iraq-*-final.dump >/dev/null 2>&1 || { note "no final dump of cts_iraq"; return 1; }
    ! e2e_in cts-server-setup --status | grep -q 'instance iraq' || { note "--status still lists iraq"; return 1; }
    chk_health turkey && chk_health jordan
}

# kill_setup: SIGKILL to the running cts-server-setup (the one flock started: it does the work)
kill_setup() {
    local p
    for p in $(e2e_in pgrep -f '/usr/sbin/cts-server-setup'); do
        if [ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')")" = flock ]; then
            echo "--- killing cts-server-setup ($p) with SIGKILL while it migrates jordan"
            kill -KILL "$p"
            return 0
        fi
    done
    note "no running cts-server-setup found"
}

chk_first_dump_kept() {
    [ -n "$1" ] && [ -f "$E2E_ROOT/var/backups/cts-server/$1" ] || { note "the dump before the first attempt ('$1') is gone: $(ls "$E2E_ROOT/var/backups/cts-server")"; return 1; }
    note "kept: $1; all: $(ls "$E2E_ROOT/var/backups/cts-server" | tr '\n' ' ')"
}

chk_rollback() { # chk_rollback RELEASE SCHEMA: --rollback by hand
    local out rc=0
    out=$(e2e_in cts-server-setup --rollback 2>&1) || rc=$?
    echo "--- cts-server-setup --rollback (exit $rc):"
    echo "$out" | quote
    [ $rc = 0 ] || return 1
    sleep 3
    chk_schemas "$2" && chk_previous_running "$1" && chk_health turkey && chk_health jordan || return 1
    out=$(e2e_in cts-server-setup 2>&1) || { echo "$out" | quote; return 1; }
    echo "$out" | grep -q 'held at release' || { note "a rerun did not keep the hold"; return 1; }
    # the schema is the previous version's, and so is the version recorded as migrated
    grep -qx "$(sed -n 's/^version=\([^ ]*\) .*/\1/p' "$E2E_ROOT/var/www/cts/$1/env/.cts-server-stamp")" \
        "$E2E_ROOT/var/lib/cts-server/migrated-version" || { note "migrated-version: $(cat "$E2E_ROOT/var/lib/cts-server/migrated-version")"; return 1; }
    chk_schemas "$2" && chk_previous_running "$1"
}

chk_roll_forward() { # with --backup, as an upgrade: dumps for --rollback --with-dumps
    local out
    rm -f "$E2E_ROOT/var/lib/cts-server/held-version"
    out=$(e2e_in cts-server-setup --backup 2>&1) || { echo "$out" | quote; return 1; }
    echo "$out" | grep -E 'release switched|migration' | quote
    sleep 3
    chk_schemas "$1" && chk_previous_running "$(readlink "$E2E_ROOT/var/www/cts/current")"
}

chk_rollback_dumps() { # chk_rollback_dumps RELEASE SCHEMA: --rollback --with-dumps by hand
    local out rc=0 kept
    out=$(e2e_in cts-server-setup --rollback --with-dumps 2>&1) || rc=$?
    echo "--- cts-server-setup --rollback --with-dumps (exit $rc):"
    echo "$out" | quote
    [ $rc = 0 ] || return 1
    sleep 3
    kept=$(psql_in postgres "SELECT count(*) FROM pg_database WHERE starts_with(datname, 'cts_turkey_rolled_back_') OR starts_with(datname, 'cts_jordan_rolled_back_')")
    [ "$kept" = 2 ] || { note "databases kept as <db>_rolled_back_*: $kept, want 2"; return 1; }
    chk_schemas "$2" && chk_previous_running "$1" && chk_health turkey && chk_health jordan
}

# disk_full_on: /var/www/cts/releases on a tmpfs holding what it holds plus 12 MiB: too small
# for a new virtualenv
disk_full_on() {
    local r=$E2E_ROOT/var/www/cts/releases size
    size=$(( $(du -sm "$r" | cut -f1) + 12 ))
    mkdir -p "$E2E_WORK/cts-e2e-small.$$"
    mount -t tmpfs -o "size=${size}m,mode=0755" tmpfs "$E2E_WORK/cts-e2e-small.$$"
    cp -a "$r/." "$E2E_WORK/cts-e2e-small.$$/"
    mount --bind "$E2E_WORK/cts-e2e-small.$$" "$r"
    echo "--- /var/www/cts/releases is now a ${size} MiB tmpfs ($(df -m "$r" | awk 'NR == 2 {print $4}') MiB free)"
}
disk_full_off() {
    umount -l "$E2E_ROOT/var/www/cts/releases"
    umount -l "$E2E_WORK/cts-e2e-small.$$"
    rmdir "$E2E_WORK/cts-e2e-small.$$"
}

chk_no_partial_release() {
    local left
    left=$(cd "$E2E_ROOT/var/www/cts/releases" && ls -d ./* | sed 's|^\./|releases/|' | grep -vxF "$1" | grep -vxF "releases/$(cat "$E2E_ROOT/var/lib/cts-server/previous-release")")
    [ -z "$left" ] || { note "left in releases: $left"; return 1; }
}

chk_configure_a() {
    local out
    out=$(e2e_in dpkg --configure -a 2>&1) || { echo "$out" | tail -20 | quote; return 1; }
    echo "$out" | grep -E 'cts-server-setup: (done|release switched|error|another)' | quote
    case "$(status_of)" in *" install ok installed") ;; *) note "state: $(status_of)"; return 1 ;; esac
    sleep 3
    all_running && chk_health turkey && chk_health jordan
}

# --- scenario: upgrade a serving server from the previous release -----------------------------------
# One user (cts) ran every instance and could read every instance's secrets; epmd and the Erlang
# distribution port listened on every address; uploads were cts:www-data. After "apt-get install"
# of this version: one user per instance, isolated; media kept and writable by the instances;
# only nginx beyond loopback; both instances healthy.
scenario_previous_release() {
    local deb=$1 old=$2 log=$E2E_WORK/cts-e2e-previous.$$.log rc=0 out
    scenario_server "$deb" "$old" previous-release-installs || return 0
    out=$(e2e_in ps -o user= -C gunicorn | sort -u | tr '\n' ' ')
    echo "--- previous release: gunicorn runs as: $out; listening beyond loopback:"
    ip netns exec "$E2E_NS" ss -Hltn | awk '{print $4}' | grep -vE '^(127\.|\[::1\])' | quote
    e2e_in runuser -u cts -- sh -c 'mkdir -p /var/www/cts/public/media/scans/turkey &&
        echo uploaded-by-previous > /var/www/cts/public/media/scans/turkey/previous.txt' || note "cts could not upload"
    rc=0
    install_deb "$deb" "$log" || rc=$?
    echo "--- upgrade from the previous release (exit $rc, ${INSTALL_SECONDS}s); cts-server-setup output:"
    grep -E 'cts-server-setup|share-tree' "$log" | quote
    if [ $rc = 0 ] && grep -q 'cts-server-setup: done' "$log"; then
        pass previous-release-upgrade-done
    else
        quote <"$log" | tail -30
        fail previous-release-upgrade-done
    fi
    rm -f "$log"
    sleep 5
    check previous-release-upgrade-no-pending chk_no_pending
    check previous-release-upgrade-layout chk_layout
    check previous-release-upgrade-instances-isolated chk_instances_isolated
    check previous-release-upgrade-only-nginx-beyond-loopback chk_wide_listeners
    check previous-release-upgrade-health-TR chk_health turkey
    check previous-release-upgrade-health-IQ chk_health iraq
    check previous-release-upgrade-media-kept-and-writable chk_previous_media
}

chk_previous_media() {
    local body
    body=$(ccurl -k --resolve "$HOST:443:127.0.0.1" "https://$HOST/media/scans/turkey/previous.txt")
    [ "$body" = uploaded-by-previous ] || { note "nginx served '$body'"; return 1; }
    e2e_in runuser -u cts-turkey -- sh -c 'echo new > /var/www/cts/public/media/scans/turkey/new.txt' \
        || { note "cts-turkey cannot write where cts uploaded before"; return 1; }
    echo "--- media after the upgrade: $(e2e_in stat -c '%U:%G %a %n' /var/www/cts/public/media/scans/turkey /var/www/cts/public/media/scans/turkey/previous.txt | tr '\n' ' ')"
}

# --- main -----------------------------------------------------------------------------------------
main() {
    local deb=${1:-} outdir
    if [ -z "$deb" ]; then
        if [ -n "${CTS_E2E_OUT:-}" ]; then
            outdir=$CTS_E2E_OUT
            mkdir -p "$outdir"
        else
            outdir=$(mktemp -d /tmp/cts-e2e-build.XXXXXX)
            BUILD_TMP=$outdir
        fi
        deb=$(build_deb "$outdir")
    fi
    [ -f "$deb" ] || e2e_die "no such .deb: $deb"
    deb=$(readlink -f "$deb")
    echo "=== cts-server e2e: $(basename "$deb")"

    e2e_init
    # shellcheck disable=SC2046 # one package name per word
    e2e_prepare_root $(deps_of "$deb")
    e2e_enter
    e2e_start_services

    local log=$E2E_WORK/cts-e2e-install.$$.log rc=0
    install_deb "$deb" "$log" || rc=$?
    echo "--- cts-server-setup output during apt-get install:"
    grep -E 'cts-server-setup' "$log" | quote
    if [ $rc = 0 ]; then
        pass install-offline
    else
        quote <"$log" | tail -40
        fail install-offline
    fi
    echo "INSTALL TIME cts-server (apt-get install, offline): ${INSTALL_SECONDS}s"
    rm -f "$log"

    check network-cut chk_network_cut
    check setup-complete chk_no_pending
    check layout-and-modes chk_layout
    check nginx chk_nginx
    check supervisord chk_supervisord
    local inst
    for inst in "${INSTANCES[@]}"; do
        check "gunicorn-$inst" chk_program "cts-$inst-gunicorn" "gunicorn cts.wsgi:application --bind 127.0.0.1:${PORT[$inst]}"
        check "gunicorn-$inst-loopback-only" chk_listen_loopback "${PORT[$inst]}"
        check "celery-worker-$inst" chk_program "cts-$inst-worker" "celery -A cts.celery:app worker -Q queue_$inst"
        check "celery-beat-$inst-exactly-one" chk_one_beat "$inst"
    done
    check rabbitmq-amqp-loopback-only chk_listen_loopback 5672
    check only-nginx-beyond-loopback chk_wide_listeners
    check health-TR chk_health turkey
    check health-IQ chk_health iraq
    check http-redirects-to-https chk_redirect
    check tls-1.2-plus-only chk_tls
    check static-served-by-nginx chk_static
    check media-writable-and-served chk_media
    check media-uploads-inert chk_media_inert
    check unknown-host-no-content chk_unknown_host
    check databases-migrated chk_databases
    check rabbitmq-vhosts-users chk_broker
    check rabbitmq-guest-removed chk_rabbitmq_guest_removed
    check poll-ran-twice-per-instance chk_polls
    check env-files-0640-root-instance-user chk_env_modes
    check instances-isolated-users-secrets-databases chk_instances_isolated
    check no-secret-in-ps chk_no_secret_in_ps
    check no-secret-in-deb chk_no_secret_in_deb "$deb"
    check conffiles-unmodified chk_conffiles_pristine
    check logrotate-config chk_logrotate
    check setup-rerun-idempotent chk_rerun_setup
    check setup-state-symlinks-planted-as-cts chk_state_symlinks_planted_as_cts
    check nginx-t-zero-warnings chk_nginx_no_warnings
    check setup-hang-fails-in-time-then-rerun-proceeds chk_setup_hang_then_rerun
    check rabbitmq-failed-restart-not-done-then-repaired chk_rabbitmq_failed_restart_then_repaired
    check rabbitmq-links-planted-by-rabbitmq-not-followed chk_rabbitmq_links_not_followed
    check scripts-sh-n-checkbashisms chk_scripts_static "$deb"
    if [ -z "${CTS_E2E_SKIP_LINTIAN:-}" ]; then
        check lintian chk_lintian "$deb"
    fi
    check maintscript-every-argument chk_maint_args
    check reinstall-same-version chk_reinstall_same "$deb"
    local v2dir deb2
    v2dir=$(mktemp -d /tmp/cts-e2e-v2.XXXXXX)
    deb2=$(build_next "$deb" "$v2dir")
    run_upgrade_under_load "$deb2"
    check upgrade-installed chk_upg_installed
    check upgrade-zero-failed-requests chk_upg_zero_downtime
    check upgrade-gunicorn-graceful-hup chk_upg_gunicorn_graceful
    check upgrade-venv-switched-atomically chk_upg_venv_switched
    check upgrade-backup-then-migration chk_upg_migrated_and_backed_up
    check upgrade-rows-media-secrets-kept chk_upg_data_kept
    check upgrade-conffile-updated-edited-kept chk_upg_conffiles
    check upgrade-programs-running chk_upg_running
    check rabbitmq-log-no-deprecated-feature chk_rabbitmq_no_deprecated
    check downgrade-refused-cleanly chk_downgrade_refused "$deb"
    check postinst-fails-then-configure-a chk_half_configured "$deb2"
    check broken-other-nginx-site-nginx-survives chk_broken_other_site "$deb2"
    check remove-stops-and-unlinks chk_remove
    check reinstall-after-remove chk_reinstall "$deb2"
    check purge-keeps-data-and-user chk_purge
    check install-after-purge-reuses-db chk_install_after_purge "$deb2"
    check purge-after-dependencies-purged chk_purge_after_deps
    rm -rf "$v2dir"

    # each scenario runs in its own chroot and namespace (separate process, own traps)
    if [ -z "${CTS_E2E_SKIP_SCENARIOS:-}" ]; then
        e2e_kill_chroot_procs
        local line prevdir old add drop fails fixed full slow v
        prevdir=$(mktemp -d /tmp/cts-e2e-prevdeb.XXXXXX)
        old=$(build_previous "$prevdir")
        v=$(dpkg-deb -f "$deb" Version)
        v=${v%+deb*}
        add=$(E2E_INSTANCES=+jordan build_deb "$prevdir" "$v+i1")
        drop=$(E2E_INSTANCES=+jordan-iraq build_deb "$prevdir" "$v+i2")
        fails=$(build_failing "$prevdir" "$v+i3" fails)
        fixed=$(build_failing "$prevdir" "$v+i4" fixed)
        full=$(build_failing "$prevdir" "$v+i5" fixed)
        slow=$(build_failing "$prevdir" "$v+i6" slow)
        while IFS= read -r line; do
            echo "$line"
            case "$line" in
                "PASS "*) PASSED=$((PASSED + 1)) ;;
                "FAIL "*) FAILED=$((FAILED + 1)); FAILED_NAMES+=("${line#FAIL }") ;;
            esac
        done < <(bash "$0" --scenario pg-stopped "$deb"; echo "EXIT $?"
                 bash "$0" --scenario previous-release "$deb" "$old"; echo "EXIT $?"
                 bash "$0" --scenario instances "$deb" "$add" "$drop" "$fails" "$fixed" "$full" "$slow"; echo "EXIT $?")
        rm -rf "$prevdir"
    fi
}

if [ "${1:-}" = --scenario ]; then
    case "${2:-}" in
        pg-stopped) scenario_pg_stopped "$3" ;;
        previous-release) scenario_previous_release "$3" "$4" ;;
        instances) scenario_instances "${@:3}" ;;
        *) e2e_die "unknown scenario '${2:-}'" ;;
    esac
    exit 0
fi

BUILD_TMP=""
main "$@"
[ -z "$BUILD_TMP" ] || rm -rf "$BUILD_TMP"
summary E2E
