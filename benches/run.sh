#!/usr/bin/env bash
# opal's benchmark harness (issue 6): synthetic extracts of 1M and 10M rows (50M with --50m),
# `opal audit` end to end (wall time, rows per second, peak memory), and beside it the floor:
# polars merely reading the same file and grouping it by patient (examples/floor.rs). Then
# `opal trend` (issue 15): 24 month ends over a 10M-row extract of 27 months, against the
# single `opal audit` of the same file. Issue 18 added DuckDB's bare scan-and-aggregate as a
# second floor and the audit with --items review and --items none.
#
# Each size is run RUNS times (default 3), the floor and the audit alternating so that both
# see the same machine; the table gives the medians. Prints Markdown for BENCHMARKS.md.
#
#   benches/run.sh            # 1M and 10M rows
#   benches/run.sh --50m      # also 50M rows (about 6 GB of CSV on disk)
#   RUNS=5 BENCH_DIR=/big/disk benches/run.sh
#   ONLY_TREND=1 benches/run.sh   # opal trend against opal audit only
#   NO_EPD=1 / NO_TREND=1         # without the EPD (issue 18) or trend comparisons
#   EPD_ROWS=5000000 benches/run.sh   # a smaller EPD month
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=(1000000 10000000)
[[ "${1:-}" == "--50m" ]] && sizes+=(50000000)
# ONLY_TREND=1: the trend's comparison alone.
[[ -n "${ONLY_TREND:-}" ]] && sizes=()
runs="${RUNS:-3}"
dir="${BENCH_DIR:-target/bench}"
mkdir -p "$dir"
cargo build --release --quiet
# The polars floor (a long first build) only when there are audits to put beside it.
if [[ -z "${ONLY_TREND:-}" ]]; then
  cargo build --release --quiet --example floor
fi
opal=target/release/opal
floor=target/release/examples/floor
# The second floor (issue 18): DuckDB's bare scan-and-aggregate (benches/duckdb_floor.sql).
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || true
has_duckdb=$(python3 -c 'import duckdb' 2>/dev/null && echo 1 || echo "")
# Wall seconds and peak resident KB of a command, its output discarded.
timev() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| rows | file MB | audit s | rows/s | audit peak MB | floor s | floor peak MB | audit / floor | duckdb s | duckdb peak MB | audit / duckdb | --items review s | review / duckdb | --items none s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
stages=""
for rows in ${sizes[@]+"${sizes[@]}"}; do
  f="$dir/synth-$rows.csv"
  if [[ ! -s "$f" ]]; then
    # ~7.65 rows per synthetic patient over 12 months.
    patients=$(( rows * 100 / 765 ))
    "$opal" synth --patients "$patients" --months 12 --seed 42 --out "$f" 2>/dev/null
  fi
  n=$(( $(wc -l < "$f") - 1 ))
  mb=$(( $(stat -c %s "$f") / 1000000 ))
  fs=(); fk=(); as=(); ak=(); ds=(); dk=(); rs=(); ns=()
  if [[ -n "$has_duckdb" && ! -s "$f.products.csv" ]]; then
    # The product table: every distinct drug name resolved by opal (not timed).
    python3 -c "import duckdb,sys; [print(r[0]) for r in duckdb.sql(\"SELECT DISTINCT drug_name FROM read_csv('$f', all_varchar=true, header=true) WHERE drug_name IS NOT NULL\").fetchall()]" > "$f.names.txt"
    "$opal" products --input "$f.names.txt" > "$f.products.csv"
  fi
  for ((i = 0; i < runs; i++)); do
    read -r s k < <(timev "$floor" "$f"); fs+=("$s"); fk+=("$k")
    if [[ -n "$has_duckdb" ]]; then
      read -r s k < <(timev python3 benches/duckdb_floor.py "$f" "$f.products.csv" 2026-10-31); ds+=("$s"); dk+=("$k")
    fi
    rm -rf "$dir/out-$rows"
    read -r s k < <(timev "$opal" audit "$f" --out "$dir/out-$rows" --quiet); as+=("$s"); ak+=("$k")
    # --items review (the review list's items only) and none (issue 18).
    rm -rf "$dir/out-$rows"
    read -r s k < <(timev "$opal" audit "$f" --out "$dir/out-$rows" --quiet --items review); rs+=("$s")
    rm -rf "$dir/out-$rows"
    read -r s k < <(timev "$opal" audit "$f" --out "$dir/out-$rows" --quiet --items none); ns+=("$s")
  done
  rsm=$(printf '%s\n' "${rs[@]}" | median); nsm=$(printf '%s\n' "${ns[@]}" | median)
  fsm=$(printf '%s\n' "${fs[@]}" | median); fkm=$(printf '%s\n' "${fk[@]}" | median)
  asm=$(printf '%s\n' "${as[@]}" | median); akm=$(printf '%s\n' "${ak[@]}" | median)
  rps=$(python3 -c "print(f'{$n/$asm:,.0f}')")
  ratio=$(python3 -c "print(f'{$asm/$fsm:.2f}')")
  duck="| | |"; review="$rsm | "
  if [[ -n "$has_duckdb" ]]; then
    dsm=$(printf '%s\n' "${ds[@]}" | median); dkm=$(printf '%s\n' "${dk[@]}" | median)
    duck="$dsm | $(( dkm / 1024 )) | $(python3 -c "print(f'{$asm/$dsm:.2f}')")"
    review="$rsm | $(python3 -c "print(f'{$rsm/$dsm:.2f}')")"
  fi
  echo "| $n | $mb | $asm | $rps | $(( akm / 1024 )) | $fsm | $(( fkm / 1024 )) | $ratio | $duck | $review | $nsm |"
  # Where the time goes, from one more run.
  rm -rf "$dir/out-$rows"
  stages+="$rows rows: $(OPAL_TIMINGS=1 "$opal" audit "$f" --out "$dir/out-$rows" --quiet 2>&1 >/dev/null \
    | sed -n 's/^timing: //p' | paste -sd ';' -)"$'\n'
  stages+="  runs (audit s): ${as[*]}; floor s: ${fs[*]}; duckdb s: ${ds[*]+${ds[*]}}; review s: ${rs[*]}; none s: ${ns[*]}"$'\n'
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GB; commit $(git rev-parse --short HEAD); $(date -u +%Y-%m-%d); median of $runs runs"
echo
printf '%s' "$stages"

