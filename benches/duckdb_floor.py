#!/usr/bin/env python3
"""Run benches/duckdb_floor.sql on an extract (issue 18's second floor).

    python3 benches/duckdb_floor.py EXTRACT PRODUCTS_CSV AS_OF

PRODUCTS_CSV is `opal products` output for the extract's distinct drug names. Exits 3 when
the duckdb module is not installed (the harness then leaves the column out).
"""
import pathlib
import sys

try:
    import duckdb
except ImportError:
    sys.exit(3)

extract, products, as_of = sys.argv[1:4]
sql = (pathlib.Path(__file__).with_name("duckdb_floor.sql")).read_text()
sql = sql.replace("{extract}", extract).replace("{products}", products).replace("{as_of}", as_of)
con = duckdb.connect()
con.execute("SET threads TO 2")
for statement in sql.split(";"):
    code = [line for line in statement.splitlines() if line.strip() and not line.strip().startswith("--")]
    if code:
        con.execute(statement)
