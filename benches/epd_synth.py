#!/usr/bin/env python3
"""A national-size EPD month for the benchmark (issue 18): the shared September 2017 month
(../shared/data/epd/epd_201709.csv, all BNF chapters, old layout) repeated over more practices
until it has ROWS rows. Each repetition gives its practices new codes (the code with the
repetition's number), so that the file has as many practices as a national month.

    python3 benches/epd_synth.py BASE_CSV ROWS OUT_CSV
"""
import sys

base, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(base, encoding="utf-8", newline="") as f:
    header = f.readline()
    lines = f.readlines()
cols = header.rstrip("\r\n").split(",")
at = cols.index("PRACTICE_CODE")


def split_at_practice(line):
    """The line as (text before the practice code, the code, text after it)."""
    # Fields before the practice code may be quoted and hold commas.
    field, start, quoted = 0, 0, False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            if field == at:
                return line[:start], line[start:i], line[i:]
            field, start = field + 1, i + 1
    raise ValueError("a line without a practice code")


parts = [split_at_practice(line) for line in lines]
written = 0
with open(out, "w", encoding="utf-8", newline="") as f:
    f.write(header)
    k = 0
    while written < rows:
        block = [f"{a}{code}{k:04d}{b}" for a, code, b in parts[: rows - written]]
        f.writelines(block)
        written += len(block)
        k += 1
print(f"{out}: {written} rows, {k} repetitions")
