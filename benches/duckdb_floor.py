#!/usr/bin/env python3
"""Run benches/duckdb_floor.sql on an extract (issue 18's second floor), or with --epd
benches/duckdb_epd.sql on an EPD month.

    python3 benches/duckdb_floor.py EXTRACT PRODUCTS_CSV AS_OF
    python3 benches/duckdb_floor.py --epd EPD_CSV BNF_OME_CSV

PRODUCTS_CSV is `opal products` output for the extract's distinct drug names; BNF_OME_CSV is
`opal epd`'s bnf_ome.csv. Exits 3 when the duckdb module is not installed (the harness then
leaves the column out).
"""
import pathlib
import sys

try:
    import duckdb
except ImportError:
    sys.exit(3)

here = pathlib.Path(__file__)
if sys.argv[1] == "--epd":
    epd, bnf = sys.argv[2:4]
    sql = here.with_name("duckdb_epd.sql").read_text()
    sql = sql.replace("{epd}", epd).replace("{bnf}", bnf)
else:
    extract, products, as_of = sys.argv[1:4]
    sql = here.with_name("duckdb_floor.sql").read_text()
    sql = sql.replace("{extract}", extract).replace("{products}", products).replace("{as_of}", as_of)
con = duckdb.connect()
con.execute("SET threads TO 2")
for statement in sql.split(";"):
    code = [line for line in statement.splitlines() if line.strip() and not line.strip().startswith("--")]
    if code:
        con.execute(statement)
