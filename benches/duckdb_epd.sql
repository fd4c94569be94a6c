-- `opal epd`'s bare minimum as DuckDB SQL (issue 18): read EPD months ({epd} may be a glob), join a BNF code →
-- OME per unit table (opal epd's own bnf_ome.csv of the base month, made beforehand, not
-- timed) and sum each practice's OME per month. No checks, measures or outputs. {epd} and {bnf} are
-- filled in by benches/duckdb_floor.py --epd.
CREATE TEMP TABLE bnf AS
  SELECT DISTINCT bnf_code, TRY_CAST(ome_mg_per_unit AS DOUBLE) AS ome
  FROM read_csv('{bnf}', all_varchar = true, header = true)
  WHERE ome_mg_per_unit <> '';
COPY (
  SELECT e.YEAR_MONTH, e.PRACTICE_CODE,
    SUM(TRY_CAST(e.TOTAL_QUANTITY AS DOUBLE) * b.ome) AS ome_mg
  FROM read_csv('{epd}', all_varchar = true, header = true, delim = ',', quote = '"', strict_mode = false) AS e
  JOIN bnf AS b ON b.bnf_code = e.BNF_CODE
  GROUP BY e.YEAR_MONTH, e.PRACTICE_CODE
) TO '/dev/null' (FORMAT csv);
