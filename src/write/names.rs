//! One file or folder name per code, on every system (issue 23.1): practice packs
//! (`practices/<name>/`) and charts (`charts/<level>-<name>-<measure>.svg`) are named from
//! codes that come from the extract, which may hold anything.
//!
//! A code made only of capital letters, digits and `-` (every ODS and ICB code), starting
//! with a letter or digit, at most 40 characters and not a name Windows reserves (`CON`,
//! `NUL`, `COM1`...), is its own name. Any other code is written as a stand-in — its letters
//! and digits in capitals, anything else `_`, at most 40 — then `~` and 12 hex digits of the
//! SHA-256 of the code. So:
//! - distinct codes never share a name: a kept name has no `~` and a stand-in always has one;
//!   two kept names differ as the codes do; two stand-ins differ in their hash (48 bits; the
//!   writers also check that no two names of a run are equal, ignoring case);
//! - the names are the same on a file system that ignores case: a kept name has no small
//!   letter, a stand-in's small letters are only its hash's;
//! - no name is a reserved device name, ends in a dot or a space, holds a control character
//!   or is longer than 53 bytes.
//!
//! The code itself is kept inside the files and in `practices/index.csv` and
//! `charts/index.csv`.

use std::collections::HashSet;

use anyhow::Result;
use sha2::{Digest, Sha256};

/// The longest code kept as its own name, and the longest stand-in before its hash.
const MAX_KEPT: usize = 40;

/// Windows' reserved device names (any case, with or without an extension).
fn reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

/// The file or folder name of a code.
pub fn path_name(code: &str) -> String {
    let kept = code.len() <= MAX_KEPT
        && code
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !reserved(code);
    if kept {
        return code.to_string();
    }
    let mut base: String = code
        .chars()
        .take(MAX_KEPT)
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if base.is_empty() {
        base.push('_');
    }
    let hash = Sha256::digest(code.as_bytes());
    let hex: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{base}~{hex}")
}

/// The names of a run's codes, checked distinct ignoring case (a hash collision, which 48
/// bits make all but impossible, stops the run rather than mix two practices' packs).
pub fn distinct_names<'a>(codes: impl Iterator<Item = &'a str>) -> Result<Vec<String>> {
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for code in codes {
        let name = path_name(code);
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(crate::error::hinted(
                format!("internal error: two codes have the file name {name}; nothing was written"),
                "\
                 please report it, with the codes of the practices file",
            ));
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every collision the issue found gives distinct names, ignoring case; ODS and ICB codes
    /// are kept as they are; names are portable.
    #[test]
    fn distinct_portable_names() {
        for code in ["Y90001", "A81001", "QHM", "E54000050", "U12345-1"] {
            assert_eq!(path_name(code), code);
        }
        let groups: &[&[&str]] = &[
            &["a/b", "a_b", "a.b", "a b", "A_B", "A-B"],
            &["..", "__", ".", "_", ""],
            &["Y90001.", "Y90001_", "Y90001", "Y90001 "],
            &["\u{178}9000", "\u{dd}9000", "Y9000"],
            &["Ab12", "aB12", "AB12", "ab12"],
            &["ALL", "all", "All"],
            &["CON", "con", "AUX", "NUL", "COM1", "LPT9", "PRN", "CON.txt"],
            &["-rf", "-RF", "RF"],
        ];
        for group in groups {
            let names = distinct_names(group.iter().copied()).unwrap();
            let lower: HashSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
            assert_eq!(lower.len(), group.len(), "{group:?} → {names:?}");
        }
        let long = "X".repeat(300);
        for code in [
            long.as_str(),
            "CON",
            "a\u{fffe}b",
            "tab\there",
            "Y90001.",
            "Y90001 ",
            "..",
            "",
            "-rf",
        ] {
            let n = path_name(code);
            assert!(n.len() <= MAX_KEPT + 13, "{n}");
            assert!(!reserved(&n), "{n}");
            assert!(!n.ends_with('.') && !n.ends_with(' '), "{n}");
            assert!(
                n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_~".contains(&b)),
                "{n}"
            );
            assert!(!n.starts_with('-') && !n.starts_with('.'), "{n}");
        }
        // A stand-in keeps what it can of the code, so that a person can tell whose it is.
        assert!(path_name("Ab12").starts_with("AB12~"));
        assert!(path_name("a/b").starts_with("A_B~"));
        assert_eq!(path_name("CON").len(), "CON~".len() + 12);
    }
}
