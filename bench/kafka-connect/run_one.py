#!/usr/bin/env python3
"""One timed run: Kafka Connect + the Debezium JDBC sink, or rdapsync, reading
the whole topic (a consumer group of its own, from the beginning) into a new
table of its own, alone on the machine's servers.

  run_one.py kc NAME --tasks N [--batch N]      (Kafka Connect standalone)
  run_one.py rs NAME --tasks N [--connections N] (rdapsync)

Environment (run.sh sets it): KCB_DIR (work folder), KCB_JARS (fetch.sh's
folder), KCB_RDAPSYNC, KCB_PLUGINS, KCB_TOPIC, KCB_BROKERS, KCB_PG_DSN,
KCB_PG_PORT, KCB_RECORDS, KCB_REST_PORT, KCB_BROKER_PID, KCB_POSTMASTER_PID.

Measures, as one JSON line appended to $KCB_DIR/results.jsonl:
  wall       process start -> the first count(*) that sees every row (polled
             every 0.5 s over one psql session);
  steady     rows/s between the first polls at >= 10 % and >= 90 % of the rows;
  peak RSS   VmHWM of the process just before it is stopped;
  CPU        utime+stime of the process (all threads); PostgreSQL's: the
             postmaster and its children over the same interval.
The samples (seconds, rows, process CPU s, RSS kB) go to $KCB_DIR/samples/NAME.csv.
A run that stores other than RECORDS distinct keys fails.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

ENV = os.environ
BASE = ENV["KCB_DIR"]
N = int(ENV["KCB_RECORDS"])
CLK = os.sysconf("SC_CLK_TCK")
TIMEOUT = float(ENV.get("KCB_RUN_TIMEOUT", "900"))
PSQL = ["psql", "-X", "-q", "-At", ENV["KCB_PG_DSN"]]


def sql(query):
    return subprocess.run(PSQL + ["-c", query], check=True, capture_output=True, text=True).stdout.strip()


def stat_fields(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rindex(")") + 2:].split()


def cpu_of(pid, children=False):
    """utime+stime seconds (and the reaped children's with children=True)."""
    f = stat_fields(pid)
    if not f:
        return 0.0
    n = 4 if children else 2
    return sum(int(x) for x in f[11:11 + n]) / CLK


def server_cpu(postmaster):
    """The whole server: the postmaster, its live children and reaped ones."""
    total = cpu_of(postmaster, children=True)
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != postmaster:
            f = stat_fields(int(d))
            if f and int(f[1]) == postmaster:
                total += cpu_of(int(d), children=True)
    return total


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def kc_command(run_dir, group, table, a):
    # The table Kafka Connect creates gets lz4 like rdapsync's (compression:
    # auto): the same compressor on both sides.
    with open(run_dir + "/worker.properties", "w") as f:
        f.write("""# connect-standalone.properties of the Kafka distribution, with this broker
# and JSON converters with schemas.
bootstrap.servers={brokers}
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename={d}/connect.offsets
offset.flush.interval.ms=10000
plugin.path={jars}/plugins
listeners=http://127.0.0.1:{rest}
""".format(brokers=ENV["KCB_BROKERS"], d=run_dir, jars=ENV["KCB_JARS"], rest=ENV["KCB_REST_PORT"]))
    with open(run_dir + "/connector.properties", "w") as f:
        f.write("""name={group}
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
tasks.max={tasks}
topics={topic}
connection.url=jdbc:postgresql://127.0.0.1:{port}/{db}?options=-c%20default_toast_compression%3Dlz4
connection.username=postgres
connection.password=unused
insert.mode=upsert
delete.enabled=false
primary.key.mode=record_key
primary.key.fields=handle
schema.evolution=basic
collection.name.format={table}
batch.size={batch}
consumer.override.max.poll.records={batch}
""".format(group=group, tasks=a.tasks, topic=ENV["KCB_TOPIC"], port=ENV["KCB_PG_PORT"], db=ENV["KCB_PG_DB"],
           table=table, batch=a.batch))
    # The JVM flags bin/connect-standalone.sh and bin/kafka-run-class.sh set.
    return (["java", "-Xms256M", "-Xmx2G", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
             "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent", "-XX:MaxInlineLevel=15",
             "-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
             "-cp", ENV["KCB_JARS"] + "/libs/*", "org.apache.kafka.connect.cli.ConnectStandalone",
             run_dir + "/worker.properties", run_dir + "/connector.properties"])


def rs_command(run_dir, group, table, a):
    with open(run_dir + "/pipeline.yaml", "w") as f:
        f.write("""state_dir: {d}/state
pipelines:
  - name: kcbench
    tasks: {tasks}
    source:
      plugin: kafka
      config:
        brokers: "{brokers}"
        topics: [{topic}]
        group: {group}
        format: debezium
        key_path: handle
        document: doc{properties}
    sink:
      plugin: postgres
      config: {{ dsn: "{dsn}", table: {table}, connections: {connections} }}
""".format(d=run_dir, tasks=a.tasks, brokers=ENV["KCB_BROKERS"], topic=ENV["KCB_TOPIC"], group=group,
           dsn=ENV["KCB_PG_DSN"], table=table, connections=a.connections,
           properties="\n        properties: { %s }" % ", ".join(
               '"%s": "%s"' % tuple(kv.split("=", 1)) for kv in a.properties.split(",")) if a.properties else ""))
    return [ENV["KCB_RDAPSYNC"], "--plugin-path", ENV["KCB_PLUGINS"], "run", run_dir + "/pipeline.yaml"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("system", choices=["kc", "rs"])
    ap.add_argument("name")
    ap.add_argument("--tasks", type=int, default=1)
    ap.add_argument("--batch", type=int, default=500, help="kc: batch.size and max.poll.records")
    ap.add_argument("--connections", type=int, default=1, help="rs: the postgres sink's connections")
    ap.add_argument("--properties", default="", help="rs: librdkafka properties of the source, k=v,k=v")
    ap.add_argument("--label", default="")
    a = ap.parse_args()

    table = "kcb_" + a.name.replace("-", "_")
    group = "%s-%d" % (a.name, int(time.time()))  # never resumes an earlier run's offsets
    run_dir = "%s/runs/%s" % (BASE, a.name)
    subprocess.run(["rm", "-rf", run_dir], check=True)
    os.makedirs(run_dir)
    os.makedirs(BASE + "/samples", exist_ok=True)
    sql("DROP TABLE IF EXISTS %s CASCADE" % table)
    cmd = (kc_command if a.system == "kc" else rs_command)(run_dir, group, table, a)
    postmaster = int(ENV["KCB_POSTMASTER_PID"])

    poller = subprocess.Popen(PSQL, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(query):
        poller.stdin.write(query + "\n")
        poller.stdin.flush()
        return poller.stdout.readline().strip()

    ask("""CREATE OR REPLACE FUNCTION pg_temp.kcb_count(t text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint; BEGIN
  IF to_regclass(t) IS NULL THEN RETURN 0; END IF;
  EXECUTE format('SELECT count(*) FROM %s', t) INTO n; RETURN n; END $$; SELECT 1;""")
    load0 = open("/proc/loadavg").read().split()[0]
    pg0 = server_cpu(postmaster)
    t0 = time.monotonic()
    log = open(run_dir + "/process.log", "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=run_dir, start_new_session=True)
    samples = []
    try:
        next_poll = t0 + 0.5
        while True:
            time.sleep(max(0.0, next_poll - time.monotonic()))
            next_poll += 0.5
            if p.poll() is not None:
                raise SystemExit("%s: the process exited with %s (see %s/process.log)" % (a.name, p.returncode, run_dir))
            n = int(ask("SELECT pg_temp.kcb_count('%s');" % table))
            t = time.monotonic() - t0
            samples.append((round(t, 3), n, round(cpu_of(p.pid), 2), status_kb(p.pid, "VmRSS")))
            if n >= N:
                break
            if t > TIMEOUT:
                raise SystemExit("%s: timed out after %.0f s at %d rows" % (a.name, t, n))
        hwm_kb = status_kb(p.pid, "VmHWM")
        cpu = cpu_of(p.pid)
        pg = server_cpu(postmaster) - pg0
        load1 = open("/proc/loadavg").read().split()[0]
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()
        poller.stdin.close()
        poller.wait()

    wall = samples[-1][0]
    s10 = next(s for s in samples if s[1] >= 0.1 * N)
    s90 = next(s for s in samples if s[1] >= 0.9 * N)
    steady = (s90[1] - s10[1]) / (s90[0] - s10[0]) if s90[0] > s10[0] else None
    key = "handle" if a.system == "kc" else "key"
    rows, keys = (int(x) for x in sql("SELECT count(*), count(DISTINCT %s) FROM %s" % (key, table)).split("|"))
    with open("%s/samples/%s.csv" % (BASE, a.name), "w") as f:
        f.write("# seconds rows cpu_s rss_kb\n")
        for s in samples:
            f.write("%s %d %s %d\n" % s)
    res = {
        "name": a.name, "config": a.name.rsplit("-r", 1)[0], "system": a.system, "label": a.label, "tasks": a.tasks,
        "backends": a.tasks * (a.connections if a.system == "rs" else 1), "records": N,
        "wall_s": round(wall, 2), "rows_per_s": round(N / wall), "steady_rows_per_s": round(steady) if steady else None,
        "peak_rss_mb": round(hwm_kb / 1024, 1), "cpu_s": round(cpu, 2), "pg_cpu_s": round(pg, 2),
        "rows": rows, "distinct_keys": keys, "load_before": load0, "load_after": load1,
    }
    with open(BASE + "/results.jsonl", "a") as f:
        f.write(json.dumps(res) + "\n")
    print(json.dumps(res))
    sql("DROP TABLE IF EXISTS %s CASCADE" % table) if ENV.get("KCB_KEEP_TABLE") != a.name else None
    sys.exit(0 if rows == N and keys == N else 1)


if __name__ == "__main__":
    main()
