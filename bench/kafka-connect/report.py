#!/usr/bin/env python3
"""The benchmark's table from $KCB_DIR/results.jsonl: every run, then per
configuration the mean of its rounds, the ratios against Kafka Connect's best
configuration and against PostgreSQL's ceiling (COPY over as many
connections), and the targets. Writes the table as Markdown to
$KCB_DIR/table.md and, with gnuplot, rows/s over time of each
configuration's first round to $KCB_PLOT (a PNG).
"""
import json
import os
import subprocess
import sys
from collections import OrderedDict

BASE = os.environ["KCB_DIR"]
runs = [json.loads(line) for line in open(BASE + "/results.jsonl") if line.strip()]
configs = OrderedDict()
for r in runs:
    if r["system"] != "pg":
        configs.setdefault(r["config"], []).append(r)
ceilings = {(r["connections"], r["compression"]): r for r in runs if r["system"] == "pg"}


def mean(rs, key):
    return sum(r[key] for r in rs) / len(rs)


print("%-14s %8s %8s %8s %9s %7s %7s %s" % ("run", "wall s", "rows/s", "steady", "peak RSS", "CPU s", "PG CPU", "rows"))
for r in runs:
    if r["system"] != "pg":
        print("%-14s %8.1f %8d %8d %6.0f MB %7.1f %7.1f %s" % (
            r["name"], r["wall_s"], r["rows_per_s"], r["steady_rows_per_s"], r["peak_rss_mb"], r["cpu_s"],
            r["pg_cpu_s"], "ok" if r["rows"] == r["records"] == r["distinct_keys"] else "WRONG"))

summary = OrderedDict()
for name, rs in configs.items():
    summary[name] = {k: mean(rs, k) for k in ("rows_per_s", "steady_rows_per_s", "peak_rss_mb", "cpu_s", "pg_cpu_s")}
    summary[name].update(label=rs[0]["label"], system=rs[0]["system"], backends=rs[0]["backends"], n=len(rs),
                         tasks=rs[0]["tasks"])
kc = [c for c in summary if summary[c]["system"] == "kc"]
rs_ = [c for c in summary if summary[c]["system"] == "rs"]
best_kc = max(kc, key=lambda c: summary[c]["steady_rows_per_s"]) if kc else None

lines = ["| system | rows/s overall | rows/s steady | peak RSS | own CPU | PostgreSQL CPU |",
         "| --- | ---: | ---: | ---: | ---: | ---: |"]
for c, m in summary.items():
    lines.append("| %s | %s | %s | %.0f MB | %.1f s | %.1f s |" % (
        m["label"] + (" (best)" if c == best_kc and len(kc) > 1 else ""), format(round(m["rows_per_s"]), ","),
        format(round(m["steady_rows_per_s"]), ","), m["peak_rss_mb"], m["cpu_s"], m["pg_cpu_s"]))
for (c, comp), r in sorted(ceilings.items()):
    lines.append("| PostgreSQL ceiling: %s | %s | | | | %.1f s |" % (r["label"], format(r["rows_per_s"], ","), r["pg_cpu_s"]))
n_records = runs[0]["records"] if runs else 0
rounds = max((m["n"] for m in summary.values()), default=0)
lines.append("")
lines.append("%s records, means of %d round(s) per configuration." % (format(n_records, ","), rounds))
if best_kc:
    lines.append("")
    lines.append("| rdapsync configuration | vs %s: overall (target ≥ 3×) | steady (target ≥ 2×) | steady vs "
                 "ceiling (same connections, lz4; target ≥ 0.9×) | peak RSS (target ≤ 32 MB, one task) |"
                 % summary[best_kc]["label"])
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    b = summary[best_kc]
    for c in rs_:
        m = summary[c]
        ceil = ceilings.get((m["backends"], "lz4"))
        lines.append("| %s | %.2f× | %.2f× | %s | %s |" % (
            m["label"], m["rows_per_s"] / b["rows_per_s"], m["steady_rows_per_s"] / b["steady_rows_per_s"],
            "%.2f× of %s" % (m["steady_rows_per_s"] / ceil["rows_per_s"], format(ceil["rows_per_s"], ","))
            if ceil else "(no ceiling measured)",
            "%.0f MB" % m["peak_rss_mb"] if m["tasks"] == 1 else "(%d tasks)" % m["tasks"]))
comp = [(c, ceilings.get((c, "pglz")), ceilings.get((c, "lz4"))) for c in sorted({k[0] for k in ceilings})]
for c, pglz, lz4 in comp:
    if pglz and lz4:
        lines.append("")
        lines.append("COPY over %d connection(s): lz4 %s rows/s against pglz %s (%.2f×), PostgreSQL CPU %.1f s "
                     "against %.1f s." % (c, format(lz4["rows_per_s"], ","), format(pglz["rows_per_s"], ","),
                                          lz4["rows_per_s"] / pglz["rows_per_s"], lz4["pg_cpu_s"], pglz["pg_cpu_s"]))
table = "\n".join(lines) + "\n"
print()
print(table)
with open(BASE + "/table.md", "w") as f:
    f.write(table)

# rows/s over time: the rate between polls a second apart, first round of each configuration.
plot = os.environ.get("KCB_PLOT")
if not plot:
    sys.exit(0)
series = []
for c, rs in configs.items():
    path = "%s/samples/%s.csv" % (BASE, rs[0]["name"])
    pts = [tuple(float(x) for x in l.split()[:2]) for l in open(path) if not l.startswith("#")]
    out = "%s/samples/%s.rate" % (BASE, rs[0]["name"])
    with open(out, "w") as f:
        for (t0, n0), (t1, n1) in zip(pts, pts[2:]):
            f.write("%.2f %.0f\n" % (t1, (n1 - n0) / (t1 - t0)))
    series.append((out, summary[c]["label"]))
script = ['set terminal pngcairo size 1000,520 font "sans,10"', 'set output "%s"' % plot,
          'set title "Kafka topic of %s Debezium envelopes -> PostgreSQL: rows per second over time"'
          % format(n_records, ","),
          'set xlabel "seconds since process start"', 'set ylabel "rows/s (1 s windows)"', "set grid",
          'set key outside bottom center horizontal maxrows 2 font ",9"', "set yrange [0:*]"]
script.append("plot " + ", ".join('"%s" using 1:2 with lines lw 2 title "%s"' % (p, t.replace('"', "'"))
                                  for p, t in series))
subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)
print("plot: %s" % plot)
