#!/usr/bin/env bash
# The README's first command on a fresh Debian 12 machine. Makes a minimal
# Debian 12 root from Debian's packages (mmdebstrap, variant minbase, plus
# git and ca-certificates: what a user who cloned the repository has), clones
# this checkout's HEAD into it and runs `bash scripts/quickstart.sh` there as
# root, the way the user of a fresh machine would (apt-get included). Passes
# when the quickstart exits 0 and its summary shows every sample record in
# SQLite (rows out == lines of samples/rdap-domains.jsonl) and no dead letter;
# so it fails when the quickstart needs anything the README does not say.
# Then, in a second clone in the same root, the commands of the README's
# "Building by hand" block run as written (they need only what
# `scripts/deps.sh build` installs), and the installed `rdapsync plugins` must
# list the plugins.
#
#   bash tests/fresh/quickstart_fresh_root.sh
#
# scripts/test.sh runs it as one result (SKIP_FRESH_ROOT=1 leaves it out
# there; CI does not set it). A root that cannot be made is a failure, not a
# skip. Needs root (mmdebstrap --mode=root, mounts, chroot; with sudo when
# not root), the network, and mmdebstrap and zstd (scripts/deps.sh test).
#
# Debian mirrors: this machine's apt sources for bookworm, bookworm-updates and
# bookworm-security (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list and
# *.sources), or RDAPSYNC_FRESH_MIRRORS='deb URI SUITE COMPONENTS|deb ...'.
#
# Caches (RDAPSYNC_CACHE_DIR, default ~/.cache/rdapsync):
#   fresh-root/debian-bookworm-minbase.tar.zst   the made root (30-90 s to
#       make, ~1 s to unpack), remade when the mirrors change or when it is older
#       than RDAPSYNC_FRESH_ROOT_MAX_AGE_DAYS (default 30)
#   fresh-root-apt/   the root's /var/cache/apt/archives (bind-mounted): the
#       .deb files are not downloaded again; every run still starts from the
#       minbase root and installs them.
# The root is unpacked into a tmpfs (about 0.9 GB of memory at the end; gone
# with the run) when 3 GiB are available, else (or with RDAPSYNC_FRESH_ON_DISK=1
# or RDAPSYNC_FRESH_KEEP=1) into root/ of the work folder RDAPSYNC_FRESH_DIR
# (default build-test/fresh-root), removed at the end unless
# RDAPSYNC_FRESH_KEEP=1. The work folder keeps quickstart.log (everything the
# run printed). The run is limited to RDAPSYNC_FRESH_TIMEOUT seconds (default
# 1800).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SUITE=bookworm
VARIANT=minbase
INCLUDE=ca-certificates,git
CACHE="${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}"
TARBALL="$CACHE/fresh-root/debian-$SUITE-$VARIANT.tar.zst"
APT_CACHE="$CACHE/fresh-root-apt"
WORK="${RDAPSYNC_FRESH_DIR:-$repo/build-test/fresh-root}"
MAX_AGE_DAYS="${RDAPSYNC_FRESH_ROOT_MAX_AGE_DAYS:-30}"
LIMIT="${RDAPSYNC_FRESH_TIMEOUT:-1800}"
EVERY="${RDAPSYNC_PROGRESS_EVERY:-15}"
# The environment of root's login shell on a fresh Debian.
ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

