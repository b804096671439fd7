#!/usr/bin/env bash
# Part of tests/fresh/quickstart_fresh_root.sh, which runs it as root in new
# mount and pid namespaces (unshare): every mount made here goes away with the
# namespace's last process. Not meant to be run alone.
#
# Unpacks the cached Debian 12 root into FR_ROOT (in a tmpfs mounted there
# when FR_TMPFS=1), clones the checkout FR_REPO at FR_HEAD into /root/rdapsync
# and /root/rdapsync-by-hand (with this machine's git; the root has its own,
# the one a user would have cloned with), then runs, as root's login shell
# with a fresh Debian's environment:
#   1. cd /root/rdapsync && bash scripts/quickstart.sh
#   2. in /root/rdapsync-by-hand, the README's "Building by hand" commands as
#      written, then `rdapsync plugins` from the installed copy.
# Lines starting with "[root]" say what happens; exit status: the quickstart's.
set -euo pipefail

: "${FR_ROOT:?}" "${FR_TMPFS:?}" "${FR_TARBALL:?}" "${FR_REPO:?}" "${FR_HEAD:?}" "${FR_APT:?}" "${FR_PATH:?}"
r=$FR_ROOT
say() { printf '[root] %s\n' "$*"; }

t=$SECONDS
where=$r
if [[ "$FR_TMPFS" == 1 ]]; then
  mount -t tmpfs -o mode=755 tmpfs "$r"
  where="a tmpfs"
fi
tar --numeric-owner -I zstd -xpf "$FR_TARBALL" -C "$r"
for d in rdapsync rdapsync-by-hand; do
  # safe.directory: the checkout may belong to another user than root.
  git -c safe.directory='*' clone --quiet --no-hardlinks --no-checkout "$FR_REPO" "$r/root/$d"
  git -C "$r/root/$d" -c advice.detachedHead=false checkout --quiet --detach "$FR_HEAD"
done
cp -L /etc/resolv.conf "$r/etc/resolv.conf"
say "root unpacked into $where and HEAD ${FR_HEAD:0:7} cloned into /root/rdapsync in $((SECONDS - t)) s"

mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
# Only the downloaded .deb files are shared between runs.
mount --bind "$FR_APT" "$r/var/cache/apt/archives"

as_root() { # CMD: run by root's login shell inside the root
  chroot "$r" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
    PATH="$FR_PATH" /bin/bash -lc "$1"
}

say "running: bash scripts/quickstart.sh"
rc=0
as_root "cd /root/rdapsync && bash scripts/quickstart.sh" || rc=$?

# The README's "Building by hand" commands: the first sh block after its title.
t=$SECONDS
# Each command is shown as it runs (bash takes no PS4 from the environment
# when run as root: it is set in the script).
{
  printf '%s\n' "PS4='[by-hand] '" 'set -ex'
  awk '/^## Building by hand/ { s = 1; next } s && /^```sh/ { b = 1; next } b && /^```/ { exit } b' \
    "$r/root/rdapsync-by-hand/README.md"
} >"$r/root/by-hand.sh"
if (($(wc -l <"$r/root/by-hand.sh") <= 2)); then
  say "by hand: FAIL: README.md has no sh block under \"## Building by hand\""
else
  say "by hand: the README's \"Building by hand\" commands, as written, in a second clone"
  if as_root "cd /root/rdapsync-by-hand && bash /root/by-hand.sh" &&
     as_root "rdapsync plugins" >"$r/root/plugins.txt" 2>&1 &&
     grep -q sqlite "$r/root/plugins.txt"; then
    say "by hand: ok in $((SECONDS - t)) s: built, installed, and the installed rdapsync lists its plugins"
  else
    cat "$r/root/plugins.txt" 2>/dev/null || true
    say "by hand: FAIL after $((SECONDS - t)) s"
  fi
fi

umount "$r/var/cache/apt/archives"
say "root: $(df -h --output=used "$r" | tail -n 1 | tr -d ' ') used"
exit "$rc"
