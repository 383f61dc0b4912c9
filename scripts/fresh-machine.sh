#!/usr/bin/env bash
# Prove the README's quick start on a bare Debian machine.
#
#   bash scripts/fresh-machine.sh [--keep] [--root DIR] [--cache DIR] [--worktree]
#
# Builds a minimal Debian bookworm root (debootstrap minbase plus python3,
# python3-pip, git and ca-certificates: nothing else a new user would not
# have), clones this repository into it, and runs the two quick-start
# commands exactly as README.md writes them, as root, in a clean
# environment; then one README example with the virtual environment active.
# Fails (exit 1) if any of them fails. Needs root and debootstrap.
#
#   --keep        leave the root (and the logs) in place afterwards, for debugging
#   --root DIR    reuse a root built by an earlier --keep run: skip debootstrap.
#                 System packages setup.sh installed last time are still there,
#                 so only a run without --root proves the whole quick start.
#   --cache DIR   keep debootstrap's downloaded .debs in DIR (--cache-dir)
#   --worktree    test the working tree (uncommitted changes included) instead
#                 of the committed HEAD
set -euo pipefail

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
say() { printf 'fresh-machine: %s\n' "$*"; }
warn() { printf 'fresh-machine: %s\n' "$*" >&2; }
die() { printf 'fresh-machine: FAILED: %s\n' "$*" >&2; exit 1; }

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
# What the issue calls a bare machine: minbase plus these. python3-venv,
# graphviz, chromium, npm, fonts and libatomic1 are deliberately absent:
# installing them is scripts/setup.sh's job, and that is part of the proof.
INCLUDE=python3,python3-pip,git,ca-certificates
# Where the clone lives inside the root.
APP=/root/sdsaudit
# Marker written into a root once debootstrap has finished, so --root only
# accepts roots this script built.
MARKER=.sdsaudit-fresh-machine-root

KEEP=0
ROOT=
CACHE=
WORKTREE=
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) KEEP=1 ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift ;;
        --root=*) ROOT=${1#--root=} ;;
        --cache) [ $# -ge 2 ] || die "--cache needs a directory"; CACHE=$2; shift ;;
        --cache=*) CACHE=${1#--cache=} ;;
        --worktree) WORKTREE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) warn "unknown argument: $1"; usage >&2; exit 2 ;;
    esac
    shift
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin   # debootstrap and chroot live in sbin

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and mount need it)"
for tool in chroot mount umount findmnt git python3 tar; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed on this machine"
done

# ---------------------------------------------------------------- timing
START=$(date +%s)
PHASE=
PHASE_START=
TIMINGS=()
phase() {   # phase NAME: end the current phase (if any) and start NAME
    phase_end
    PHASE=$1
    PHASE_START=$(date +%s)
    say "== $PHASE"
}
phase_end() {
    if [ -n "$PHASE" ]; then
        TIMINGS+=("$PHASE $(( $(date +%s) - PHASE_START ))s")
        PHASE=
    fi
}

# ---------------------------------------------------------------- safety
# Everything mounted at or below the root, deepest first, from the kernel's
# own table (/proc/self/mounts escapes spaces as \040; our roots have none,
# but decode anyway so the comparison is exact).
mounts_under_root() {
    awk -v root="$ROOT" '{
        t = $2; gsub(/\\040/, " ", t); gsub(/\\011/, "\t", t)
        if (t == root || index(t, root "/") == 1) print length(t) "\t" t
    }' /proc/self/mounts | sort -rn | cut -f2-
}

