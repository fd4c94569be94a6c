//! The records of a chunk of CSV text, cut and split over its raw bytes: nothing is allocated
//! per row or per field, and no column becomes a column of strings. The chunk's text is copied
//! once into one buffer and each field is a span of it.
//!
//! Lines without a quote (most lines of most extracts) are split where `memchr` finds the
//! separators and line ends, many lines at a time. A line with a quote is read by `csv-core`'s
//! DFA (the `csv` crate's own reader), which unquotes its fields into the buffer; a property
//! test holds the two to the same reading.
//!
//! The reading rules are those of the polars reader this replaced (issue 18), so that every
//! output stays byte for byte the same:
//! - a blank line is a record, every field empty or spaces (the checks count it as blank);
//! - a record with fewer fields than the header has the rest empty; one with more is an error;
//! - a quote inside a field that did not start with one (`capsules 1" strip`) is a character;
//! - a quote opened in a file's last record and never closed is an error, and so is text after
//!   a quoted field's closing quote (`"2 bd"x`);
//! - lines end with LF or CR LF (the CR stays at the end of the last field, and is trimmed
//!   with the rest of a field's spaces; CR-only files are turned to LF before this).

use csv_core::{ReadRecordResult, ReaderBuilder, Terminator};

/// The fields of a chunk's records.
#[derive(Debug, Default)]
pub struct Records {
    /// The fields' text: lines without quotes as they are, unquoted fields as csv-core wrote
    /// them.
    text: String,
    /// Per record, where each of its `width` fields starts and ends in `text`. Fields missing
    /// from a short record are empty.
    spans: Vec<(u32, u32)>,
    width: usize,
    /// Where each record starts in the chunk's bytes (CSV only), for its line number.
    starts: Vec<u32>,
}

/// The buffers of an earlier chunk's [`Records`], to be used again.
pub type Buffers = (Vec<u8>, Vec<(u32, u32)>);

/// Why a chunk's records cannot be read.
#[derive(Debug, PartialEq)]
pub enum SplitError {
    /// A record has more fields than the header: its byte offset in the chunk.
    Ragged { at: usize },
    /// A record opens a quote that is never closed (or closes on a later line with text
    /// after it): the quote's byte offset.
    Unclosed { at: usize },
    /// A record has a quoted field with more text after its closing quote: its byte offset.
    TextAfterQuote { at: usize },
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
        let start = self.text.len();
        self.text.push_str(field);
        let end = u32::try_from(self.text.len()).map_err(|_| SplitError::TooLarge)?;
        self.spans.push((start as u32, end));
        Ok(())
    }

    /// How many records.
    pub fn rows(&self) -> usize {
        self.spans.len().checked_div(self.width).unwrap_or(0)
    }

    /// Field `k` of record `row` (empty when the record is short).
    pub fn get(&self, row: usize, k: usize) -> &str {
        let (start, end) = self.spans[row * self.width + k];
        &self.text[start as usize..end as usize]
    }

    /// Where each record starts in the chunk's bytes (empty for Parquet).
    pub fn starts(&self) -> &[u32] {
        &self.starts
    }

    /// The buffers, given back to be used for the next chunk.
    pub fn into_buffers(self) -> Buffers {
        (self.text.into_bytes(), self.spans)
    }
}

