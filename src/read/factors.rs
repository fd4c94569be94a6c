//! Factor sets as the command line names them: a built-in set, or a user's CSV file, with the
//! SHA-256 of its bytes for the manifest. The rows and their validation are the clinical
//! core's ([`opal_core::factors`], re-exported here).

use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

pub use opal_core::factors::*;

/// A built-in set by name, or a CSV file by path (anything containing a path separator or
/// ending in `.csv`, or an existing file, is taken as a file); its `sha256` is that of the
/// bytes read.
pub fn load(name_or_path: &str) -> Result<FactorSet> {
    if let Some((name, text, _)) = BUILTIN_SETS.iter().find(|(n, _, _)| *n == name_or_path) {
        let mut set = FactorSet::parse(name, text.as_bytes()).map_err(|e| {
            crate::error::problem(e.context(format!("built-in factor set {name} is invalid")))
        })?;
        set.sha256 = hex_sha256(text.as_bytes());
        return Ok(set);
    }
    let looks_like_file = name_or_path.contains('/')
        || name_or_path.contains('\\')
        || name_or_path.to_ascii_lowercase().ends_with(".csv")
        || Path::new(name_or_path).exists();
    if !looks_like_file {
        let names: Vec<&str> = BUILTIN_SETS.iter().map(|(n, _, _)| *n).collect();
        return Err(crate::error::hinted(
            format!(
                "unknown factor set '{}'",
                crate::error::escape(name_or_path)
            ),
            format!(
                "use one of {} or the path of a CSV file with columns \
             ingredient,route,factor[,confidence,source]",
                names.join(", ")
            ),
        ));
    }
    let bytes = std::fs::read(name_or_path)
        .with_context(|| format!("cannot read factor table {name_or_path}"))?;
    let mut set = FactorSet::parse(name_or_path, &bytes).map_err(|e| {
        crate::error::problem(e.context(format!("invalid factor table {name_or_path}")))
    })?;
    set.sha256 = hex_sha256(&bytes);
    Ok(set)
}

/// Lower-case hex SHA-256 of some bytes.
pub fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_carry_the_checksum_of_their_bytes() {
        for (name, text, _) in BUILTIN_SETS {
            let set = load(name).unwrap();
            assert_eq!(set.sha256, hex_sha256(text.as_bytes()), "{name}");
            assert_eq!(set.sha256.len(), 64);
        }
    }

    #[test]
    fn unknown_names_get_a_hint() {
        let e = crate::error::render(&load("nice").unwrap_err()).0;
        assert!(
            e.contains("unknown factor set 'nice'") && e.contains("uk-fpm"),
            "{e}"
        );
    }
}
