#!/usr/bin/env bash
# Set up a development / CI environment for sdsaudit.
#
#   scripts/setup.sh          system tools (graphviz) + .venv with `pip install -e .`
#   scripts/setup.sh --test   also chromium, fonts and libatomic1, `pip install -e '.[test,import,calibrate,stats,workshop]'`
#                             (every extra), axe-core via `npm ci --prefix tests/browser`,
#                             and a check that the browser really starts
#
# Works on stock Debian 12 and Ubuntu 24.04 (as root it installs what is missing;
# otherwise it prints the apt-get command to run). Ubuntu ships Chromium only as a
# snap, which does not run in containers: there Playwright's own Chromium is
# installed instead (`playwright install --with-deps chromium`).
#
# Idempotent: safe to run again; only missing pieces are installed.
# Quiet: one line per phase; a failing step prints its full output.
# Environment: PYTHON (default python3) is used to create .venv.
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) TEST=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
START=$(date +%s)
PYTHON=${PYTHON:-python3}
VENV=.venv
INCOMPLETE=0

say() { printf 'setup: %s\n' "$*"; }

# Run a command silently; on failure show its output and stop.
quiet() {
    local log rc
    log=$(mktemp)
    if "$@" >"$log" 2>&1; then
        rm -f "$log"
    else
        rc=$?
        cat "$log" >&2
        rm -f "$log"
        echo "setup: FAILED (exit $rc): $*" >&2
        exit "$rc"
    fi
}

# ---------------------------------------------------------------- system
# Debian has a real `chromium` package; Ubuntu's is a snap wrapper (see above).
DISTRO=$(. /etc/os-release 2>/dev/null && echo "${ID:-unknown}")
# "command-or-file:package" pairs; a leading / means a file check, a leading
# "lib:" a shared library the dynamic loader must find.
NEEDS=("dot:graphviz")
if [ "$TEST" = 1 ]; then
    NEEDS+=(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core"
        "npm:npm"
        # Playwright's bundled node (which drives the browser) needs libatomic.so.1.
        "lib:libatomic.so.1:libatomic1"
    )
    if [ "$DISTRO" != ubuntu ]; then
        NEEDS+=("/usr/bin/chromium:chromium")
    fi
fi

MISSING_PKGS=()
# Stock Debian/Ubuntu ship python3 without venv/ensurepip (package python3-venv).
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    MISSING_PKGS+=("python3-venv")
fi
has_library() { ldconfig -p 2>/dev/null | grep -q "[[:space:]]$1 " || [ -e "/usr/lib/$(uname -m)-linux-gnu/$1" ]; }
for need in "${NEEDS[@]}"; do
    pkg=${need##*:}
    case "$need" in
        lib:*) lib=${need#lib:}; has_library "${lib%%:*}" && continue ;;
        /*) [ -e "${need%%:*}" ] && continue ;;
        *) command -v "${need%%:*}" >/dev/null 2>&1 && continue ;;
    esac
    MISSING_PKGS+=("$pkg")
done

if [ "${#MISSING_PKGS[@]}" -eq 0 ]; then
    say "system packages present"
elif [ "$(id -u)" = 0 ]; then
    say "installing system packages: ${MISSING_PKGS[*]}"
    export DEBIAN_FRONTEND=noninteractive
    quiet apt-get update
    quiet apt-get install -y --no-install-recommends "${MISSING_PKGS[@]}"
else
    echo "setup: MISSING system packages: ${MISSING_PKGS[*]}" >&2
    echo "setup:   install them as root: apt-get install -y --no-install-recommends ${MISSING_PKGS[*]}" >&2
    INCOMPLETE=1
fi

# ---------------------------------------------------------------- python
if [ ! -f pyproject.toml ]; then
    echo "setup: FAILED: pyproject.toml not found in $ROOT" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "creating $VENV with $($PYTHON --version 2>&1)"
    rm -rf "$VENV"
    quiet "$PYTHON" -m venv "$VENV"
else
    say "$VENV exists"
fi

say "upgrading pip"
quiet "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip

# the tests need every extra, so that every test runs
if [ "$TEST" = 1 ]; then SPEC='.[test,import,calibrate,stats,workshop]'; else SPEC='.'; fi
say "installing sdsaudit: pip install -e '$SPEC'"
quiet "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e "$SPEC"

# ---------------------------------------------------------------- browser tests
if [ "$TEST" = 1 ]; then
    if ! "$VENV/bin/python" -c 'import playwright.sync_api' >/dev/null 2>&1; then
        echo "setup: FAILED: playwright is not installed in $VENV; the 'test' extra in pyproject.toml must include it" >&2
        exit 1
    fi
    if [ "$DISTRO" = ubuntu ] && [ ! -x /usr/bin/chromium ]; then
        if [ "$(id -u)" = 0 ]; then
            say "installing Playwright's Chromium (Ubuntu has no Chromium package outside snap)"
            quiet "$VENV/bin/python" -m playwright install --with-deps chromium
        else
            echo "setup: MISSING Chromium: run as root, or: $VENV/bin/python -m playwright install --with-deps chromium" >&2
            INCOMPLETE=1
        fi
    fi
    NM=tests/browser/node_modules
    if [ -f "$NM/.package-lock.json" ] && [ -f "$NM/axe-core/axe.min.js" ] \
        && [ "$NM/.package-lock.json" -nt tests/browser/package-lock.json ]; then
        say "axe-core present ($NM)"
    elif command -v npm >/dev/null 2>&1; then
        say "installing axe-core: npm ci --prefix tests/browser"
        quiet npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
    else
        echo "setup: MISSING npm: cannot install axe-core for the browser tests" >&2
        INCOMPLETE=1
    fi
fi

if [ "$INCOMPLETE" = 1 ]; then
    echo "setup: incomplete (see MISSING above) after $(( $(date +%s) - START ))s" >&2
    exit 1
fi

# A setup that cannot run the browser tests must not say "done": start the
# browser once, exactly as the tests do, and load a page.
if [ "$TEST" = 1 ]; then
    say "checking that the browser starts"
    if ! out=$("$VENV/bin/python" -c 'from tests.browser import launch_check; launch_check()' 2>&1); then
        echo "$out" >&2
        echo "setup: FAILED: the browser for the accessibility tests does not start (see above)" >&2
        exit 1
    fi
fi

say "done in $(( $(date +%s) - START ))s"
say "to use sdsaudit by name in this shell: . .venv/bin/activate   (or run .venv/bin/sdsaudit)"
