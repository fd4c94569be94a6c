#!/usr/bin/env bash
# opal's benchmark harness: synthetic extracts of 1M and 10M rows (50M with --50m), `opal audit`
# end to end (wall time, rows per second, peak memory), and beside it the floor: polars merely
# reading the same file and grouping it by patient. Prints a Markdown table for BENCHMARKS.md.
#
#   benches/run.sh            # 1M and 10M rows
#   benches/run.sh --50m      # also 50M rows (about 6 GB of CSV on disk)
#   BENCH_DIR=/big/disk benches/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=(1000000 10000000)
[[ "${1:-}" == "--50m" ]] && sizes+=(50000000)
dir="${BENCH_DIR:-target/bench}"
mkdir -p "$dir"
cargo build --release --quiet
cargo build --release --quiet --example floor
opal=target/release/opal
floor=target/release/examples/floor
timev() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }

echo "| rows | file MB | audit s | rows/s | audit peak MB | floor s | floor peak MB | audit / floor |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for rows in "${sizes[@]}"; do
  f="$dir/synth-$rows.csv"
  if [[ ! -s "$f" ]]; then
    # ~7.65 rows per synthetic patient over 12 months.
    patients=$(( rows * 100 / 765 ))
    "$opal" synth --patients "$patients" --months 12 --seed 42 --out "$f" 2>/dev/null
  fi
  n=$(( $(wc -l < "$f") - 1 ))
  mb=$(( $(stat -c %s "$f") / 1000000 ))
  read -r fs fk < <(timev "$floor" "$f")
  rm -rf "$dir/out-$rows"
  read -r as ak < <(timev "$opal" audit "$f" --out "$dir/out-$rows" --quiet)
  rps=$(python3 -c "print(f'{$n/$as:,.0f}')")
  ratio=$(python3 -c "print(f'{$as/$fs:.2f}')")
  echo "| $n | $mb | $as | $rps | $(( ak / 1024 )) | $fs | $(( fk / 1024 )) | $ratio |"
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GB; commit $(git rev-parse --short HEAD); $(date -u +%Y-%m-%d)"
