//! The benchmark floor: the time polars takes merely to read an extract (every column as
//! text, as opal reads it) and group it by patient, on this machine, in the same run.
//!
//! ```text
//! cargo run --release --example floor -- EXTRACT.csv
//! ```
//! Prints `rows groups seconds`.

use std::time::Instant;

use polars::prelude::*;

fn main() -> PolarsResult<()> {
    let path = std::env::args().nth(1).expect("usage: floor EXTRACT.csv");
    let start = Instant::now();
    let df = LazyCsvReader::new(PlRefPath::from(path.as_str()))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()?
        .collect()?;
    let rows = df.height();
    let groups = df
        .lazy()
        .group_by([col("patient_id")])
        .agg([len().alias("items")])
        .collect()?;
    println!(
        "{rows} {} {:.3}",
        groups.height(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
