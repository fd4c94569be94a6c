#!/usr/bin/env bash
# Two builds of opal side by side on one extract (issue 18's second session): DuckDB's bare
# query (benches/duckdb_floor.sql), then each build with --items all, review and none,
# alternating for RUNS rounds (default 3), so that both builds and the floor see the same
# machine. Prints each run, then the medians, their ratio to DuckDB and the CPU seconds.
#
#   git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release)
#   benches/compare.sh target/bench/synth-10000000.csv /tmp/before/target/release/opal target/release/opal
#
# The extract's products table for DuckDB (`FILE.products.csv`) is made by benches/run.sh, or
# here when it is missing; without the duckdb module the DuckDB column is left out.
set -euo pipefail
f=$1; shift
runs="${RUNS:-3}"
opal_for_products="$1"
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || true
has_duckdb=$(python3 -c 'import duckdb' 2>/dev/null && echo 1 || echo "")
if [[ -n "$has_duckdb" && ! -s "$f.products.csv" ]]; then
  python3 -c "import duckdb; [print(r[0]) for r in duckdb.sql(\"SELECT DISTINCT drug_name FROM read_csv('$f', all_varchar=true, header=true) WHERE drug_name IS NOT NULL\").fetchall()]" > "$f.names.txt"
  "$opal_for_products" products --input "$f.names.txt" > "$f.products.csv"
fi
out=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$out" "$log"' EXIT
for ((i = 0; i < runs; i++)); do
  if [[ -n "$has_duckdb" ]]; then
    /usr/bin/time -f "duckdb %e %M %U %S" python3 "$(dirname "$0")/duckdb_floor.py" "$f" "$f.products.csv" 2026-10-31 2>&1 | tail -1 | tee -a "$log"
  fi
  for b in "$@"; do
    for items in all review none; do
      rm -rf "$out/o"
      /usr/bin/time -f "$b--$items %e %M %U %S" "$b" audit "$f" --out "$out/o" --quiet --items "$items" 2>&1 | tail -1 | tee -a "$log"
    done
  done
done
python3 - "$log" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, wall, kb, user, system = line.split()
    runs[name].append((float(wall), int(kb), float(user) + float(system)))
duck = statistics.median(r[0] for r in runs["duckdb"]) if "duckdb" in runs else None
print()
print("| command | median s | peak MB | / DuckDB | CPU s | runs (s) |")
print("|---|---:|---:|---:|---:|---|")
for name, rs in runs.items():
    wall = statistics.median(r[0] for r in rs)
    ratio = f"{wall / duck:.2f}" if duck else ""
    print(f"| {name} | {wall:.2f} | {statistics.median(r[1] for r in rs) / 1024:.0f} | {ratio} | "
          f"{statistics.median(r[2] for r in rs):.1f} | {', '.join(str(r[0]) for r in rs)} |")
PY