/// Split `data` (whole records; the last may lack its line end) into records of `width`
/// fields. `buffers` are those of an earlier chunk, used again.
pub fn split(
    data: &[u8],
    separator: u8,
    width: usize,
    buffers: Buffers,
) -> Result<Records, SplitError> {
    if u32::try_from(data.len()).is_err() {
        return Err(SplitError::TooLarge);
    }
    let (mut out, mut spans) = buffers;
    // Unquoting only removes bytes, so the text is never longer than the chunk.
    out.clear();
    out.resize(data.len(), 0);
    spans.clear();
    let mut starts = Vec::new();
    let mut reader = ReaderBuilder::new()
        .delimiter(separator)
        .terminator(Terminator::Any(b'\n'))
        .build();
    let width = width.max(1);
    // One more than the header, to tell a record with too many fields.
    let mut field_ends = vec![0usize; width + 1];
    let (mut pos, mut written) = (0usize, 0usize);
    // The first quote at or after `pos` (or the end).
    let mut next_quote = 0;
    while pos < data.len() {
        if next_quote < pos {
            next_quote = memchr::memchr(b'"', &data[pos..]).map_or(data.len(), |i| pos + i);
        }
        // The whole lines before the line with the next quote.
        let plain_end = if next_quote == data.len() {
            data.len()
        } else {
            memchr::memrchr(b'\n', &data[pos..next_quote]).map_or(pos, |i| pos + i + 1)
        };
        if plain_end > pos {
            let region = &data[pos..plain_end];
            out[written..written + region.len()].copy_from_slice(region);
            let at = |i: usize| (written + i) as u32;
            let (mut field_start, mut record_start, mut fields) = (0, 0, 0);
            let mut end_record = |spans: &mut Vec<(u32, u32)>, record: (usize, usize), fields| {
                let (record_start, end) = record;
                starts.push((pos + record_start) as u32);
                spans.extend(std::iter::repeat_n((at(end), at(end)), width - fields));
            };
            for i in memchr::memchr2_iter(separator, b'\n', region) {
                if fields == width {
                    return Err(SplitError::Ragged {
                        at: pos + record_start,
                    });
                }
                spans.push((at(field_start), at(i)));
                fields += 1;
                field_start = i + 1;
                if region[i] == b'\n' {
                    end_record(&mut spans, (record_start, i), fields);
                    (fields, record_start) = (0, i + 1);
                }
            }
            // The last line of the chunk, without its line end.
            if record_start < region.len() {
                if fields == width {
                    return Err(SplitError::Ragged {
                        at: pos + record_start,
                    });
                }
                spans.push((at(field_start), at(region.len())));
                end_record(&mut spans, (record_start, region.len()), fields + 1);
            }
            written += region.len();
            pos = plain_end;
            continue;
        }
        // A line with a quote: csv-core reads its record, which may run over several lines.
        let start = pos;
        starts.push(start as u32);
        let (result, nin, mut nout, mut nend) =
            reader.read_record(&data[pos..], &mut out[written..], &mut field_ends);
        pos += nin;
        let result = match result {
            // The record runs to the end of the chunk: an empty input ends it.
            ReadRecordResult::InputEmpty => {
                match quote_problem(&data[start..], separator) {
                    Some(QuoteProblem::Unclosed(open)) => {
                        return Err(SplitError::Unclosed { at: start + open })
                    }
                    Some(QuoteProblem::TextAfter) => {
                        return Err(SplitError::TextAfterQuote { at: start })
                    }
                    None => {}
                }
                let (result, _, o, e) =
                    reader.read_record(&[], &mut out[written + nout..], &mut field_ends[nend..]);
                nout += o;
                nend += e;
                result
            }
            r => {
                match quote_problem(&data[start..pos], separator) {
                    Some(QuoteProblem::Unclosed(open)) => {
                        return Err(SplitError::Unclosed { at: start + open })
                    }
                    Some(QuoteProblem::TextAfter) => {
                        return Err(SplitError::TextAfterQuote { at: start })
                    }
                    None => {}
                }
                r
            }
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
        // csv-core writes the fields one after another, without their quotes, separators
        // and line end, so bytes that are not UTF-8 on either side of a separator could
        // meet as one character (`"\xc2",\x80`) and a field end would fall inside it. The
        // record's own bytes are checked instead: not UTF-8, the chunk is read as
        // Windows-1252, as a chunk whose text is not UTF-8 always is.
        if std::str::from_utf8(&data[start..pos]).is_err() {
            return Err(SplitError::NotUtf8);
        }
        let mut from = written;
        for &end in &field_ends[..nend] {
            spans.push((from as u32, (written + end) as u32));
            from = written + end;
        }
        written += nout;
        spans.extend(std::iter::repeat_n(
            (written as u32, written as u32),
            width - nend,
        ));
    }
    out.truncate(written);
    let text = String::from_utf8(out).map_err(|_| SplitError::NotUtf8)?;
    Ok(Records {
        text,
        spans,
        width,
        starts,
    })
}

/// What is wrong with the quotes of a record's raw bytes (to its line end, or to the end of
/// the text), if anything.
#[derive(Debug, PartialEq)]
enum QuoteProblem {
    /// A quoted field never closes: where its quote is in the record.
    Unclosed(usize),
    /// A quoted field's closing quote is followed by more text (`"2 bd"x`): csv-core would
    /// join the two, a guess opal does not make.
    TextAfter,
}

fn quote_problem(record: &[u8], separator: u8) -> Option<QuoteProblem> {
    let mut i = 0;
    while i < record.len() {
        if record[i] == b'"' {
            // A quoted field: to its closing quote ("" is an escaped quote).
            let open = i;
            i += 1;
            loop {
                match memchr::memchr(b'"', &record[i..]) {
                    None => return Some(QuoteProblem::Unclosed(open)),
                    Some(q) if record.get(i + q + 1) == Some(&b'"') => i += q + 2,
                    Some(q) => {
                        i += q + 1;
                        break;
                    }
                }
            }
            match &record[i..] {
                [] | [b'\n', ..] | [b'\r'] | [b'\r', b'\n', ..] => return None,
                [b, ..] if *b == separator => i += 1,
                // Text after a "closing" quote on a later line: more likely a quote left open
                // that the next field's quote seemed to close.
                _ if memchr::memchr(b'\n', &record[open..i]).is_some() => {
                    return Some(QuoteProblem::Unclosed(open))
                }
                _ => return Some(QuoteProblem::TextAfter),
            }
        } else {
            // An unquoted field: to the next separator (a quote inside it is a character), or
            // the line end.
            match memchr::memchr2(separator, b'\n', &record[i..]) {
                Some(s) if record[i + s] == separator => i += s + 1,
                _ => return None,
            }
        }
    }
    None
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
            // The CR of a CR LF blank line is trimmed with a field's spaces, as any CR is.
            [["a", "b", "c"], ["", "", ""], ["\r", "", ""], ["d", "", ""]]
        );
    }

    #[test]
    fn the_last_line_end_may_be_missing_and_cr_stays_in_the_field() {
        // CR is trimmed with the rest of a field's spaces by the reader of cells.
        assert_eq!(rows("a,b\r\nc,d", 2), [["a", "b\r"], ["c", "d"]]);
    }

    /// Found by the property test: a quoted line whose bytes are not UTF-8, but whose
    /// unquoted fields, written one after another, would read as UTF-8 (0xC2 then 0x80 is
    /// U+0080) with a field's end inside that character. It is refused as not UTF-8 (the
    /// reader then reads the chunk as Windows-1252), not split into fields that cannot be
    /// sliced; the same bytes without the quote were already refused.
    #[test]
    fn bytes_that_only_join_into_utf8_once_unquoted_are_not_utf8() {
        let data = b"a,\"\xc2\",\x80\"";
        assert_eq!(
            split(data, b',', 3, Default::default()).unwrap_err(),
            SplitError::NotUtf8
        );
        assert_eq!(
            split(b"a,\xc2,\x80", b',', 3, Default::default()).unwrap_err(),
            SplitError::NotUtf8
        );
        // Read as Windows-1252, as the reader then does, the record splits: Â, and € with
        // its stray quote.
        let (text, _, _) = encoding_rs::WINDOWS_1252.decode(data);
        assert_eq!(rows(&text, 3), [["a", "\u{c2}", "\u{20ac}\""]]);
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
        assert_eq!(e, SplitError::Unclosed { at: 6 });
        // Text after a closing quote is not guessed at, at the end of the text or not.
        let e = split(b"a,b\n\"c\"d,e\nf,g\n", b',', 2, Default::default()).unwrap_err();
        assert_eq!(e, SplitError::TextAfterQuote { at: 4 });
        let e = split(b"a,\"b\" ", b',', 2, Default::default()).unwrap_err();
        assert_eq!(e, SplitError::TextAfterQuote { at: 0 });
        // A closed quote at the end of a line is fine, before CR LF too; a stray one is a
        // character.
        assert_eq!(rows("a,\"b\"", 2), [["a", "b"]]);
        assert_eq!(rows("\"a\",\"b\"\r\nc,d", 2), [["a", "b\r"], ["c", "d"]]);
        assert_eq!(rows("a,b\"", 2), [["a", "b\""]]);
    }

    /// Lines without a quote are split by hand, not by csv-core: they must read as csv-core
    /// (here through the csv crate, with the same settings) reads them.
    #[test]
    fn lines_without_quotes_read_as_csv_core_reads_them() {
        let lines = [
            "a,b,c",
            "a,,c\r",
            ",,",
            "a",
            " spaced , out ,\tc",
            "a,b,",
            "\u{a3}5,\u{e9},x",
        ];
        for line in lines {
            let by_hand = rows(&format!("{line}\n{line}"), 3);
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            let mut by_dfa: Vec<String> = record.iter().map(str::to_string).collect();
            by_dfa.resize(3, String::new());
            assert_eq!(by_hand, [by_dfa.clone(), by_dfa], "{line:?}");
        }
        let e = split(b"a,b,c,d\n", b',', 3, Default::default()).unwrap_err();
        assert_eq!(e, SplitError::Ragged { at: 0 });
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