# Processes whose root directory is our root (chromium, a gpg-agent apt left
# behind, ...). They were all started by this script, through chroot; they
# would keep the mounts busy.
stop_chroot_processes() {
    local sig pid p found
    for sig in TERM KILL; do
        found=0
        for p in /proc/[0-9]*; do
            pid=${p#/proc/}
            [ "$pid" = "$$" ] && continue
            if [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ]; then
                kill -s "$sig" "$pid" 2>/dev/null && found=1
            fi
        done
        [ "$found" = 1 ] || return 0
        sleep 2
    done
}

unmount_all() {
    local target
    for _ in 1 2 3; do
        while IFS= read -r target; do
            [ -n "$target" ] || continue
            umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null \
                || warn "could not unmount $target"
        done < <(mounts_under_root)
        [ -z "$(mounts_under_root)" ] && return 0
        sleep 1
    done
    return 1
}

# Remove the root only if we made it, it looks exactly like what mktemp made,
# and neither the kernel's table nor findmnt shows anything mounted under it.
# rm --one-file-system is the last line of defence: with /dev still bound in,
# a plain rm -rf would delete the host's device nodes.
remove_root() {
    local canon
    canon=$(realpath -e -- "$ROOT" 2>/dev/null) || return 0
    if [ "$canon" != "$ROOT" ] || ! [[ $ROOT =~ ^/var/tmp/sdsaudit-fresh\.[A-Za-z0-9]{6}$ ]]; then
        warn "not removing $ROOT: it is not a root this script created"
        return 1
    fi
    if [ -n "$(mounts_under_root)" ] \
        || findmnt -rn -o TARGET | grep -qxF -e "$ROOT" -e "$ROOT/proc" -e "$ROOT/sys" -e "$ROOT/dev" \
        || findmnt -rn -o TARGET | grep -qF "$ROOT/"; then
        warn "NOT removing $ROOT: something is still mounted under it:"
        mounts_under_root >&2
        warn "unmount it by hand (umount -R $ROOT), then rm -rf --one-file-system $ROOT"
        return 1
    fi
    rm -rf --one-file-system -- "$ROOT"
}

OWN_ROOT=0
LOGS=
BG_PID=   # the long-running command (debootstrap, a chroot) while it runs
TAIL_PID= # the tail showing its output
# Long commands run in the background and the script waits for them, so an
# interrupt reaches the trap at once instead of after the command finishes.
# The output goes to LOG from inside this function: a redirection on the call
# would also swallow what the trap prints if the wait is interrupted.
run_bg() {   # run_bg LOG COMMAND...: run it, wait, return its exit code
    local log=$1 rc=0
    shift
    "$@" </dev/null >"$log" 2>&1 &
    BG_PID=$!
    wait "$BG_PID" || rc=$?
    BG_PID=
    return "$rc"
}

cleanup() {
    local rc=$? t
    set +e
    trap - EXIT INT TERM
    phase_end
    if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
        warn "interrupted: stopping $BG_PID"
        kill -TERM "$BG_PID" 2>/dev/null
        wait "$BG_PID" 2>/dev/null
    fi
    if [ -n "$TAIL_PID" ]; then kill "$TAIL_PID" 2>/dev/null; wait "$TAIL_PID" 2>/dev/null; fi
    if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
        stop_chroot_processes
        if ! unmount_all; then
            warn "FAILED: could not unmount everything under $ROOT"
            [ "$rc" = 0 ] && rc=1
        fi
        if [ "$OWN_ROOT" = 1 ] && [ "$KEEP" = 0 ]; then
            if remove_root; then say "removed $ROOT"; else [ "$rc" = 0 ] && rc=1; fi
        else
            say "root kept at $ROOT (run again quickly with: bash scripts/fresh-machine.sh --root $ROOT)"
        fi
    fi
    if [ -n "$LOGS" ] && [ -d "$LOGS" ]; then
        if [ "$KEEP" = 1 ]; then say "logs kept in $LOGS"; else rm -rf -- "$LOGS"; fi
    fi
    if [ "${#TIMINGS[@]}" -gt 0 ]; then
        say "timings:"
        for t in "${TIMINGS[@]}"; do say "  $t"; done
    fi
    say "total $(( $(date +%s) - START ))s"
    if [ "$rc" = 0 ]; then say "PASSED"; else warn "FAILED (exit $rc)"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LOGS=$(mktemp -d /var/tmp/sdsaudit-fresh-logs.XXXXXX)

# ---------------------------------------------------------------- the root
if [ -n "$ROOT" ]; then
    ROOT=$(realpath -e -- "$ROOT") || die "--root: no such directory"
    [ "$ROOT" != / ] || die "--root must not be /"
    [ -f "$ROOT/$MARKER" ] || die "--root $ROOT was not built by this script (no $MARKER); run once with --keep to build one"
    [ -z "$(mounts_under_root)" ] || die "something is already mounted under $ROOT; is another run using it?"
    say "reusing $ROOT (debootstrap skipped; system packages from earlier runs are still installed)"
else
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install -y debootstrap)"
    ROOT=$(mktemp -d /var/tmp/sdsaudit-fresh.XXXXXX)
    OWN_ROOT=1
    chmod 755 "$ROOT"
    phase debootstrap
    args=(--variant=minbase --include="$INCLUDE")
    if [ -n "$CACHE" ]; then
        mkdir -p "$CACHE"
        args+=(--cache-dir="$(realpath -e -- "$CACHE")")
    fi
    say "debootstrap $SUITE into $ROOT (minbase + $INCLUDE)"
    if ! run_bg "$LOGS/debootstrap.log" debootstrap "${args[@]}" "$SUITE" "$ROOT" "$MIRROR"; then
        tail -n 40 "$LOGS/debootstrap.log" >&2
        [ -f "$ROOT/debootstrap/debootstrap.log" ] && tail -n 20 "$ROOT/debootstrap/debootstrap.log" >&2
        die "debootstrap (output above)"
    fi
    touch "$ROOT/$MARKER"
fi

# ---------------------------------------------------------------- prepare
phase prepare
# The apt sources a Debian 12 installation has (debootstrap writes only the
# first line); chromium, in particular, is updated through bookworm-security.
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
rm -f "$ROOT"/etc/apt/sources.list.d/*.list "$ROOT"/etc/apt/sources.list.d/*.sources
# Usual chroot hygiene: packages must not try to start services here.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
# A real installation has these; debootstrap leaves them to the installer.
[ -s "$ROOT/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
[ -s "$ROOT/etc/hostname" ] || echo fresh-machine >"$ROOT/etc/hostname"

# Name resolution: the host's resolver (this network's DNS server).
rm -f "$ROOT/etc/resolv.conf"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"

# Certificates. On this network HTTPS to PyPI and npm may pass through an
# intercepting proxy whose certificate is not a public CA: the host trusts it
# through /usr/local/share/ca-certificates (its PIP_CERT, NODE_EXTRA_CA_CERTS
# and the like point at the bundle built from them). A fresh machine on the
# same network would need the same, so the host's extra CAs are installed in
# the root the ordinary Debian way, and nothing else: apt, Debian's pip, pip
# from PyPI (which uses the system store since 24.2) and Debian's node all read
# the system bundle, so no *_CERT variable is passed in. On a network without
# interception there is nothing to copy and nothing here changes anything.
CHROOT_ENV=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 CI=true)
mkdir -p "$ROOT/usr/local/share/ca-certificates"
extra_cas=0
for crt in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$crt" ] || continue
    cp -- "$crt" "$ROOT/usr/local/share/ca-certificates/"
    extra_cas=$((extra_cas + 1))
done
if [ "$extra_cas" -gt 0 ]; then
    chroot "$ROOT" /usr/sbin/update-ca-certificates >"$LOGS/ca.log" 2>&1 \
        || { cat "$LOGS/ca.log" >&2; die "update-ca-certificates in the root"; }
    say "installed the host's $extra_cas extra CA certificate(s) in the root"
fi

# Proxies: if the host needs one, so does the fresh machine.
for var in http_proxy https_proxy no_proxy all_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY ALL_PROXY; do
    if [ -n "${!var:-}" ]; then
        CHROOT_ENV+=("$var=${!var}")
        say "passing $var through"
    fi
done

# The host's pip settings (local wheel folders, constraints, a local index)
# must not reach the fresh machine: env -i drops the PIP_* variables, and the
# root must not hold a pip configuration of its own either.
for conf in etc/pip.conf etc/xdg/pip root/.config/pip root/.pip root/.npmrc; do
    [ ! -e "$ROOT/$conf" ] || die "the root has /$conf; a fresh machine has no pip or npm configuration"
done

# ---------------------------------------------------------------- clone
phase clone
head=$(git -C "$REPO" rev-parse --short HEAD)
rm -rf --one-file-system -- "${ROOT:?}$APP"
git -c safe.directory="$REPO" clone --quiet --no-hardlinks "$REPO" "$ROOT$APP"
if [ -n "$WORKTREE" ]; then
    # Copy tracked and untracked-but-not-ignored files over the clone, and
    # delete what is deleted in the working tree (.venv, node_modules and
    # other ignored files stay behind, as on a fresh machine).
    (cd "$REPO" && git ls-files -z -co --exclude-standard \
        | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$ROOT$APP"
    (cd "$REPO" && git ls-files -z --deleted) | (cd "$ROOT$APP" && xargs -0 -r rm -f --)
    say "testing the WORKING TREE of $REPO (on top of $head), uncommitted changes included"
else
    changed=$(git -C "$REPO" status --porcelain --untracked-files=no | wc -l)
    say "testing the committed HEAD $head of $REPO"
    if [ "$changed" -gt 0 ]; then
        say "note: $changed uncommitted change(s) in the checkout are NOT tested (--worktree tests them)"
    fi
fi

# The quick start, read from README.md exactly as tests/test_readme.py reads
# it: the section from "## Quick start" to the next "## " heading, and in it
# the ```sh blocks, one command each.
mapfile -t QUICK < <(python3 - "$ROOT$APP/README.md" <<'PY'
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
if "## Quick start" not in text:
    sys.exit("README.md has no '## Quick start' section")
quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
commands = re.findall(r"```sh\n(.*?)\n```", quick, re.S)
if len(commands) != 2 or any("\n" in c or not c.strip() for c in commands):
    sys.exit(f"expected two one-line ```sh blocks under '## Quick start', found {commands!r}")
print("\n".join(commands))
PY
) || true
[ "${#QUICK[@]}" -eq 2 ] || die "could not read the two quick-start commands from README.md (see above)"
# One README example after the quick start, the way the README tells a user
# to work: with the virtual environment active.
EXAMPLE='. .venv/bin/activate && sdsaudit validate examples/exampleshire/process.yaml && sdsaudit score process_models/lean.yaml >/dev/null'

# ---------------------------------------------------------------- mounts
phase mount
# Each mount is made private so nothing mounted inside propagates back to the
# host. /dev and /dev/pts are the host's (bind, not recursive); /dev/shm is a
# fresh tmpfs (chromium needs shared memory).
mount -t proc -o nosuid,nodev,noexec proc "$ROOT/proc"
if ! mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$ROOT/sys" 2>/dev/null; then
    mount --bind /sys "$ROOT/sys"
    mount -o remount,bind,ro "$ROOT/sys" 2>/dev/null || true
fi
mount --bind /dev "$ROOT/dev"
mount --make-private "$ROOT/dev"
mkdir -p "$ROOT/dev/pts" "$ROOT/dev/shm"
mount --bind /dev/pts "$ROOT/dev/pts"
mount --make-private "$ROOT/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$ROOT/dev/shm"
mount --make-private "$ROOT/dev/shm"

# ---------------------------------------------------------------- run
# run_in_root LABEL COMMAND: COMMAND exactly as written, from the top of the
# clone, as root, with a clean environment and no stdin; output shown and
# saved to $LOGS/LABEL.log (tail shows the log as it grows).
run_in_root() {
    local cmd=$2 log=$LOGS/$1.log rc=0
    say "running (as root in the root, env -i): $cmd"
    : >"$log"
    tail -n +1 -f "$log" &
    TAIL_PID=$!
    run_bg "$log" chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" \
        bash -c "cd $APP && $cmd" || rc=$?
    sleep 1   # let tail print the last lines
    kill "$TAIL_PID" 2>/dev/null || true
    wait "$TAIL_PID" 2>/dev/null || true
    TAIL_PID=
    return "$rc"
}

FAILURES=()
fail() { warn "FAILED: $*"; FAILURES+=("$*"); }

phase "quick start 1"
run_in_root quick1 "${QUICK[0]}" || fail "quick start command 1 exited $?: ${QUICK[0]}"
# The README then says to open DIR/report.html, DIR being the command's -o.
outdir=$(sed -n 's/.* -o \([^ ]*\).*/\1/p' <<<"${QUICK[0]}")
if [ -n "$outdir" ] && [ ! -f "$ROOT$APP/$outdir/report.html" ]; then
    fail "quick start command 1 wrote no $outdir/report.html"
fi

phase "quick start 2"
rc=0
run_in_root quick2 "${QUICK[1]}" || rc=$?
# pytest's own summary: its last line under -q.
summary=$(sed -e 's/\x1b\[[0-9;]*m//g' "$LOGS/quick2.log" | awk 'NF {line = $0} END {print line}')
say "pytest summary: $summary"
[ "$rc" = 0 ] || fail "quick start command 2 exited $rc: ${QUICK[1]} (last line: $summary)"
# These catch a run that exits 0 without really passing; when the command
# already failed, the failure above says so once.
if [ "$rc" = 0 ]; then
    if grep -qi 'no tests ran' "$LOGS/quick2.log"; then
        fail "pytest ran no tests"
    elif ! grep -Eq '[0-9]+ passed' <<<"$summary"; then
        fail "pytest's summary line says nothing passed: $summary"
    elif grep -Eqi '\b(failed|errors?)\b' <<<"$summary"; then
        fail "pytest's summary line reports failures or errors: $summary"
    fi
fi

phase "README example"
run_in_root example "$EXAMPLE" || fail "README example exited $?: $EXAMPLE"
phase_end

if [ "${#FAILURES[@]}" -gt 0 ]; then
    warn "${#FAILURES[@]} failure(s) on the fresh machine:"
    for f in "${FAILURES[@]}"; do warn "FAILED: $f"; done
    exit 1
fi
say "the README's quick start works on a bare Debian $SUITE machine"
