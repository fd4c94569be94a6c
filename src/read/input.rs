//! Reading text files as GP systems write them: UTF-8 with or without a BOM, or Windows-1252.

/// Decode bytes as UTF-8 (dropping a BOM), falling back to Windows-1252 when they are not
/// valid UTF-8 (a `£` from an old export, say).
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            text.into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bom_and_windows_1252() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFname\n"), "name\n");
        assert_eq!(decode_text(b"\xA35 co-pay"), "£5 co-pay");
    }
}
