#!/usr/bin/env bash
# `opal epd` over many months (issue 28.7): MONTHS synthetic national months built by
# benches/epd_months.py from the shared September 2017 month (REPS repetitions of its 4
# practices; 1,700 is about England's 6,800 practices), then opal epd on them — the tables
# alone, and with --report — and DuckDB's bare read-join-sum of the same files
# (benches/duckdb_epd.sql), each with its time and peak memory.
#
#   benches/epd_months.sh MONTHS REPS [--opioids] [--gzip]
#
# Files go to target/bench/epd-MONTHS-REPS[-opioids]/ and are reused when present.
set -euo pipefail
months=$1; reps=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
opal="$root/target/release/opal"
tag="epd-$months-$reps"
for f in "$@"; do tag="$tag-${f#--}"; done
dir="$root/target/bench/$tag"
shared="$root/tests/data/reference/epd"
if [[ ! -e "$dir/done" ]]; then
  mkdir -p "$dir"
  python3 "$here/epd_months.py" "$shared/epd_201709.csv" \
    "$shared/gp-reg-pat-prac-quin-age_2017_09.csv" "$reps" "$months" "$dir" "$@"
  touch "$dir/done"
fi
files=("$dir"/epd_*.csv*)
lists=()
for l in "$dir"/list_sizes_*.csv; do lists+=(--list-sizes "$l"); done
echo "$tag: ${#files[@]} files, $(du -shc "${files[@]}" | tail -1 | cut -f1)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f "opal-tables %e s %M KB" "$opal" epd "${files[@]}" "${lists[@]}" \
  --out "$out/t" --quiet
/usr/bin/time -f "opal-report %e s %M KB" "$opal" epd "${files[@]}" "${lists[@]}" \
  --out "$out/r" --report --quiet
du -sh "$out/r/report" | sed 's/^/report size /'
if python3 -c 'import duckdb' 2>/dev/null; then
  glob="$dir/epd_*.csv"
  [[ " $* " == *" --gzip "* ]] && glob="$glob.gz"
  /usr/bin/time -f "duckdb %e s %M KB" python3 "$here/duckdb_floor.py" --epd "$glob" \
    "$out/t/bnf_ome.csv"
fi
