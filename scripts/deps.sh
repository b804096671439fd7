#!/usr/bin/env bash
# Installs the Debian packages rdapsync needs, only those that are missing.
#
#   scripts/deps.sh build   # compilers and libraries to build rdapsync (+ quickstart)
#   scripts/deps.sh test    # everything: build + real servers, test and fuzz tools
#   scripts/deps.sh list [build|test]   # print the packages, install nothing
#
# `apt-get update` runs once, and only when something is missing. Uses sudo
# when not root (and sudo exists). Java, Maven and Go are on the project's
# machines already; their packages are installed only when `java`, `mvn` or
# `go` is missing (a Go older than FerretDB needs is enough: see
# scripts/go-toolchain.sh). apt waits up to 10 minutes for a lock held by
# another apt run. Written for Debian 12 (bookworm).
set -euo pipefail

log() { printf '[deps] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

BUILD_PKGS=(
  build-essential cmake pkg-config
  librdkafka-dev libyaml-dev libjansson-dev libyajl-dev libssl-dev
  # JSON validation at SIMD speed (host/model/json_simd.cpp; needs g++)
  libsimdjson-dev g++
  libpq-dev libmariadb-dev libmongoc-dev libbson-dev libsqlite3-dev
  libmicrohttpd-dev libcurl4-openssl-dev libcrypt-dev libhiredis-dev
  # the encrypt/decrypt transforms: zstd before AES-256-GCM (OpenSSL is libssl-dev above)
  libzstd-dev
  # the delta transform's content hash (XXH3-128)
  libxxhash-dev
  sqlite3
)

TEST_PKGS=(
  "${BUILD_PKGS[@]}"
  libcriterion-dev
  postgresql mariadb-server kcat redis-server redis-tools
  # clang with its runtime libraries for libFuzzer and the sanitizers
  clang libclang-rt-14-dev
  valgrind
  # scripts/servers/kafka.sh checks the downloaded jars with unzip
  unzip ca-certificates
  # test scripts: python3 checks outputs, curl reads /metrics and /status,
  # jq reads checkpoint files, openssl makes a self-signed test certificate
  python3 curl jq openssl
  # tests/e2e/http: htpasswd makes the bcrypt hashes of basic authentication
  apache2-utils
  # scripts/servers/rdap.sh builds icann-rdap-srv 0.0.30 with Debian's Rust
  # 1.96 (bookworm-security; installs as /usr/bin/cargo and /usr/bin/rustc)
  cargo-web rustc-web
  # tests/fresh/quickstart_fresh_root.sh: a Debian 12 root made from Debian's
  # packages (mmdebstrap), cached as a zstd tarball; git clones into it
  mmdebstrap debian-archive-keyring zstd git
  # tests/e2e/statuspage: the status page in a headless browser, driven by
  # playwright-core (from npm, into ~/.cache/rdapsync) against this Chromium
  chromium
)

# Toolchains that the machines normally have outside of apt.
extra_test_pkgs() {
  command -v java >/dev/null 2>&1 || echo openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || echo maven
  # Debian 12's golang-go is Go 1.19, too old for FerretDB v1.24.2 (Go >=
  # 1.24): scripts/go-toolchain.sh then fetches Go 1.24 with it.
  command -v go >/dev/null 2>&1 || echo golang-go
  # tests/e2e/statuspage installs playwright-core with npm
  command -v node >/dev/null 2>&1 || echo nodejs
  command -v npm >/dev/null 2>&1 || echo npm
  return 0
}

installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

want_list() {
  case "$1" in
    build) printf '%s\n' "${BUILD_PKGS[@]}" ;;
    test) printf '%s\n' "${TEST_PKGS[@]}"; extra_test_pkgs ;;
    *) die "unknown group '$1' (build or test)" ;;
  esac
  # More packages for one run, e.g. RDAPSYNC_DEPS_EXTRA="gdb strace".
  if [[ -n "${RDAPSYNC_DEPS_EXTRA:-}" ]]; then
    # shellcheck disable=SC2086 # a space-separated list
    printf '%s\n' $RDAPSYNC_DEPS_EXTRA
  fi
}

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  fi
fi

install_group() {
  local group="$1"
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian"
  local -a missing=()
  local p
  while read -r p; do
    [[ -n "$p" ]] || continue
    installed "$p" || missing+=("$p")
  done < <(want_list "$group" | awk '!seen[$0]++')
  if ((${#missing[@]} == 0)); then
    log "all packages of group '$group' are installed"
    return 0
  fi
  if [[ "$(id -u)" -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
    die "missing packages (${missing[*]}) and not root without sudo: install them by hand"
  fi
  log "missing: ${missing[*]}"
  # Keep the packages' postinst scripts from starting system-wide PostgreSQL
  # or MariaDB services on their default ports (tests start their own).
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    "${SUDO[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
    added_policy=1
    trap '"${SUDO[@]}" rm -f '"$policy" EXIT
  fi
  local rc=0
  export DEBIAN_FRONTEND=noninteractive
  local -a apt_opts=(-q -o DPkg::Lock::Timeout=600)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update || rc=$?
  if ((rc == 0)); then
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" || rc=$?
  fi
  if ((added_policy)); then
    "${SUDO[@]}" rm -f "$policy"
    trap - EXIT
  fi
  ((rc == 0)) || die "apt-get failed (exit $rc)"
  for p in "${missing[@]}"; do
    installed "$p" || die "package $p is still not installed"
  done
  log "installed: ${missing[*]}"
}

case "${1:-}" in
  build|test) install_group "$1" ;;
  list) want_list "${2:-test}" | awk '!seen[$0]++' ;;
  *) printf 'usage: %s {build|test|list [build|test]}\n' "$(basename "$0")" >&2; exit 2 ;;
esac
