#!/usr/bin/env bash
# The SDK as a third party gets it: `cmake --install` into a scratch prefix,
# then sdk/examples/sink-counter and sdk/examples/sink-snapshot (on the
# keyed-sink toolkit, rdapsync::sinktk / rdapsync-sinktk) built out of the
# tree against that prefix twice each, with CMake (find_package +
# rdapsync_add_plugin) and with make + pkg-config, and each build run by the
# installed rdapsync in a pipeline whose output and dead letters are
# checked.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }
for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BINARY_DIR; do
  [ -n "${!var:-}" ] || fail "$var is not set (run through ctest)"
done
command -v python3 >/dev/null || fail "python3 is needed"
command -v pkg-config >/dev/null || fail "pkg-config is needed"
# Only the installed tree may be used from here on.
unset RDAPSYNC_PLUGIN_PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-sdk.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
prefix=$work/prefix
example=$RDAPSYNC_SOURCE_DIR/sdk/examples/sink-counter

note "install into $prefix"
cmake --install "$RDAPSYNC_BINARY_DIR" --prefix "$prefix" >install.log || { cat install.log; fail "cmake --install"; }
[ -x "$prefix/bin/rdapsync" ] || fail "no rdapsync in $prefix/bin"
pc=$(find "$prefix" -name rdapsync.pc | head -1)
[ -n "$pc" ] || fail "no rdapsync.pc installed"
[ -f "$prefix/include/rdapsync/rdapsync.h" ] || fail "no SDK headers installed"
[ -f "$prefix/include/rdapsync/sinktk.h" ] || fail "no toolkit header installed"
[ -n "$(find "$prefix" -name librdapsync-sinktk.a)" ] || fail "no toolkit library installed"
[ -n "$(find "$prefix" -name rdapsync-sinktk.pc)" ] || fail "no rdapsync-sinktk.pc installed"

note "out-of-tree build with CMake"
cmake -S "$example" -B cmake-build -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >cmake.log 2>&1 \
  || { cat cmake.log; fail "configuring the example"; }
cmake --build cmake-build >>cmake.log 2>&1 || { cat cmake.log; fail "building the example with CMake"; }
[ -f cmake-build/sink-counter.so ] || fail "CMake build made no sink-counter.so"

# `cmake --install` honours --prefix; without it the plugin goes where the
# installed rdapsync looks for plugins.
note "cmake --install of the plugin, with and without --prefix"
cmake --install cmake-build --prefix "$work/elsewhere" >>cmake.log 2>&1 || { cat cmake.log; fail "cmake --install --prefix"; }
[ -f "$work/elsewhere/lib/rdapsync/plugins/sink-counter.so" ] \
  || { find "$work/elsewhere" "$prefix" -name sink-counter.so; fail "--prefix was ignored by the plugin's install"; }
[ ! -e "$prefix/lib/rdapsync/plugins/sink-counter.so" ] || fail "--prefix install also wrote into rdapsync's prefix"
cmake --install cmake-build >>cmake.log 2>&1 || { cat cmake.log; fail "cmake --install"; }
[ -f "$prefix/lib/rdapsync/plugins/sink-counter.so" ] || fail "a plain install did not put the plugin in rdapsync's plugins directory"
rm -f "$prefix/lib/rdapsync/plugins/sink-counter.so"

note "out-of-tree build with make + pkg-config"
mkdir make-build
cp "$example/sink_counter.c" "$example/Makefile" make-build/
# --define-prefix: the .pc file names the prefix given at configure time;
# this points it at where it was installed (the pkgconf way for relocated
# trees).
pkgconf="pkg-config --define-prefix"
export PKG_CONFIG_PATH=$(dirname "$pc")
make -C make-build PKG_CONFIG="$pkgconf" >make.log 2>&1 || { cat make.log; fail "building with make"; }
[ -f make-build/sink-counter.so ] || fail "make built no sink-counter.so"
pluginsdir=$($pkgconf --variable=pluginsdir rdapsync)
[ "$pluginsdir" = "$prefix/lib/rdapsync/plugins" ] || fail "pkg-config pluginsdir is $pluginsdir"
[ -f "$pluginsdir/source-file.so" ] || fail "no installed plugins in $pluginsdir"

for f in cmake-build/sink-counter.so make-build/sink-counter.so; do
  exported=$(nm -D --defined-only "$f" | awk '$2 ~ /^[TDB]$/ {print $3}' | sort | tr '\n' ' ')
  [ "$exported" = "rdapsync_plugin_entry " ] || fail "$f exports '$exported', not only the entry symbol"
done

# 200 domains (keys of 12 bytes), 30 deletes, 10 domains with a 40-byte key
# (rejected: max_key_bytes 32), 5 lines that are not JSON (dead letters).
python3 - >in.jsonl <<'PY'
import json
for i in range(200):
    print(json.dumps({"objectClassName": "domain", "handle": "DOM-%08d" % i, "ldhName": "d%d.example" % i}))
for i in range(30):
    print(json.dumps({"key": "DOM-%08d" % i, "op": "delete", "ts_ms": 1, "value": None}))
for i in range(10):
    print(json.dumps({"objectClassName": "domain", "handle": "LONG-%035d" % i}))
for i in range(5):
    print('{"not": json %d' % i)
PY

for build in cmake-build make-build; do
  note "pipeline with the $build plugin"
  rm -rf out state
  cat >run.yaml <<YAML
