//! Text in the XML outputs — SVG charts, HTML pages, the xlsx workbook — through one function
//! (issue 23.2). XML 1.0 allows neither the C0 controls other than tab, line feed and carriage
//! return, nor U+FFFE and U+FFFF; a standalone SVG holding one is not XML at all ("Invalid
//! character" in a browser), and Excel refuses such a workbook. The other non-characters
//! (U+FDD0–U+FDEF, the last two of every plane) and the C1 controls are discouraged in XML
//! and HTML alike. Each of them becomes U+FFFD (the replacement character), so that a reader
//! sees that something was there.

use std::borrow::Cow;

/// Whether XML (and HTML) may hold `c` as text.
fn allowed(c: char) -> bool {
    let u = u32::from(c);
    match u {
        0x09 | 0x0A | 0x0D => true,
        0x00..=0x1F | 0x7F..=0x9F => false,
        0xFDD0..=0xFDEF => false,
        _ => u & 0xFFFE != 0xFFFE,
    }
}

/// `text` with every character XML does not allow replaced by U+FFFD; borrowed when there is
/// none (almost always).
pub fn xml_chars(text: &str) -> Cow<'_, str> {
    // Every character refused is a control byte, or starts with 0xC2 (C1 controls), 0xEF
    // (U+FDD0–U+FDEF, U+FFFE, U+FFFF) or 0xF0–0xF4 (the planes' last two): a page with none
    // of those bytes, almost every one, is kept without decoding it.
    let suspect = |b: &u8| matches!(*b, 0x00..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F | 0xC2 | 0xEF | 0xF0..=0xF4);
    if !text.as_bytes().iter().any(suspect) || text.chars().all(allowed) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if allowed(c) { c } else { '\u{fffd}' })
            .collect(),
    )
}

/// `text` escaped for an XML attribute or element ([`xml_chars`], then `& < > " '`).
pub fn escape(text: &str) -> String {
    let text = xml_chars(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // A line break inside a chart's title or label would not show; a space does.
            '\t' | '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_refuses_are_replaced() {
        assert!(matches!(xml_chars("Y90001 Surgery"), Cow::Borrowed(_)));
        assert_eq!(xml_chars("a\u{fffe}b\u{ffff}c"), "a\u{fffd}b\u{fffd}c");
        assert_eq!(
            xml_chars("\u{0}\u{1}\u{1b}[31m\u{7f}\u{85}"),
            "\u{fffd}\u{fffd}\u{fffd}[31m\u{fffd}\u{fffd}"
        );
        assert_eq!(
            xml_chars("\u{fdd0}\u{fdef}\u{1fffe}\u{10ffff}"),
            "\u{fffd}".repeat(4)
        );
        // Allowed: tab, line feed, carriage return, the edges of the ranges, and the rest.
        for ok in [
            "\t\n\r",
            "\u{20}\u{7e}\u{a0}",
            "\u{fdcf}\u{fdf0}\u{fffd}",
            "\u{10000}\u{1fffd}",
            "Ÿ9000 ☃",
        ] {
            assert_eq!(xml_chars(ok), ok);
        }
        assert_eq!(
            escape("<a href=\"x\">&'\u{fffe}\n"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\u{fffd} "
        );
    }
}
