//! opal's integration tests, one binary (linking opal, and so polars, once rather than seven
//! times): a module per area.
#![allow(clippy::unwrap_used)]

mod audit;
mod chunks;
mod dose;
mod epd;
mod epd_trend;
mod hostile;
mod inputs;
mod products;
mod properties;
mod robustness;
mod tidy;
mod trend;
mod worklist;

use std::collections::HashMap;
use std::path::Path;

/// Run the opal binary: (exit code, stdout, stderr).
pub fn opal(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opal"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A CSV output as rows of header → cell.
pub fn read(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            h.iter()
                .zip(rec.unwrap().iter())
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        })
        .collect()
}
