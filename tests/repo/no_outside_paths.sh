#!/usr/bin/env bash
# The repository is whole by itself: no file of it may read from, or point a
# reader to, a folder beside the checkout (such as a "shared" folder next to
# it) or above the top of the source tree. A fresh clone has nothing there,
# so a test that needs it passes only on the machine it was written on.
# Tracked files are searched, and new files git does not ignore (so a
# finding shows before the commit); outside a git checkout, every file of
# the source tree except build folders.
set -euo pipefail

root=${RDAPSYNC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root"

# Assembled from pieces so that this script's own text matches neither.
up='\.\.'
patterns=(
  "${up}/shared"                                    # the folder beside the checkout
  "(RDAPSYNC|CMAKE)_SOURCE_DIR[}]?/${up}(/|\$|[\"'])" # anything above the top of the tree
)

files=$(mktemp)
trap 'rm -f "$files"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  how="files of the checkout"
  git ls-files -z --cached --others --exclude-standard >"$files"
else
  how="files (no git checkout)"
  find . \( -name .git -o -name 'build*' \) -prune -o -type f -print0 >"$files"
fi
count=$(tr -cd '\0' <"$files" | wc -c)
[ "$count" -gt 0 ] || { echo "FAIL: no files found under $root" >&2; exit 1; }

status=0
for pattern in "${patterns[@]}"; do
  # -s: a tracked file deleted in the work tree is no finding.
  hits=$(xargs -0 grep -nsE -e "$pattern" -- <"$files" || true)
  if [ -n "$hits" ]; then
    echo "FAIL: paths outside the repository ($pattern):" >&2
    echo "$hits" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "PASS: none of $count $how points outside the repository"
exit "$status"
