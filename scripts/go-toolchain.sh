#!/usr/bin/env bash
# Prints the path of a `go` command at least as new as MIN_VERSION (default
# 1.24), making one when the machine has none:
#
#   go="$(bash scripts/go-toolchain.sh 1.24)"
#
# 1. The `go` on PATH, when it is new enough.
# 2. Else a Go toolchain cached in ~/.cache/rdapsync/<version>/ by an earlier
#    run (RDAPSYNC_CACHE_DIR moves the cache).
# 3. Else that toolchain is fetched with whatever older Go the machine has
#    (Debian 12's golang-go is Go 1.19; scripts/deps.sh test installs it when
#    there is no `go` at all): the Go project publishes every release on the
#    Go module proxy as the module golang.org/toolchain, version
#    v0.0.1-<version>.<os>-<arch>, and any Go can `go mod download` it (~80 MB,
#    into the usual module cache). The module cache is read-only and drops the
#    execute bits, so the folder is copied out to the cache above and its
#    commands made executable.
#
# RDAPSYNC_GO_TOOLCHAIN picks the version fetched (default go1.24.13).
# Progress and errors go to stderr, only the path to stdout. Use the printed
# go with GOTOOLCHAIN=local (and without GOROOT set), so that it does not
# switch toolchains by itself.
set -euo pipefail

log() { printf '[%s go] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

MIN="${1:-1.24}"
TOOLCHAIN="${RDAPSYNC_GO_TOOLCHAIN:-go1.24.13}"
[[ "$TOOLCHAIN" =~ ^go[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || die "RDAPSYNC_GO_TOOLCHAIN must look like go1.24.13, not '$TOOLCHAIN'"
CACHE="${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}"
DEST="$CACHE/$TOOLCHAIN"

# version_ge HAVE WANT: true when HAVE (1.24.13) >= WANT (1.24).
version_ge() {
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" == "$2" ]]
}

# go_version GO: prints 1.24.13 for a go1.24.13, nothing when GO does not run.
# Asked from / with GOTOOLCHAIN=local: no go.mod around may make it switch.
go_version() {
  local v
  v="$(cd / && GOTOOLCHAIN=local "$@" env GOVERSION 2>/dev/null)" || return 0
  [[ "$v" =~ ^go([0-9]+\.[0-9]+(\.[0-9]+)?) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
  return 0
}

# new_enough GO...: true when that go runs and is >= MIN.
new_enough() {
  local v
  v="$(go_version "$@")"
  [[ -n "$v" ]] && version_ge "$v" "$MIN"
}

version_ge "${TOOLCHAIN#go}" "$MIN" || die "RDAPSYNC_GO_TOOLCHAIN=$TOOLCHAIN is older than the Go $MIN asked for"

# 1. The machine's Go.
if command -v go >/dev/null 2>&1 && new_enough go; then
  command -v go
  exit 0
fi

# 2. The cached toolchain.
cached_ok() { [[ -x "$DEST/bin/go" ]] && new_enough env -u GOROOT "$DEST/bin/go"; }
if cached_ok; then
  printf '%s\n' "$DEST/bin/go"
  exit 0
fi

# 3. Fetch it with an older Go.
boot=""
if command -v go >/dev/null 2>&1; then
  boot="$(command -v go)"
else
  # Debian's golang-1.NN-go packages, newest first.
  while IFS= read -r g; do
    if [[ -x "$g" ]]; then boot="$g"; break; fi
  done < <(printf '%s\n' /usr/lib/go-1.*/bin/go /usr/lib/go/bin/go | sort -rV)
fi
[[ -n "$boot" ]] || die "no Go found: scripts/deps.sh test installs Debian's golang-go, from which Go $MIN+ is fetched (or put a Go >= $MIN on PATH)"
boot_version="$(go_version "$boot")"
[[ -n "$boot_version" ]] || die "$boot does not run"

mkdir -p "$CACHE"
exec 9>"$CACHE/$TOOLCHAIN.lock"
flock -w 900 9 || die "timed out waiting for the lock on $CACHE/$TOOLCHAIN.lock (another first run?)"
if cached_ok; then  # made by another run while we waited for the lock
  printf '%s\n' "$DEST/bin/go"
  exit 0
fi

goos="$(cd / && GOTOOLCHAIN=local "$boot" env GOHOSTOS)"
goarch="$(cd / && GOTOOLCHAIN=local "$boot" env GOHOSTARCH)"
module="golang.org/toolchain@v0.0.1-$TOOLCHAIN.$goos-$goarch"
log "Go $boot_version ($boot) is older than $MIN: fetching $TOOLCHAIN from the Go module proxy ($module, about 80 MB; first run only)"
t0=$SECONDS
tmp="$(mktemp -d "$CACHE/$TOOLCHAIN.tmp.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
# Outside any module (an empty folder), so that no go.mod is in the way.
mkdir "$tmp/empty"
# Three tries, 10 s apart: the proxy times out now and then.
for try in 1 2 3; do
  if json="$(cd "$tmp/empty" && GOTOOLCHAIN=local GO111MODULE=on GOFLAGS='' "$boot" mod download -json "$module")"; then
    break
  fi
  printf '%s\n' "$json" >&2
  [[ $try -lt 3 ]] || die "go mod download $module failed"
  log "go mod download $module failed (attempt $try of 3); trying again in 10 s"
  sleep 10
done
src="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
if [[ -z "$src" || ! -f "$src/bin/go" ]]; then
  printf '%s\n' "$json" >&2
  die "go mod download $module gave no toolchain folder"
fi
mkdir "$tmp/goroot"
cp -R "$src/." "$tmp/goroot/"
chmod -R u+w "$tmp/goroot"
chmod +x "$tmp/goroot/bin/"* "$tmp/goroot/pkg/tool/${goos}_$goarch/"*
got="$(go_version env -u GOROOT "$tmp/goroot/bin/go")"
[[ "$got" == "${TOOLCHAIN#go}" ]] || die "the fetched toolchain reports version '${got:-none}', not ${TOOLCHAIN#go}"
rm -rf "$DEST"
mv "$tmp/goroot" "$DEST"
log "Go ${TOOLCHAIN#go} ready in $DEST in $((SECONDS - t0)) s"
printf '%s\n' "$DEST/bin/go"
