//! Parquet extracts: the whole file read as one frame of text columns (its SHA-256 from
//! its bytes), handed out a block of rows at a time as chunks like a CSV's.

use super::*;

pub(super) struct ParquetWhole {
    pub(super) frame: DataFrame,
    pub(super) headers: Vec<String>,
    pub(super) sha256: String,
}

/// A Parquet file, every column cast to text.
pub(super) fn parquet_frame(display: &str, sha256: String) -> Result<ParquetWhole> {
    let failed =
        |e: PolarsError| anyhow!("cannot read {display} as Parquet: {}", polars_message(&e));
    // polars' eager reader (no lazy engine: it is most of polars' build time, issue 18).
    let file = File::open(display).with_context(|| format!("cannot read {display}"))?;
    let frame = ParquetReader::new(file).finish().map_err(failed)?;
    let columns = frame
        .columns()
        .iter()
        .map(|c| c.cast(&DataType::String))
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(failed)?;
    let mut frame = DataFrame::new_infer_height(columns).map_err(failed)?;
    frame.rechunk_mut_par();
    let headers: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    Ok(ParquetWhole {
        frame,
        headers,
        sha256,
    })
}

/// Rows `from..from + len` of a Parquet file's frame (every column text) as a [`Chunk`].
pub(super) fn parquet_chunk(
    display: &str,
    frame: &DataFrame,
    from: usize,
    len: usize,
) -> Result<Chunk> {
    let columns: Vec<&StringChunked> = frame
        .columns()
        .iter()
        .map(|c| c.str())
        .collect::<PolarsResult<_>>()
        .map_err(|e| anyhow!("cannot read {display} as Parquet: {}", polars_message(&e)))?;
    let index = frame
        .get_column_names()
        .iter()
        .enumerate()
        .map(|(k, name)| (name.to_string(), k))
        .collect();
    let mut records = Records::with_width(columns.len());
    for row in from..from + len {
        for c in &columns {
            records.push_field(c.get(row).unwrap_or("")).map_err(|_| {
                crate::error::hinted(
                    format!(
                        "{display}: rows {} to {} hold 4 GiB of text or more",
                        from + 1,
                        from + len
                    ),
                    "check the \
                         file's text columns, or give the extract as CSV",
                )
            })?;
        }
    }
    Ok(Chunk {
        records,
        index: Arc::new(index),
        first_line: from as u64 + 1,
        line_of_row: None,
        recycle: None,
    })
}

/// The first line of a polars error: what went wrong, never its query plan.
pub(super) fn polars_message(e: &PolarsError) -> String {
    let text = e.to_string();
    crate::error::escape(text.lines().next().unwrap_or("").trim())
}