t_start=$SECONDS
step() { printf '[fresh-root %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() { step "FAIL: $*"; exit 1; }

if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 \
    || fail "needs root (mmdebstrap --mode=root, mounts, chroot) and there is no sudo"
  step "not root: running this step with sudo"
  fwd=()
  for v in RDAPSYNC_FRESH_MIRRORS RDAPSYNC_FRESH_ROOT_MAX_AGE_DAYS RDAPSYNC_FRESH_TIMEOUT \
           RDAPSYNC_FRESH_KEEP RDAPSYNC_FRESH_ON_DISK RDAPSYNC_PROGRESS_EVERY; do
    if [[ -n "${!v:-}" ]]; then fwd+=("$v=${!v}"); fi
  done
  # The work folder stays in this checkout; the caches are root's.
  exec sudo env "${fwd[@]}" "RDAPSYNC_FRESH_DIR=$WORK" "RDAPSYNC_FRESH_OWNER=$(id -u):$(id -g)" \
    bash "${BASH_SOURCE[0]}"
fi

missing=()
for c in mmdebstrap zstd tar unshare chroot mount git flock timeout; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
((${#missing[@]} == 0)) || fail "not found: ${missing[*]} (bash scripts/deps.sh test installs them)"

# ---- Debian mirrors: this machine's apt sources for the suite ----

# one_line FILE: "deb URI SUITE COMPONENTS" for every deb line of a .list file.
one_line() {
  sed -e 's/#.*//' "$1" | awk '$1 == "deb" {
    i = 2
    if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
    line = "deb " $i " " $(i + 1)
    for (j = i + 2; j <= NF; j++) line = line " " $j
    print line
  }'
}

# deb822 FILE: the same for every enabled "Types: deb" stanza of a .sources file.
deb822() {
  awk '
    function flush(  n, m, a, b, U, S) {
      if (types ~ /(^| )deb( |$)/ && enabled != "no") {
        n = split(uris, U, " "); m = split(suites, S, " ")
        for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print "deb " U[a] " " S[b] " " comps
      }
      types = uris = suites = comps = enabled = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    /^[A-Za-z-]+:/ {
      key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", val)
      if (key == "types") types = val
      else if (key == "uris") uris = val
      else if (key == "suites") suites = val
      else if (key == "components") comps = val
      else if (key == "enabled") enabled = tolower(val)
    }
    END { flush() }' "$1"
}

machine_sources() {
  local f
  if [[ -f /etc/apt/sources.list ]]; then one_line /etc/apt/sources.list; fi
  for f in /etc/apt/sources.list.d/*.list; do
    if [[ -f "$f" ]]; then one_line "$f"; fi
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    if [[ -f "$f" ]]; then deb822 "$f"; fi
  done
}

mirrors=()
if [[ -n "${RDAPSYNC_FRESH_MIRRORS:-}" ]]; then
  IFS='|' read -r -a mirrors <<<"$RDAPSYNC_FRESH_MIRRORS"
else
  while IFS= read -r l; do
    mirrors+=("$l")
  done < <(machine_sources | awk -v s="$SUITE" '$3 == s || $3 == s "-updates" || $3 == s "-security"' | awk '!seen[$0]++')
fi
((${#mirrors[@]})) || fail "this machine's apt sources have no $SUITE entries: set RDAPSYNC_FRESH_MIRRORS='deb URI $SUITE main|deb URI $SUITE-updates main|deb URI-security $SUITE-security main'"

# ---- helpers ----

# run_watched LOGFILE PATTERN WHAT CMD...: runs CMD with its output in LOGFILE; while
# it runs, shows the log's lines that match PATTERN (indented) and, every
# EVERY seconds, "still WHAT (N s)". Returns CMD's exit status.
run_watched() {
  local logfile="$1" pattern="$2" what="$3"; shift 3
  : >"$logfile"
  "$@" >"$logfile" 2>&1 </dev/null &
  RUN_PID=$!
  local start=$SECONDS next=$EVERY shown=0 total rc=0 alive=1
  while ((alive)); do
    kill -0 "$RUN_PID" 2>/dev/null || alive=0
    total="$(wc -l <"$logfile")"
    if ((total > shown)); then
      sed -n "$((shown + 1)),${total}p" "$logfile" | { grep -E -- "$pattern" || true; } | sed 's/^/      | /'
      shown=$total
    fi
    if ((alive)); then
      sleep 1
      if ((SECONDS - start >= next)); then
        step "still $what ($((SECONDS - start)) s)"
        next=$((next + EVERY))
      fi
    fi
  done
  wait "$RUN_PID" || rc=$?
  RUN_PID=""
  return "$rc"
}

# mounted_under DIR: true when something is mounted at or below DIR (in this
# mount namespace); then DIR must not be removed.
mounted_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo
}

remove_root() { # DIR
  [[ -e "$1" ]] || return 0
  if mounted_under "$1"; then
    fail "something is still mounted under $1: not removing it (see /proc/self/mountinfo)"
  fi
  rm -rf --one-file-system "$1"
}

RUN_PID=""
ROOT="$WORK/root"
passed=0
tmpfs=0
log=""
cleanup() {
  if [[ -n "$RUN_PID" ]] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  if [[ -z "${RDAPSYNC_FRESH_KEEP:-}" ]]; then
    if [[ -d "$ROOT" ]]; then
      local t0=$SECONDS
      remove_root "$ROOT"
      ((tmpfs)) || step "root removed in $((SECONDS - t0)) s"
    fi
  elif [[ -d "$ROOT" ]]; then
    step "root kept in $ROOT (RDAPSYNC_FRESH_KEEP is set)"
  fi
  if [[ -n "${RDAPSYNC_FRESH_OWNER:-}" && -d "$WORK" && ! -d "$ROOT" ]]; then
    chown -R "$RDAPSYNC_FRESH_OWNER" "$WORK" 2>/dev/null || true
  fi
  if ((passed == 0)) && [[ -n "$log" ]]; then
    step "everything the run printed: $log"
  fi
}
trap cleanup EXIT

# ---- 1. the minbase root, made once and cached as a tarball ----

spec="suite=$SUITE variant=$VARIANT include=$INCLUDE mirrors=$(IFS='|'; printf '%s' "${mirrors[*]}")"
tarball_ok() {
  [[ -s "$TARBALL" && -f "$TARBALL.spec" && "$(cat "$TARBALL.spec")" == "$spec" ]] &&
    [[ -z "$(find "$TARBALL" -mtime +"$MAX_AGE_DAYS" 2>/dev/null)" ]]
}

mkdir -p "$CACHE/fresh-root" "$APT_CACHE" "$WORK"
t0=$SECONDS
if ! tarball_ok; then
  exec 9>"$CACHE/fresh-root/.lock"
  flock -w 900 9 || fail "timed out waiting for the lock on $CACHE/fresh-root/.lock (another run making the root?)"
  if ! tarball_ok; then  # not made by another run meanwhile
    step "making a Debian 12 ($SUITE) $VARIANT root with mmdebstrap (once; then cached in $TARBALL), about a minute"
    for m in "${mirrors[@]}"; do step "  mirror: $m"; done
    make_dir="$CACHE/fresh-root/make"
    remove_root "$make_dir"
    if ! run_watched "$CACHE/fresh-root/mmdebstrap.log" '^(I|W|E): ' "making the root" \
        mmdebstrap --mode=root --variant="$VARIANT" --include="$INCLUDE" "$SUITE" "$make_dir" "${mirrors[@]}"; then
      tail -n 40 "$CACHE/fresh-root/mmdebstrap.log"
      remove_root "$make_dir"
      fail "mmdebstrap could not make the root (log: $CACHE/fresh-root/mmdebstrap.log)"
    fi
    tar --numeric-owner -I zstd -C "$make_dir" -cf "$TARBALL.tmp" . || fail "tar of the made root failed"
    printf '%s\n' "$spec" >"$TARBALL.spec"
    mv "$TARBALL.tmp" "$TARBALL"
    remove_root "$make_dir"
    step "root made and cached in $((SECONDS - t0)) s ($(du -h "$TARBALL" | cut -f1) compressed)"
  fi
  exec 9>&-
fi
t_make=$((SECONDS - t0))

# ---- 2. a fresh copy of it, this checkout's HEAD cloned into it, and the
# README's first command run inside ----

head="$(git -C "$repo" rev-parse HEAD)" || fail "$repo is not a git checkout"
expected="$(git -C "$repo" show "$head:samples/rdap-domains.jsonl" | wc -l | tr -d ' ')"
# The root lives in a tmpfs when there is memory for it (about 0.9 GB at the
# end): dpkg's many fsyncs cost nothing there and the root is gone with its
# namespace; else on disk in the work folder, removed at the end.
tmpfs=1
mem_kb="$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
if [[ -n "${RDAPSYNC_FRESH_KEEP:-}" || -n "${RDAPSYNC_FRESH_ON_DISK:-}" ]]; then
  tmpfs=0
elif ((${mem_kb:-0} < 3 * 1024 * 1024)); then
  tmpfs=0
  step "less than 3 GiB of memory available: the root goes on disk ($ROOT)"
fi
remove_root "$ROOT"  # what an earlier run kept
mkdir -p "$ROOT"

# In new mount and pid namespaces (unshare): every mount goes away with the
# last process, and every process with the namespace's first one
# (--kill-child). tests/fresh/in_root.sh unpacks the root, clones HEAD into
# it and runs the quickstart, then the "Building by hand" commands, there.
log="$WORK/quickstart.log"
t0=$SECONDS
step "in a fresh copy of the root: bash scripts/quickstart.sh as root (apt-get, build, run), then the \"Building by hand\" commands (a few minutes)"
rc=0
FR_ROOT="$ROOT" FR_TMPFS="$tmpfs" FR_TARBALL="$TARBALL" FR_REPO="$repo" FR_HEAD="$head" \
  FR_APT="$APT_CACHE" FR_PATH="$ROOT_PATH" \
  run_watched "$log" '^(\[root\]|\[by-hand\]|==>|\[deps\]|  (exit status|records in|rows out|dead letters) *:)' \
    "running the quickstart in the root" \
    timeout --kill-after=30 "$LIMIT" \
    unshare --mount --pid --fork --kill-child --propagation private -- \
    bash "$repo/tests/fresh/in_root.sh" || rc=$?
t_quick=$((SECONDS - t0))
step "ended with exit status $rc after $t_quick s"

# ---- 3. what it says ----

problems=()
if ((rc == 124)); then
  problems+=("stopped after RDAPSYNC_FRESH_TIMEOUT=$LIMIT s")
elif ((rc != 0)); then
  problems+=("exit status $rc")
fi
if grep -q 'cannot change root filesystem propagation' "$log"; then
  problems+=("unshare could not make the mounts private: is / not a mount point here (inside a plain chroot)? Run this step on the machine itself or in a container")
fi
field() { sed -n "s/^  $1 *: \\([0-9?]*\\).*/\\1/p" "$log" | tail -n 1; }
status="$(field 'exit status')"
rows="$(field 'rows out')"
dead="$(field 'dead letters')"
[[ "$status" == 0 ]] || problems+=("summary: exit status '${status:-missing}'")
[[ "$rows" == "$expected" ]] || problems+=("summary: rows out '${rows:-missing}', expected $expected (lines of samples/rdap-domains.jsonl)")
[[ "$dead" == 0 ]] || problems+=("summary: dead letters '${dead:-missing}', expected 0")
grep -q '^\[root\] by hand: ok' "$log" || problems+=("the README's \"Building by hand\" commands failed")
if ((${#problems[@]})); then
  echo "----- last 60 lines of $log -----"
  tail -n 60 "$log"
  echo "-----"
  fail "$(printf '%s; ' "${problems[@]}" | sed 's/; $//')"
fi
passed=1
step "PASS: quickstart on a fresh Debian 12 root: exit 0, $rows of $expected sample records in SQLite, no dead letter; building by hand as written works; $((SECONDS - t_start)) s (making the root: ${t_make} s, unpack + clone + quickstart: ${t_quick} s)"
