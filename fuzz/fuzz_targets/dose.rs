//! The dose parser never panics and never gives units_min > units_max.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opal_core::dose;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let p = dose::parse(&text);
    if let (Some(a), Some(b)) = (p.units_min, p.units_max) {
        assert!(
            a.is_finite() && b.is_finite() && a >= 0.0 && a <= b,
            "{text:?}: {a} {b}"
        );
    }
});
