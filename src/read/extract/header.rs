//! Finding an extract's header: lines of a report's preamble skipped, the separator sniffed,
//! a binary file (a spreadsheet, a zip) refused, the header row read.

use super::*;

/// Where an extract's header is.
pub(super) struct HeaderFound {
    pub(super) separator: u8,
    pub(super) headers: Vec<String>,
    pub(super) columns: BTreeMap<String, String>,
    /// Byte offset just past the header line in the first chunk.
    pub(super) end: usize,
    pub(super) preamble_lines: u64,
}

/// Lines searched for the header.
pub(super) const PREAMBLE_LINES: usize = 20;

/// The header: the first line, within the first 20, whose fields map the required columns;
/// when none does, the first line, and the mapping's error about it.
pub(super) fn find_header(display: &str, first: &[u8], map: MapColumns) -> Result<HeaderFound> {
    let mut start = 0;
    for skipped in 0..PREAMBLE_LINES {
        if start >= first.len() {
            break;
        }
        let text = &first[start..];
        let line = &text[..memchr::memchr(b'\n', text).unwrap_or(text.len())];
        let blank = line.iter().all(|b| b.is_ascii_whitespace());
        let separator = sniff_separator(text);
        // The csv reader would skip a blank line and read the next as this one's.
        if let (false, Ok(headers)) = (blank, header_row(text, separator)) {
            if let Ok(columns) = map(display, &headers) {
                return Ok(HeaderFound {
                    separator,
                    headers,
                    columns,
                    end: start + header_end_hint(text),
                    preamble_lines: skipped as u64,
                });
            }
        }
        match memchr::memchr(b'\n', text) {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    let separator = sniff_separator(first);
    let headers = header_row(first, separator)
        .with_context(|| format!("{display}: cannot read the header row"))?;
    let columns = map(display, &headers)?;
    Ok(HeaderFound {
        separator,
        headers,
        columns,
        end: header_end_hint(first),
        preamble_lines: 0,
    })
}

/// Where the header record ends at the latest: the first newline outside quotes.
pub(super) fn header_end_hint(text: &[u8]) -> usize {
    let mut in_quote = false;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'"' => in_quote = !in_quote,
            b'\n' if !in_quote => return i + 1,
            _ => {}
        }
    }
    text.len()
}

/// A binary file (a spreadsheet, a zip, a UTF-16 export): NUL in the header line, or NULs
/// making up more than 1% of the first 8 KB. A stray NUL in a field of a text file is not
/// that: its row is rejected (`audit::corrupt_text`).
pub(super) fn looks_binary(data: &[u8]) -> bool {
    let head = &data[..data.len().min(8192)];
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let nuls = head.iter().filter(|&&b| b == 0).count();
    first_line.contains(&0) || nuls * 100 > head.len()
}

/// Tab when the first line has more tabs than commas, else comma.
pub(super) fn sniff_separator(data: &[u8]) -> u8 {
    let first = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let tabs = first.iter().filter(|&&b| b == b'\t').count();
    let commas = first.iter().filter(|&&b| b == b',').count();
    if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

pub(super) fn header_row(data: &[u8], separator: u8) -> Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(data);
    let mut record = csv::StringRecord::new();
    if !reader.read_record(&mut record)? {
        bail!("no header row");
    }
    Ok(record.iter().map(|h| h.trim().to_string()).collect())
}
