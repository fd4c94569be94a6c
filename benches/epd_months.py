#!/usr/bin/env python3
"""Many months of a synthetic national EPD (issue 28), built from the shared September 2017
month (../shared/data/epd/epd_201709.csv: 4 practices, all BNF chapters, the older layout).

Each of REPS repetitions copies the 4 practices under new codes (code + 4 digits) into one of
42 ICSs (PCO_CODE Q00..Q41), and each month is written as its own file with its YEAR_MONTH.
Practices change over time as real ones do:
  - every 9th repetition opens in the fourth month (no rows before);
  - every 11th closes after month MONTHS-3 (no rows after);
  - every 13th is closed for one month (month 6: a gap);
  - every 17th merges into the repetition before it from month 8 (its rows under the other
    code from then on).
Quantities vary month to month (±10%, seeded), and every 5th repetition reduces its
high-dose long-acting opioid items (BNF 0407020) by 3% a month after the first year.
With --opioids only BNF 0407 rows are kept (the subset analysts usually hold). Also writes
a list-size file each quarter (NHS layout, EXTRACT_DATE), scaling the shared list sizes.

    python3 benches/epd_months.py BASE_CSV LIST_CSV REPS MONTHS OUT_DIR [--opioids] [--gzip]
"""
import gzip
import os
import random
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
flags = {a for a in sys.argv[1:] if a.startswith("--")}
base, list_csv, reps, months, out = args[0], args[1], int(args[2]), int(args[3]), args[4]
opioids, gz = "--opioids" in flags, "--gzip" in flags
os.makedirs(out, exist_ok=True)

with open(base, encoding="utf-8", newline="") as f:
    header = f.readline()
    lines = f.readlines()
cols = header.rstrip("\r\n").split(",")


def fields(line):
    """Split a CSV line whose fields may be quoted with commas inside."""
    out, cur, quoted = [], [], False
    for ch in line.rstrip("\r\n"):
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


rows = [fields(line) for line in lines]
at = {c: cols.index(c) for c in ["YEAR_MONTH", "PCO_CODE", "PCO_NAME", "PRACTICE_CODE",
                                 "PRACTICE_NAME", "BNF_CODE", "ITEMS", "QUANTITY",
                                 "TOTAL_QUANTITY"]}
if opioids:
    rows = [r for r in rows if r[at["BNF_CODE"]].startswith("0407")]

sizes = {}
with open(list_csv, encoding="utf-8") as f:
    h = f.readline().strip().split(",")
    for line in f:
        r = line.strip().split(",")
        if r[h.index("SEX")] == "ALL" and r[h.index("AGE_GROUP_5")] == "ALL":
            sizes[r[h.index("ORG_CODE")]] = int(r[h.index("NUMBER_OF_PATIENTS")])


def month_label(k):
    y, m = divmod(2019 * 12 + k, 12)
    return y, m + 1


def present(rep, k):
    if rep % 9 == 4 and k < 3:
        return False
    if rep % 11 == 6 and k > months - 3:
        return False
    if rep % 13 == 7 and k == 5:
        return False
    return True


def code_of(rep, k, code):
    if rep % 17 == 9 and k >= 7:
        rep -= 1
    return f"{code}{rep:04d}"


total = 0
for k in range(months):
    y, m = month_label(k)
    rnd = random.Random(k)
    name = os.path.join(out, f"epd_{y}{m:02d}.csv" + (".gz" if gz else ""))
    opener = gzip.open if gz else open
    with opener(name, "wt", encoding="utf-8", newline="") as f:
        f.write(header)
        for rep in range(reps):
            if not present(rep, k):
                continue
            ics = f"Q{rep % 42:02d}"
            for r in rows:
                r = list(r)
                r[at["YEAR_MONTH"]] = f"{y}_{m:02d}"
                r[at["PCO_CODE"]] = ics
                r[at["PCO_NAME"]] = f"ICS {ics}"
                r[at["PRACTICE_CODE"]] = code_of(rep, k, r[at["PRACTICE_CODE"]])
                scale = rnd.uniform(0.9, 1.1)
                if rep % 5 == 0 and k >= 12 and r[at["BNF_CODE"]].startswith("0407020"):
                    scale *= 0.97 ** (k - 11)
                try:
                    items = max(0, round(float(r[at["ITEMS"]]) * scale))
                    qty = float(r[at["QUANTITY"]])
                except ValueError:
                    continue
                r[at["ITEMS"]] = str(items)
                r[at["TOTAL_QUANTITY"]] = f"{qty * items:.1f}"
                f.write(",".join(r) + "\n")
                total += 1
    if k % 3 == 0:
        with open(os.path.join(out, f"list_sizes_{y}{m:02d}.csv"), "w") as f:
            f.write("PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,"
                    "AGE_GROUP_5,NUMBER_OF_PATIENTS\n")
            mon = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                   "NOV", "DEC"][m - 1]
            listed = {}
            for rep in range(reps):
                for code, n in sizes.items():
                    grow = 1 + 0.002 * k
                    size = round(n * grow * (0.8 + 0.4 * ((rep * 7919) % 100) / 100))
                    # A merged practice's patients are on its successor's list.
                    key = code_of(rep, k, code)
                    listed[key] = listed.get(key, 0) + size
            for key, size in listed.items():
                f.write(f"GP_PRAC_PAT_LIST,01{mon}{y},GP,{key},,X,ALL,ALL,{size}\n")
print(f"{out}: {months} months, {reps * 4} practices, {total} rows")
