# shellcheck shell=bash
# Named checks for the chroot tests (tests/e2e/run.sh, tests/apt-client/run.sh): PASS/FAIL lines,
# the counters behind them and the closing "N passed, M failed" line. Sourced, not run.

PASSED=0
FAILED=0
FAILED_NAMES=()

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1"; FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); }
# check NAME CMD...: PASS when CMD succeeds; CMD prints its own diagnostics to stderr
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
note() { printf '       %s\n' "$@" >&2; }
quote() { sed 's/^/    > /'; }

# The .deb's Depends (first alternative, no versions) plus the test tools (lintian: the release's
# own, run inside the chroot): the package list that names the cached root, so every test that
# uses it must compute it the same way. piuparts checks the Depends alone, in a bare chroot. The
# Python dependencies package of the set is not in the mirror: each test installs it from the set.
deps_of() {
    dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' \
        | grep -v -e '^$' -e '-pydeps-' | sort -u
    printf '%s\n' curl procps lintian
}

# summary LABEL: the wall time since T0, the failed names, "N passed, M failed"; status 0 if none failed
summary() {
    echo "$1 WALL TIME: $(($(date +%s) - T0))s"
    [ ${#FAILED_NAMES[@]} = 0 ] || echo "failed: ${FAILED_NAMES[*]}"
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ]
}
