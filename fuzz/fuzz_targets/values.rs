//! Quantity, date and day-count parsers never panic; what they accept is sane.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opal_core::values;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('|').unwrap_or((&text, ""));
    if let Ok(q) = values::parse_quantity(a, b) {
        assert!(q.amount.is_finite() && q.amount > 0.0, "{text:?}");
    }
    for f in values::KNOWN_FORMATS {
        if let Some(d) = values::parse_date_with(a, &values::DateFormat((*f).to_string())) {
            let (y, m, dd) = values::civil_from_days(d);
            assert_eq!(values::days_from_civil(y, m, dd), Some(d));
        }
    }
    let _ = values::detect_date_format(text.split('\n'));
    if let Ok(Some(d)) = values::parse_days(a) {
        assert!(d.is_finite() && d > 0.0);
    }
});
