#!/usr/bin/env bash
# (c) Bad lines with tolerance all: each one in the dead-letter file, with
# FILE:LINE and its raw bytes, the good ones in the output, exact counts.
# With tolerance none: exit 1, the error names FILE:LINE of the first bad
# line, and the records before it were still delivered.
source "$(dirname "$0")/lib.sh"

generate 40 3 good.jsonl 512
python3 - "$work/good.jsonl" "$work/in.jsonl" >bad_lines.txt <<'PY'
import sys
good = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
bad = {
    5: b'{"handle": "unterminated',
    9: b'{"handle":"x\xff\xfe"}',
    12: b'[{"handle":"in an array"}]',
    17: b'{"handle":"nul\x00byte"}',
    21: b'{"a":' + b'[' * 700 + b']' * 700 + b'}',
    26: b'{"x":"' + b'y' * 70000 + b'"}',
    30: b'{"key":"k","op":"merge","value":{}}',
    33: b'"just a string"',
}
out, n = [], 0
for line_no in range(1, len(good) + len(bad) + 1):
    if line_no in bad:
        out.append(bad[line_no])
    else:
        out.append(good[n]); n += 1
open(sys.argv[2], "wb").write(b"\n".join(out) + b"\n")
print(" ".join(str(k) for k in sorted(bad)))
PY
read -r -a bad_lines <bad_lines.txt

write_config all.yaml "$work/in.jsonl" "$work/out/domains.jsonl" all ", max_record_size: 64K"
run all.yaml all.log
[ "$status" -eq 0 ] || { cat all.log; fail "tolerance all: exit $status"; }
check dead-letters out/dead.jsonl "$work/in.jsonl" "${bad_lines[@]}"
check values-in-order good.jsonl out/domains.jsonl

note "tolerance none"
rm -rf out state
write_config none.yaml "$work/in.jsonl" "$work/out/domains.jsonl" none ", max_record_size: 64K"
sed -i 's|max_records: 500|max_records: 3|' none.yaml
run none.yaml none.log
[ "$status" -eq 1 ] || { cat none.log; fail "tolerance none: exit $status, expected 1"; }
grep -q "$work/in.jsonl:${bad_lines[0]}:" none.log || { cat none.log; fail "the error does not name in.jsonl:${bad_lines[0]}"; }
check lines out/domains.jsonl $((bad_lines[0] - 1))
[ ! -s out/dead.jsonl ] || fail "tolerance none wrote dead letters"
echo "PASS bad_input"
