//! The records of a chunk of CSV text, cut and split over its raw bytes by `csv-core`'s DFA
//! (the `csv` crate's own reader, without its per-record allocations): every field's text,
//! unquoted, one after another in one buffer, and where each field ends. A field is then a
//! slice of that buffer: nothing is allocated per row or per field, and no column becomes a
//! column of strings.
//!
//! The reading rules are those of the polars reader this replaced (issue 18), so that every
//! output stays byte for byte the same:
//! - a blank line is a record, every field empty (the checks count it as a blank line);
//! - a record with fewer fields than the header has the rest empty; one with more is an error;
//! - a quote inside a field that did not start with one (`capsules 1" strip`) is a character;
//! - a quote opened in a file's last record and never closed is an error;
//! - lines end with LF or CR LF (CR-only files are turned to LF before this).

use csv_core::{ReadRecordResult, ReaderBuilder, Terminator};

/// The fields of a chunk's records.
#[derive(Debug, Default)]
pub struct Records {
    /// Every field's text, unquoted, one after another.
    text: String,
    /// Per record, where each of its `width` fields ends in `text`; a field starts where the
    /// one before it ended. Fields missing from a short record are empty.
    ends: Vec<u32>,
    width: usize,
    /// Where each record starts in the chunk's bytes (CSV only), for its line number.
    starts: Vec<u32>,
}

/// Why a chunk's records cannot be read.
#[derive(Debug, PartialEq)]
pub enum SplitError {
    /// A record has more fields than the header: its byte offset in the chunk.
    Ragged { at: usize },
    /// The chunk's last record opens a quote that is never closed: its byte offset.
    Unclosed { at: usize },
    /// The fields' text is not UTF-8 (the caller reads the chunk as Windows-1252).
    NotUtf8,
    /// A chunk of 4 GiB or more.
    TooLarge,
}

impl Records {
    /// An empty set of records of `width` fields, to be filled with [`Records::push_field`]
    /// (a Parquet file's columns).
    pub fn with_width(width: usize) -> Self {
        Records {
            width,
            ..Records::default()
        }
    }

    /// Add a record's fields (given one field at a time, `width` of them, in order).
    pub fn push_field(&mut self, field: &str) -> Result<(), SplitError> {
        self.text.push_str(field);
        let end = u32::try_from(self.text.len()).map_err(|_| SplitError::TooLarge)?;
        self.ends.push(end);
        Ok(())
    }

    /// How many records.
    pub fn rows(&self) -> usize {
        self.ends.len().checked_div(self.width).unwrap_or(0)
    }

    /// Field `k` of record `row` (empty when the record is short).
    pub fn get(&self, row: usize, k: usize) -> &str {
        let at = row * self.width + k;
        let start = if at == 0 {
            0
        } else {
            self.ends[at - 1] as usize
        };
        &self.text[start..self.ends[at] as usize]
    }

    /// Where each record starts in the chunk's bytes (empty for Parquet).
    pub fn starts(&self) -> &[u32] {
        &self.starts
    }

    /// The fields' text, given back to be used for the next chunk.
    pub fn into_buffers(self) -> (Vec<u8>, Vec<u32>) {
        (self.text.into_bytes(), self.ends)
    }
}

/// Split `data` (whole records; the last may lack its line end) into records of `width`
/// fields. `buffers` are the text and ends of an earlier chunk, used again.
pub fn split(
    data: &[u8],
    separator: u8,
    width: usize,
    buffers: (Vec<u8>, Vec<u32>),
) -> Result<Records, SplitError> {
    if u32::try_from(data.len()).is_err() {
        return Err(SplitError::TooLarge);
    }
    let (mut out, mut ends) = buffers;
    // Unquoting only removes bytes, so the text is never longer than the chunk.
    out.clear();
    out.resize(data.len() + 1, 0);
    ends.clear();
    let mut starts = Vec::new();
    let mut reader = ReaderBuilder::new()
        .delimiter(separator)
        .terminator(Terminator::Any(b'\n'))
        .build();
    let width = width.max(1);
    // One more than the header, to tell a record with too many fields.
    let mut field_ends = vec![0usize; width + 1];
    let (mut pos, mut written) = (0usize, 0usize);
    while pos < data.len() {
        // csv-core skips blank lines; here each is a record of empty fields.
        let blank = match data[pos] {
            b'\n' => 1,
            b'\r' if data.get(pos + 1) == Some(&b'\n') => 2,
            _ => 0,
        };
        starts.push(pos as u32);
        if blank > 0 {
            ends.extend(std::iter::repeat_n(written as u32, width));
            pos += blank;
            continue;
        }
        let start = pos;
        let (result, nin, mut nout, mut nend) =
            reader.read_record(&data[pos..], &mut out[written..], &mut field_ends);
        pos += nin;
        let result = match result {
            // The record runs to the end of the chunk: an empty input ends it.
            ReadRecordResult::InputEmpty => {
                if opens_unclosed_quote(&data[start..], separator) {
                    return Err(SplitError::Unclosed { at: start });
                }
                let (result, _, o, e) =
                    reader.read_record(&[], &mut out[written + nout..], &mut field_ends[nend..]);
                nout += o;
                nend += e;
                result
            }
            r => r,
        };
        match result {
            ReadRecordResult::Record | ReadRecordResult::End => {}
            ReadRecordResult::OutputEndsFull => return Err(SplitError::Ragged { at: start }),
            ReadRecordResult::InputEmpty | ReadRecordResult::OutputFull => {
                return Err(SplitError::TooLarge)
            }
        }
        if nend > width {
            return Err(SplitError::Ragged { at: start });
        }
        ends.extend(field_ends[..nend].iter().map(|&e| (written + e) as u32));
        written += nout;
        ends.extend(std::iter::repeat_n(written as u32, width - nend));
    }
    out.truncate(written);
    let text = String::from_utf8(out).map_err(|_| SplitError::NotUtf8)?;
    Ok(Records {
        text,
        ends,
        width,
        starts,
    })
}

