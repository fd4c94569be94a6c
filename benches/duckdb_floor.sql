-- The bare minimum of `opal audit` as DuckDB SQL (issue 18), the second floor of
-- benches/run.sh: read the extract, join a product table (each distinct drug name resolved by
-- `opal products` beforehand, not timed), and sum each patient's OME issued in the 28 days to
-- the audit date. No carry-forward, episodes, flags, summaries or outputs: what any reader of
-- this file must do at least. {extract}, {products} and {as_of} are filled in by
-- benches/duckdb_floor.py.
CREATE TEMP TABLE products AS
  SELECT input AS drug_name, TRY_CAST(ome_mg_per_unit AS DOUBLE) AS ome
  FROM read_csv('{products}', all_varchar = true, header = true);
COPY (
  SELECT e.patient_id, SUM(TRY_CAST(e.quantity AS DOUBLE) * p.ome) AS ome_mg
  FROM read_csv('{extract}', all_varchar = true, header = true) AS e
  JOIN products AS p USING (drug_name)
  WHERE TRY_CAST(e.issue_date AS DATE) BETWEEN DATE '{as_of}' - INTERVAL 27 DAY AND DATE '{as_of}'
  GROUP BY e.patient_id
) TO '/dev/null' (FORMAT csv);
