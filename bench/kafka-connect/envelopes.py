#!/usr/bin/env python3
"""rdapgen's RDAP lines (stdin) -> "KEY<TAB>VALUE" lines (stdout) for `kcat -P -K '\\t'`.

KEY   = JsonConverter key with its schema: {"schema":{struct handle},"payload":{"handle":H}}
VALUE = a Debezium change envelope (op "c") with the JsonConverter schema wrapper;
        `after` is the row {handle, ldh_name, doc}, doc the whole RDAP object as
        JSON text typed io.debezium.data.Json: what a Debezium source capturing a
        json column emits.
Kafka Connect reads these bytes with JsonConverter schemas.enable=true and the
Debezium JDBC sink; rdapsync with the kafka source's format: debezium.
"""
import json
import sys

TS0 = 1767225600000  # 2026-01-01T00:00:00Z
ROW = [
    {"type": "string", "optional": False, "field": "handle"},
    {"type": "string", "optional": True, "field": "ldh_name"},
    {"type": "string", "optional": True, "name": "io.debezium.data.Json", "version": 1, "field": "doc"},
]
VALUE_SCHEMA = {
    "type": "struct", "optional": False, "name": "rdap.public.domains.Envelope", "version": 2,
    "fields": [
        {"type": "struct", "optional": True, "name": "rdap.public.domains.Value", "field": "before", "fields": ROW},
        {"type": "struct", "optional": True, "name": "rdap.public.domains.Value", "field": "after", "fields": ROW},
        {"type": "struct", "optional": False, "name": "io.debezium.connector.postgresql.Source", "field": "source",
         "fields": [
             {"type": "string", "optional": False, "field": "version"},
             {"type": "string", "optional": False, "field": "connector"},
             {"type": "string", "optional": False, "field": "name"},
             {"type": "int64", "optional": False, "field": "ts_ms"},
             {"type": "string", "optional": False, "field": "db"},
             {"type": "string", "optional": False, "field": "schema"},
             {"type": "string", "optional": False, "field": "table"},
             {"type": "int64", "optional": True, "field": "lsn"},
         ]},
        {"type": "string", "optional": False, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"},
    ],
}
KEY_SCHEMA = {"type": "struct", "optional": False, "name": "rdap.public.domains.Key",
              "fields": [{"type": "string", "optional": False, "field": "handle"}]}


def main():
    compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    vs, ks = compact(VALUE_SCHEMA), compact(KEY_SCHEMA)
    out = sys.stdout
    for i, line in enumerate(sys.stdin):
        line = line.rstrip("\n")
        doc = json.loads(line)
        handle = doc["handle"]
        ts = TS0 + i
        payload = {
            "before": None,
            "after": {"handle": handle, "ldh_name": doc.get("ldhName"), "doc": line},
            "source": {"version": "3.6.0.Final", "connector": "postgresql", "name": "rdap", "ts_ms": ts,
                       "db": "rdap", "schema": "public", "table": "domains", "lsn": 1000 + i},
            "op": "c",
            "ts_ms": ts,
        }
        out.write('{"schema":%s,"payload":{"handle":%s}}\t{"schema":%s,"payload":%s}\n'
                  % (ks, compact(handle), vs, compact(payload)))


if __name__ == "__main__":
    main()