/// Whether a record (running to the end of the text) has a quoted field that never closes.
fn opens_unclosed_quote(record: &[u8], separator: u8) -> bool {
    let mut i = 0;
    let at_field_start = |i: usize| i == 0 || record[i - 1] == separator;
    while i < record.len() {
        if record[i] == b'"' && at_field_start(i) {
            // A quoted field: to its closing quote ("" is an escaped quote).
            i += 1;
            loop {
                match memchr::memchr(b'"', &record[i..]) {
                    None => return true,
                    Some(q) if record.get(i + q + 1) == Some(&b'"') => i += q + 2,
                    Some(q) => {
                        i += q + 1;
                        break;
                    }
                }
            }
        } else {
            // An unquoted field: to the next separator (a quote inside it is a character).
            match memchr::memchr(separator, &record[i..]) {
                Some(s) => i += s + 1,
                None => return false,
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &str, width: usize) -> Vec<Vec<String>> {
        let r = split(data.as_bytes(), b',', width, Default::default()).unwrap();
        (0..r.rows())
            .map(|row| (0..width).map(|k| r.get(row, k).to_string()).collect())
            .collect()
    }

    #[test]
    fn fields_are_unquoted_in_place() {
        assert_eq!(
            rows("a,\"b,c\",\"d \"\"e\"\"\"\nf,g,h\n", 3),
            [["a", "b,c", "d \"e\""], ["f", "g", "h"]]
        );
    }

    #[test]
    fn blank_lines_and_short_records_have_empty_fields() {
        assert_eq!(
            rows("a,b,c\n\n\r\nd\n", 3),
            [["a", "b", "c"], ["", "", ""], ["", "", ""], ["d", "", ""]]
        );
    }

    #[test]
    fn the_last_line_end_may_be_missing_and_cr_stays_in_the_field() {
        // CR is trimmed with the rest of a field's spaces by the reader of cells.
        assert_eq!(rows("a,b\r\nc,d", 2), [["a", "b\r"], ["c", "d"]]);
    }

    #[test]
    fn quoted_line_breaks_and_stray_quotes() {
        assert_eq!(
            rows("1,\"x\ny\"\n2,capsules 1\" strip\n", 2),
            [["1", "x\ny"], ["2", "capsules 1\" strip"]]
        );
    }

    #[test]
    fn too_many_fields_and_unclosed_quotes_are_errors() {
        let e = split(b"a,b\nc,d,e\n", b',', 2, Default::default()).unwrap_err();
        assert_eq!(e, SplitError::Ragged { at: 4 });
        let e = split(b"a,b\nc,\"d\n", b',', 2, Default::default()).unwrap_err();
        assert_eq!(e, SplitError::Unclosed { at: 4 });
        // A closed quote at the end is fine; a stray one is a character.
        assert_eq!(rows("a,\"b\"", 2), [["a", "b"]]);
        assert_eq!(rows("a,b\"", 2), [["a", "b\""]]);
    }

    #[test]
    fn text_that_is_not_utf8_is_said() {
        let e = split(b"a,\xa3\n", b',', 2, Default::default()).unwrap_err();
        assert_eq!(e, SplitError::NotUtf8);
    }

    #[test]
    fn buffers_are_used_again() {
        let first = split(b"a,b\nc,d\n", b',', 2, Default::default()).unwrap();
        let second = split(b"e,f\n", b',', 2, first.into_buffers()).unwrap();
        assert_eq!((second.rows(), second.get(0, 1)), (1, "f"));
    }
}
