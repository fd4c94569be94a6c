//! `OPAL_TIMINGS=1` prints, on stderr, the seconds since the start of the run at the end of
//! each stage, for the benchmark harness and profiling (BENCHMARKS.md). Nothing else is printed
//! and nothing about the data.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("OPAL_TIMINGS").map(|_| Instant::now()))
}

/// Start the clock (the first call does); later calls print the stage that just ended.
pub fn lap(stage: &str) {
    if let Some(t) = start() {
        eprintln!("timing: {stage} {:.3}s", t.elapsed().as_secs_f64());
    }
}