state_dir: $work/state
plugin_path: [ "$work/$build" ]
pipelines:
  - name: counted
    source: { plugin: file, config: { path: "$work/in.jsonl" } }
    sink: { plugin: counter, config: { path: "$work/out/totals.json", max_key_bytes: 32 } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$work/out/dead.jsonl" } } }
YAML
  mkdir -p out
  "$prefix/bin/rdapsync" --plugin-path "$work/$build" plugins counter >plugins.txt 2>&1 \
    || { cat plugins.txt; fail "$build: rdapsync plugins counter"; }
  grep -q "sink counter 1.0.0" plugins.txt && grep -q "max_key_bytes" plugins.txt \
    || { cat plugins.txt; fail "$build: 'rdapsync plugins' does not describe the counter"; }
  status=0
  "$prefix/bin/rdapsync" run run.yaml >run.log 2>&1 || status=$?
  [ "$status" -eq 0 ] || { cat run.log; fail "$build: rdapsync exited $status"; }
  python3 - "$work/out/totals.json" "$work/out/dead.jsonl" <<'PY'
import json, sys
totals = json.load(open(sys.argv[1]))
want = {"records": 230, "upserts": 200, "deletes": 30, "bad": 0, "rejected": 10}
assert totals == want, "totals %s, expected %s" % (totals, want)
dead = [json.loads(l) for l in open(sys.argv[2])]
rejected = [d for d in dead if "max_key_bytes" in d["error"]]
unparsed = [d for d in dead if ":2" in d["error"] and "line 1 column" in d["error"]]
assert len(dead) == 15, "%d dead letters, expected 15" % len(dead)
assert len(rejected) == 10 and all(d["key"].startswith("LONG-") for d in rejected), "rejects: %s" % rejected[:1]
assert len(unparsed) == 5, "parse errors: %s" % [d["error"] for d in dead]
print("check: totals %s, 10 rejected and 5 unparsable records dead-lettered" % json.dumps(totals))
PY
done
# ---- the keyed-sink toolkit's example ----
snapshot=$RDAPSYNC_SOURCE_DIR/sdk/examples/sink-snapshot
note "sink-snapshot: out-of-tree build with CMake (rdapsync::sinktk)"
cmake -S "$snapshot" -B snap-cmake -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >snap-cmake.log 2>&1 \
  || { cat snap-cmake.log; fail "configuring sink-snapshot"; }
cmake --build snap-cmake >>snap-cmake.log 2>&1 || { cat snap-cmake.log; fail "building sink-snapshot with CMake"; }
note "sink-snapshot: out-of-tree build with make + pkg-config (rdapsync-sinktk)"
mkdir snap-make
cp "$snapshot/sink_snapshot.c" "$snapshot/Makefile" snap-make/
make -C snap-make PKG_CONFIG="$pkgconf" >snap-make.log 2>&1 || { cat snap-make.log; fail "building sink-snapshot with make"; }
for f in snap-cmake/sink-snapshot.so snap-make/sink-snapshot.so; do
  [ -f "$f" ] || fail "no $f"
  exported=$(nm -D --defined-only "$f" | awk '$2 ~ /^[TDB]$/ {print $3}' | sort | tr '\n' ' ')
  [ "$exported" = "rdapsync_plugin_entry " ] || fail "$f exports '$exported': the toolkit must stay hidden inside"
  # Not `nm | grep -q`: grep stops at the first match, nm then dies of
  # SIGPIPE once its output outgrows the pipe, and pipefail fails the test.
  nm "$f" >"$f.nm"
  grep -q 'rdapsync_sinktk_writer_write' "$f.nm" || fail "$f does not carry the toolkit"
done

for build in snap-cmake snap-make; do
  note "pipeline with the $build snapshot sink, twice (the second run replays everything)"
  rm -rf out state
  mkdir -p out
  cat >snap.yaml <<YAML
state_dir: $work/state
plugin_path: [ "$work/$build" ]
pipelines:
  - name: snap
    source: { plugin: file, config: { path: "$work/in.jsonl" } }
    sink: { plugin: snapshot, config: { path: "$work/out/snapshot.jsonl", max_key_bytes: 32 } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$work/out/dead.jsonl" } } }
YAML
  for run in 1 2; do
    [ "$run" = 2 ] && rm -rf state   # no checkpoint: every record comes again
    status=0
    "$prefix/bin/rdapsync" run snap.yaml >"snap-run-$run.log" 2>&1 || status=$?
    [ "$status" -eq 0 ] || { cat "snap-run-$run.log"; fail "$build: run $run exited $status"; }
    cp out/snapshot.jsonl "out/snapshot-$run.jsonl"
  done
  cmp -s out/snapshot-1.jsonl out/snapshot-2.jsonl || fail "$build: a replay changed the snapshot"
  python3 - "$work/out/snapshot.jsonl" "$work/out/dead.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = {r["key"]: r for r in rows}
assert len(rows) == len(keys) == 200, "%d rows, %d keys: expected one row per key, 200 keys" % (len(rows), len(keys))
tombstones = [k for k, r in keys.items() if r["doc"] is None]
assert sorted(tombstones) == ["DOM-%08d" % i for i in range(30)], "tombstones: %s" % tombstones[:5]
assert all(r["doc"]["handle"] == k for k, r in keys.items() if r["doc"]), "a document under the wrong key"
dead = [json.loads(l) for l in open(sys.argv[2])]
long_keys = {d["key"] for d in dead if "max_key_bytes" in d["error"]}
assert long_keys == {"LONG-%035d" % i for i in range(10)}, "rejects: %s" % sorted(long_keys)[:3]
assert not any(k.startswith("LONG-") for k in keys), "a rejected key was stored"
print("check: 200 keys (30 tombstones), the 10 long keys dead-lettered, a replay changes nothing")
PY
done
echo "PASS sdk_example"
