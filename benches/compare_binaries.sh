#!/usr/bin/env bash
# Two surge binaries side by side on one experiment: alternate runs (so drift of the machine
# hits both alike), median wall time of each, requests per second from the report.
#
#   benches/compare_binaries.sh OLD_BINARY NEW_BINARY EXPERIMENT [DURATION] [ROUNDS]
#
# e.g. the request path before and after a rebuild, on M/M/4 with 10 million requests:
#   benches/compare_binaries.sh /tmp/old/surge target/release/surge experiments/mm4.json 2777778s 5
set -euo pipefail
old=$1 new=$2 exp=$3 duration=${4:-} rounds=${5:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$exp" "$duration" "$work/exp.json" <<'PY'
import json, os, sys
src, duration, dst = sys.argv[1:4]
d = json.load(open(src))
if duration:
    d["duration"] = duration
if isinstance(d.get("model"), str):
    d["model"] = os.path.abspath(os.path.join(os.path.dirname(src), d["model"]))
json.dump(d, open(dst, "w"))
PY
run() { # binary label round
    local t0 t1
    t0=$(date +%s.%N)
    "$1" run "$work/exp.json" --out "$work/$2-$3" -q -j 1 >/dev/null
    t1=$(date +%s.%N)
    echo "$2 $(echo "$t1 - $t0" | bc)" >> "$work/times"
}
for r in $(seq 1 "$rounds"); do
    run "$old" old "$r"
    run "$new" new "$r"
done
arrivals=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(sum(x['summary']['arrivals'] for x in r['runs']))" "$work/new-1/report.json")
python3 - "$work/times" "$arrivals" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    label, t = line.split()
    times.setdefault(label, []).append(float(t))
n = int(sys.argv[2])
med = {k: statistics.median(v) for k, v in times.items()}
for k in ("old", "new"):
    print(f"{k}: median {med[k]:.3f} s over {len(times[k])} runs ({', '.join(f'{t:.3f}' for t in times[k])}), {n / med[k] / 1e6:.2f} M requests/s")
print(f"new / old requests per second: {med['old'] / med['new']:.3f}")
PY
