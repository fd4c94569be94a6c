#!/usr/bin/env bash
# Writing many files (issue 23.8): an audit of a synthetic extract of about 5,000 practices
# (opal synth makes one practice per ~60 patients) alone, then with --report
# --practice-packs --xlsx (about 20,000 files more), and with --report --practice-packs,
# alternating for RUNS rounds (default 3); prints each run, the medians and their ratio to the
# audit alone (the target: at most 3x).
#
#   benches/packs.sh [OPAL] [PATIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
opal="${1:-target/release/opal}"
patients="${2:-300000}"
runs="${RUNS:-3}"
mkdir -p target/bench
f="target/bench/packs-$patients.csv"
[[ -s "$f" ]] || "$opal" synth --patients "$patients" --months 12 --seed 1 --out "$f"
out=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$out" "$log"' EXIT
# Each run writes a folder of its own, all removed at the end: removing 20,000 files just
# before a run makes ext4 look past the recently freed inodes at every file created
# (`recently_deleted`, for minutes), which would time the file system's bookkeeping rather
# than opal.
for ((i = 0; i < runs; i++)); do
  for what in alone packs packs-no-xlsx; do
    extra=()
    [[ "$what" == packs ]] && extra=(--report --practice-packs --xlsx)
    [[ "$what" == packs-no-xlsx ]] && extra=(--report --practice-packs)
    /usr/bin/time -f "$what %e %M" "$opal" audit "$f" --out "$out/$what-$i" --quiet "${extra[@]}" 2>&1 | tail -1 | tee -a "$log"
  done
done
echo "files written with packs: $(find "$out/packs-0" -type f | wc -l), practices: $(($(wc -l < "$out/packs-0/practices/index.csv") - 1))"
python3 - "$log" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    what, wall, kb = line.split()
    runs[what].append((float(wall), int(kb)))
med = {w: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for w, v in runs.items()}
for w, (wall, kb) in med.items():
    print(f"{w:14} {wall:7.2f} s {kb / 1024:8.0f} MB  {wall / med['alone'][0]:.2f}x the audit alone")
print("target: packs at most 3x")
PY