# opal epd at national scale (issue 18): an EPD month of EPD_ROWS rows (default 17M, about a
# national month; benches/epd_synth.py repeats the shared September 2017 month over more
# practices) and a 12-month year (the month given 12 times), against DuckDB's bare query
# (benches/duckdb_epd.sql: read, join a BNF code -> OME table, sum per practice). NO_EPD=1
# skips it.
if [[ -z "${NO_EPD:-}" ]]; then
  epd_rows="${EPD_ROWS:-17000000}"
  base=tests/data/reference/epd/epd_201709.csv
  f="$dir/epd-$epd_rows.csv"
  [[ -s "$f" ]] || python3 benches/epd_synth.py "$base" "$epd_rows" "$f" >/dev/null
  if [[ -n "$has_duckdb" && ! -s "$dir/epd-bnf/bnf_ome.csv" ]]; then
    "$opal" epd "$base" --out "$dir/epd-bnf" --quiet --force
  fi
  n=$(( $(wc -l < "$f") - 1 ))
  mb=$(( $(stat -c %s "$f") / 1000000 ))
  es=(); ek=(); ds=(); dk=()
  for ((i = 0; i < runs; i++)); do
    if [[ -n "$has_duckdb" ]]; then
      read -r s k < <(timev python3 benches/duckdb_floor.py --epd "$f" "$dir/epd-bnf/bnf_ome.csv"); ds+=("$s"); dk+=("$k")
    fi
    rm -rf "$dir/out-epd"
    read -r s k < <(timev "$opal" epd "$f" --out "$dir/out-epd" --quiet); es+=("$s"); ek+=("$k")
  done
  esm=$(printf '%s\n' "${es[@]}" | median); ekm=$(printf '%s\n' "${ek[@]}" | median)
  duck="| |"
  if [[ -n "$has_duckdb" ]]; then
    dsm=$(printf '%s\n' "${ds[@]}" | median); dkm=$(printf '%s\n' "${dk[@]}" | median)
    duck="$dsm | $(( dkm / 1024 )) | $(python3 -c "print(f'{$esm/$dsm:.2f}')")"
  fi
  # A year: the same month as 12 files in one run (one run).
  rm -rf "$dir/out-epd"
  read -r ys yk < <(timev "$opal" epd "$f" "$f" "$f" "$f" "$f" "$f" "$f" "$f" "$f" "$f" "$f" "$f" --out "$dir/out-epd" --quiet)
  echo
  echo "| EPD rows | file MB | opal epd s | opal epd peak MB | duckdb s | duckdb peak MB | epd / duckdb | 12 files s | 12 files peak MB |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "| $n | $mb | $esm | $(( ekm / 1024 )) | $duck | $ys | $(( yk / 1024 )) |"
  echo
  echo "epd runs (s): ${es[*]}; duckdb s: ${ds[*]+${ds[*]}}"
fi

# opal trend: 24 month ends against one audit of the same 10M-row file (27 months of issues,
# so that 24 month ends follow the first look-back). Set NO_TREND=1 to skip.
if [[ -z "${NO_TREND:-}" ]]; then
  f="$dir/synth-trend-10000000.csv"
  if [[ ! -s "$f" ]]; then
    "$opal" synth --patients 701000 --months 27 --seed 42 --out "$f" 2>/dev/null
  fi
  n=$(( $(wc -l < "$f") - 1 ))
  as=(); ak=(); ts=(); tk=()
  for ((i = 0; i < runs; i++)); do
    rm -rf "$dir/out-trend-audit" "$dir/out-trend"
    read -r s k < <(timev "$opal" audit "$f" --out "$dir/out-trend-audit" --quiet); as+=("$s"); ak+=("$k")
    read -r s k < <(timev "$opal" trend "$f" --out "$dir/out-trend" --quiet); ts+=("$s"); tk+=("$k")
  done
  asm=$(printf '%s\n' "${as[@]}" | median); akm=$(printf '%s\n' "${ak[@]}" | median)
  tsm=$(printf '%s\n' "${ts[@]}" | median); tkm=$(printf '%s\n' "${tk[@]}" | median)
  months=$(sed -n 's/.*"month_ends": \([0-9]*\).*/\1/p' "$dir/out-trend/manifest.json")
  echo
  echo "| rows | month ends | audit s | audit peak MB | trend s | trend peak MB | trend / audit time | trend / audit memory |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "| $n | $months | $asm | $(( akm / 1024 )) | $tsm | $(( tkm / 1024 )) | $(python3 -c "print(f'{$tsm/$asm:.2f}')") | $(python3 -c "print(f'{$tkm/$akm:.2f}')") |"
  echo
  echo "trend runs (s): ${ts[*]}; audit runs (s): ${as[*]}"
  rm -rf "$dir/out-trend"
  echo "trend stages: $(OPAL_TIMINGS=1 "$opal" trend "$f" --out "$dir/out-trend" --quiet 2>&1 >/dev/null \
    | sed -n 's/^timing: //p' | paste -sd ';' -)"
fi
