#!/usr/bin/env bash
# PostgreSQL's own ingest ceiling for the benchmark's rows: the rows rdapsync
# stored (table $1) exported once as COPY text, then COPYed again over C
# connections at once (the file split in C parts by line) into a new table
# of the same schema (CREATE TABLE ... (LIKE ... INCLUDING ALL), the doc
# column's compression set to each of COMPRESSIONS). One JSON line per
# (connections, compression) appended to $KCB_DIR/results.jsonl.
#   ceiling.sh TABLE "1 2" "lz4 pglz"
set -euo pipefail
src=$1 conns=$2 comps=$3
: "${KCB_DIR:?} ${KCB_PG_DSN:?} ${KCB_POSTMASTER_PID:?}"
psqlc() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 "$KCB_PG_DSN" "$@"; }
data=$KCB_DIR/ceiling
rm -rf "$data"; mkdir -p "$data"
cols="key, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset"
psqlc -c "\\copy (SELECT $cols FROM $src) TO '$data/rows.copy'"
rows=$(wc -l <"$data/rows.copy")
server_cpu() { python3 -c "
import os, sys
sys.path.insert(0, '$(dirname "$0")')
from run_one import server_cpu
print(server_cpu($KCB_POSTMASTER_PID))"; }
for c in $conns; do
  rm -f "$data"/part.*
  split -n "l/$c" -d "$data/rows.copy" "$data/part."
  for comp in $comps; do
    t=kcb_ceiling_${c}_$comp
    psqlc -c "DROP TABLE IF EXISTS $t; CREATE TABLE $t (LIKE $src INCLUDING ALL); ALTER TABLE $t ALTER doc SET COMPRESSION $comp; CHECKPOINT"
    cpu0=$(server_cpu); t0=$(date +%s.%N)
    for part in "$data"/part.*; do psqlc -c "\\copy $t ($cols) FROM '$part'" & done
    wait
    t1=$(date +%s.%N); cpu1=$(server_cpu)
    n=$(psqlc -c "SELECT count(*) FROM $t")
    [[ $n == "$rows" ]] || { echo "ceiling: $t holds $n rows, expected $rows" >&2; exit 1; }
    python3 - "$c" "$comp" "$rows" "$t0" "$t1" "$cpu0" "$cpu1" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY' | tee -a "$KCB_DIR/results.jsonl"
import json, sys
c, comp, rows, t0, t1, cpu0, cpu1, load = sys.argv[1:]
wall = float(t1) - float(t0)
print(json.dumps({"name": "ceiling-c%s-%s" % (c, comp), "system": "pg", "connections": int(c), "compression": comp,
                  "label": "COPY into the same schema, %s connection(s), %s" % (c, comp), "records": int(rows),
                  "wall_s": round(wall, 2), "rows_per_s": round(int(rows) / wall),
                  "pg_cpu_s": round(float(cpu1) - float(cpu0), 2), "load_after": load}))
PY
    psqlc -c "DROP TABLE $t"
  done
done
rm -rf "$data"
