//! Product-name normalisation and parsing never panic; normalising is idempotent; a parsed
//! product has a positive finite strength.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opal_core::names;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let n = names::normalise(&text);
    assert_eq!(
        names::normalise(&n),
        n,
        "normalise is idempotent for {text:?}"
    );
    let _ = names::loose_key(&n);
    if let Ok(p) = names::parse(&n, &[], &names::NameHints::default()) {
        assert!(
            p.strength.is_finite() && p.strength > 0.0,
            "{text:?}: {}",
            p.strength
        );
    }
});
