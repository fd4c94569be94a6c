//! Reading patient-level extracts and EPD months: CSV (UTF-8 with or without BOM, or
//! Windows-1252; comma or tab; CRLF or LF), gzip-compressed CSV, or Parquet — a chunk of
//! records at a time, each field a span of one text buffer ([`crate::read::records`]).
//!
//! Every column is read as text: identifiers and codes keep their leading zeros and are never
//! numbers. Headers are matched to opal's canonical columns case- and punctuation-insensitively
//! through the usual spellings of GP system exports, or through an explicit `--column` map.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::{mpsc, Arc};

use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;

pub use crate::read::columns::{
    aliases_of, headers_found, map_columns, normalise_header, shown_header, CodeMap, ReadOptions,
    CANONICAL, REQUIRED,
};
use crate::read::factors::hex_sha256;
use crate::read::raw::{self, Hashing, Raw};
use crate::read::records::{self, Records, SplitError};

mod header;
mod parquet;
mod text;
use header::*;
use parquet::*;
use text::*;

/// A block of rows of an extract being read in chunks (see [`ExtractReader`]): the fields of
/// its records as slices of one buffer ([`Records`]).
#[derive(Debug)]
pub struct Chunk {
    records: Records,
    /// Header as written → field index.
    index: Arc<BTreeMap<String, usize>>,
    /// Physical line of the chunk's first record (1-based; the header is line 1).
    first_line: u64,
    /// Physical line of each record, when some quoted field in the chunk spans lines.
    line_of_row: Option<Vec<u64>>,
    /// Where the buffers go when the chunk is dropped: back to the reading thread, which
    /// fills them again (fresh pages for every chunk cost more than splitting it).
    recycle: Option<mpsc::SyncSender<records::Buffers>>,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(recycle) = self.recycle.take() {
            // A finished reader (the file's last chunks): kept for the next file's reader; a
            // full channel: simply freed.
            let buffers = std::mem::take(&mut self.records).into_buffers();
            if let Err(mpsc::TrySendError::Disconnected(b)) = recycle.try_send(buffers) {
                raw::spare::put_records(b);
            }
        }
    }
}

/// One column of a [`Chunk`].
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    records: &'a Records,
    k: usize,
}

impl<'a> Field<'a> {
    /// The text of this column in row `row`, as written (unquoted, not trimmed).
    pub fn get(&self, row: usize) -> &'a str {
        self.records.get(row, self.k)
    }
}

impl Chunk {
    pub fn rows(&self) -> usize {
        self.records.rows()
    }

    /// The physical line of a row of this chunk.
    pub fn line(&self, row: usize) -> u64 {
        match &self.line_of_row {
            Some(lines) => lines
                .get(row)
                .copied()
                .unwrap_or(self.first_line + row as u64),
            None => self.first_line + row as u64,
        }
    }

    /// A column by its header as written, when the file has it.
    pub fn column(&self, header: Option<&String>) -> Option<Field<'_>> {
        let k = *self.index.get(header?)?;
        Some(Field {
            records: &self.records,
            k,
        })
    }
}

/// What is known of an extract once it has been read to the end.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub path: String,
    pub format: &'static str,
    pub bytes: u64,
    pub sha256: String,
    /// canonical column → header as written.
    pub columns: BTreeMap<String, String>,
    pub headers: Vec<String>,
    /// Records read (blank lines included).
    pub rows: u64,
    /// Lines before the header (a report export's title, run date, counts): never rows.
    pub preamble_lines: u64,
    /// What reading the file set aside and the run should say (FHIR resources that are not
    /// issues).
    pub notes: Vec<String>,
}

/// The bytes of text read per chunk: big enough that polars parses each on every core, small
/// enough that memory does not grow with the file.
pub const CHUNK_BYTES: usize = 32 << 20;
/// Rows per chunk of a Parquet file.
const PARQUET_CHUNK_ROWS: usize = 250_000;

/// An extract read a chunk of rows at a time, so that memory does not grow with the file.
///
/// CSV is read, hashed, cut at record boundaries and parsed by polars on a worker thread,
/// one chunk ahead of the caller, so that reading overlaps the caller's work on the last one.
pub struct ExtractReader {
    pub path: String,
    pub format: &'static str,
    pub columns: BTreeMap<String, String>,
    pub headers: Vec<String>,
    /// Lines skipped before the header.
    pub preamble_lines: u64,
    /// What reading set aside, for the run's warnings.
    pub notes: Vec<String>,
    rows: u64,
    source: ChunkSource,
}

enum ChunkSource {
    Csv {
        chunks: mpsc::Receiver<Result<Chunk>>,
        worker: Option<std::thread::JoinHandle<(u64, String)>>,
    },
    Parquet {
        frame: DataFrame,
        next: usize,
        bytes: u64,
        sha256: String,
    },
}

/// Read up to `target` bytes into `buf` (appending); true at the end of the input.
fn fill(src: &mut impl Read, buf: &mut Vec<u8>, target: usize) -> std::io::Result<bool> {
    let want = target.saturating_sub(buf.len());
    if want == 0 {
        return Ok(false);
    }
    let got = src.take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

/// The end (one past the newline) of the last complete record in `buf`, which starts outside
/// quotes: the last newline with an even number of quotes before it.
fn last_record_end(buf: &[u8]) -> Option<usize> {
    let mut quotes = buf.iter().filter(|&&b| b == b'"').count();
    let mut i = buf.len();
    while i > 0 {
        i -= 1;
        match buf[i] {
            b'"' => quotes -= 1,
            b'\n' if quotes % 2 == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Text of one chunk as UTF-8: kept when it is, else read as Windows-1252.
fn chunk_utf8(data: Vec<u8>) -> Vec<u8> {
    if std::str::from_utf8(&data).is_ok() {
        return data;
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&data);
    text.into_owned().into_bytes()
}

/// Split one chunk of whole records ([`records::split`]): read as Windows-1252 when its text
/// is not UTF-8, each record's physical line worked out when a quoted field spans lines.
/// `lines` are the number of physical lines before the chunk and the line breaks in it.
fn split_chunk(
    display: &str,
    text: &mut Vec<u8>,
    (separator, width): (u8, usize),
    (lines_before, newlines): (u64, usize),
    index: &Arc<BTreeMap<String, usize>>,
    spare: records::Buffers,
    recycle: &mpsc::SyncSender<records::Buffers>,
) -> Result<Chunk> {
    let records = match records::split(text, separator, width, spare) {
        Err(SplitError::NotUtf8) => {
            *text = chunk_utf8(std::mem::take(text));
            records::split(text, separator, width, Default::default())
        }
        r => r,
    };
    let line_at =
        |at: usize| lines_before + 1 + memchr::memchr_iter(b'\n', &text[..at]).count() as u64;
    let records = records.map_err(|e| match e {
        SplitError::Ragged { at } => {
            let fields = csv::ReaderBuilder::new()
                .delimiter(separator)
                .has_headers(false)
                .flexible(true)
                .from_reader(&text[at..])
                .byte_records()
                .next()
                .and_then(|r| r.ok())
                .map_or(0, |r| r.len());
            crate::error::hinted(
                format!(
                    "{display}: line {} has {fields} fields but the header has {width}",
                    line_at(at)
                ),
                "a \
                 field with a comma or a line break must be quoted; check that line, or \
                 export the extract again",
            )
        }
        SplitError::Unclosed { at } => crate::error::hinted(
            format!(
                "{display}: line {} opens a quote (\") that is never closed",
                line_at(at)
            ),
            "a quote inside a \
             field must be doubled (\"\"); check that line, or export the extract again",
        ),
        SplitError::TextAfterQuote { at } => crate::error::hinted(
            format!(
                "{display}: line {} has a quoted field with more text after its closing quote",
                line_at(at)
            ),
            "a field that starts with a quote must end with it, and a quote inside a field must \
             be doubled (\"\"); check that line, or export the extract again",
        ),
        SplitError::NotUtf8 | SplitError::TooLarge => crate::error::hinted(
            format!(
                "{display}: a record from line {} on is 4 GiB or more",
                lines_before + 1
            ),
            "check that quotes are \
             closed, or export the extract again",
        ),
    })?;
    let first_line = lines_before + 1;
    // Records are one a line unless a quoted field spans lines: then count lines to each.
    let whole_lines = records
        .rows()
        .saturating_sub(usize::from(text.last().is_some_and(|&b| b != b'\n')));
    let line_of_row = (newlines != whole_lines).then(|| {
        let (mut line, mut from) = (first_line, 0usize);
        records
            .starts()
            .iter()
            .map(|&start| {
                let start = start as usize;
                line += memchr::memchr_iter(b'\n', &text[from..start]).count() as u64;
                from = start;
                line
            })
            .collect()
    });
    Ok(Chunk {
        records,
        index: Arc::clone(index),
        first_line,
        line_of_row,
        recycle: Some(recycle.clone()),
    })
}

/// How a file's headers are matched to canonical columns (and what is missing said).
pub type MapColumns<'a> = &'a dyn Fn(&str, &[String]) -> Result<BTreeMap<String, String>>;

/// Open an extract for reading in chunks: the header is read and matched now, so that a
/// missing column is an error before any work is done.
pub fn open_extract(path: &Path, opts: &ReadOptions) -> Result<ExtractReader> {
    open_table(path, opts.chunk_bytes, &|display, headers| {
        map_columns(display, headers, opts)
    })
}

/// Open a CSV, gzip CSV or Parquet table for reading in chunks (`chunk_bytes` of text each; 0
/// for [`CHUNK_BYTES`]), its headers matched by `map`: an extract, or an EPD month.
pub fn open_table(path: &Path, chunk_bytes: usize, map: MapColumns) -> Result<ExtractReader> {
    let stdin = path.as_os_str() == "-";
    let display = if stdin {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    // A file, a pipe (`<(zcat x.csv.gz)`) or stdin (`-`): read from the start, never seeked.
    let mut input: Raw = if stdin {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot read {display}"))?)
    };
    let mut magic = Vec::new();
    (&mut input)
        .take(4)
        .read_to_end(&mut magic)
        .with_context(|| format!("cannot read {display}"))?;
    if magic.is_empty() {
        return Err(crate::error::hinted(
            format!("{display} is empty"),
            "check the export finished and the right file was given",
        ));
    }
    let seekable = !stdin && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if magic.starts_with(b"PAR1") && !seekable {
        return Err(crate::error::hinted(
            format!("{display}: a Parquet file cannot be read from a pipe"),
            "save it to a file \
             first, or give the extract as CSV",
        ));
    }
    if magic.starts_with(b"PAR1") {
        let raw = std::fs::read(path).with_context(|| format!("cannot read {display}"))?;
        let bytes = raw.len() as u64;
        let whole = parquet_frame(&display, hex_sha256(&raw))?;
        drop(raw);
        let columns = map(&display, &whole.headers)?;
        return Ok(ExtractReader {
            path: display,
            format: "parquet",
            columns,
            headers: whole.headers,
            preamble_lines: 0,
            notes: Vec::new(),
            rows: 0,
            source: ChunkSource::Parquet {
                frame: whole.frame,
                next: 0,
                bytes,
                sha256: whole.sha256,
            },
        });
    }
    let raw = Hashing::new(Box::new(std::io::Cursor::new(magic.clone()).chain(input)));
    let gzip = magic.starts_with(&[0x1f, 0x8b]);
    let read_failed = move |display: &str, e: std::io::Error| {
        if gzip {
            crate::error::hinted(
                format!("{display}: cannot decompress the gzip data ({e})"),
                "check that the file \
                 was copied whole; `gzip -t` tests it",
            )
        } else {
            anyhow!("{display}: cannot read the file ({e})")
        }
    };
    let json = !gzip && crate::read::fhir::looks_like_json(&magic);
    let mut notes = Vec::new();
    let mut src = if json {
        // FHIR (a Bundle or NDJSON): read whole, hashed as given, and turned into rows.
        let mut raw = raw;
        let mut original = Vec::new();
        raw.read_to_end(&mut original)
            .map_err(|e| read_failed(&display, e))?;
        let (bytes, sha256) = raw.finish();
        let (rows, set_aside) = crate::read::fhir::to_csv(&display, &original)?;
        notes = set_aside;
        Text::Converted {
            rows: std::io::Cursor::new(rows),
            bytes,
            sha256,
        }
    } else if gzip {
        Text::Gzip(Box::new(flate2::read::MultiGzDecoder::new(raw)))
    } else if magic.starts_with(&[0xFF, 0xFE]) {
        Text::Utf16(Box::new(Utf16::new(raw, encoding_rs::UTF_16LE)))
    } else if magic.starts_with(&[0xFE, 0xFF]) {
        Text::Utf16(Box::new(Utf16::new(raw, encoding_rs::UTF_16BE)))
    } else {
        Text::Plain(raw)
    };
    let chunk_bytes = if chunk_bytes == 0 {
        CHUNK_BYTES
    } else {
        chunk_bytes
    };
    let mut buf = raw::spare::take_text();
    buf.reserve(chunk_bytes + (1 << 16));
    let mut target = chunk_bytes;
    let first_eof = loop {
        let eof = fill(&mut src, &mut buf, target).map_err(|e| read_failed(&display, e))?;
        if eof || last_record_end(&buf).is_some() {
            break eof;
        }
        target *= 2;
    };
    if buf.starts_with(b"\xEF\xBB\xBF") {
        buf.drain(..3);
    }
    if buf.is_empty() {
        return Err(crate::error::hinted(
            format!("{display} is empty"),
            "check the export finished and the right file was given",
        ));
    }
    if looks_binary(&buf) {
        return Err(crate::error::hinted(
            format!("{display} is not a text file (it has binary bytes)"),
            "opal reads CSV, gzip \
             CSV and Parquet extracts; check the file given",
        ));
    }
    // Old Mac exports end lines with CR alone: read as line ends. (With no LF to cut at,
    // the whole input is in `buf` by now.)
    let cr_only = !buf.contains(&b'\n') && buf.contains(&b'\r');
    if cr_only {
        buf.iter_mut()
            .filter(|b| **b == b'\r')
            .for_each(|b| *b = b'\n');
    }
    let cut = if first_eof {
        buf.len()
    } else {
        last_record_end(&buf).unwrap_or(buf.len())
    };
    let rest = buf.split_off(cut);
    let first = chunk_utf8(std::mem::replace(&mut buf, rest));
    // The header is the first line, within the first 20, that maps the required columns:
    // clinical-system report exports start with lines about the search.
    let found = find_header(&display, &first, map)?;
    let (separator, headers, columns) = (found.separator, found.headers, found.columns);
    let physical_header_lines = first[..found.end].iter().filter(|&&b| b == b'\n').count() as u64;
    let mut index = BTreeMap::new();
    for (k, h) in headers.iter().enumerate() {
        index.entry(h.clone()).or_insert(k);
    }
    let index = Arc::new(index);
    let width = headers.len();
    let mut text = first;
    text.drain(..found.end);
    let (tx, rx) = mpsc::sync_channel::<Result<Chunk>>(1);
    let worker_display = display.clone();
    let worker = std::thread::Builder::new()
        .name("opal-read".into())
        .spawn(move || {
            let display = worker_display;
            // Physical lines before the chunk being split.
            let mut lines_before = physical_header_lines;
            let mut eof = first_eof;
            // The bytes after the last whole record, carried to the next chunk.
            let mut carry = buf;
            let (recycle, recycled) = mpsc::sync_channel(2);
            loop {
                if !text.is_empty() {
                    let n = memchr::memchr_iter(b'\n', &text).count();
                    let chunk = split_chunk(
                        &display,
                        &mut text,
                        (separator, width),
                        (lines_before, n),
                        &index,
                        recycled
                            .try_recv()
                            .unwrap_or_else(|_| raw::spare::take_records()),
                        &recycle,
                    );
                    let failed = chunk.is_err();
                    if tx.send(chunk).is_err() || failed {
                        // Stopped early (an error, or the caller gave up): the totals are
                        // not used.
                        return (0, String::new());
                    }
                    lines_before += n as u64;
                }
                if eof {
                    break;
                }
                // One text buffer serves every chunk: the carried bytes, then as much of
                // the file as fits.
                text.clear();
                text.reserve(chunk_bytes + carry.len());
                text.extend_from_slice(&carry);
                carry.clear();
                let mut target = chunk_bytes;
                let cut = loop {
                    match fill(&mut src, &mut text, target) {
                        Ok(true) => {
                            eof = true;
                            break text.len();
                        }
                        Ok(false) => {}
                        Err(e) => {
                            let _ = tx.send(Err(read_failed(&display, e)));
                            return (0, String::new());
                        }
                    }
                    if let Some(c) = last_record_end(&text) {
                        break c;
                    }
                    target *= 2;
                };
                carry.extend_from_slice(&text[cut..]);
                text.truncate(cut);
                if cr_only {
                    text.iter_mut()
                        .filter(|b| **b == b'\r')
                        .for_each(|b| *b = b'\n');
                }
            }
            // The buffers for the next file's reader.
            raw::spare::put_text(text);
            while let Ok(b) = recycled.try_recv() {
                raw::spare::put_records(b);
            }
            src.finish()
        })
        .with_context(|| format!("{display}: cannot start the reading thread"))?;
    Ok(ExtractReader {
        path: display,
        format: if json { "fhir" } else { "csv" },
        columns,
        headers,
        preamble_lines: found.preamble_lines,
        notes,
        rows: 0,
        source: ChunkSource::Csv {
            chunks: rx,
            worker: Some(worker),
        },
    })
}

impl ExtractReader {
    /// The next chunk of rows, or `None` at the end of the file.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let chunk = match &mut self.source {
            ChunkSource::Csv { chunks, .. } => match chunks.recv() {
                Ok(chunk) => Some(chunk?),
                Err(_) => None,
            },
            ChunkSource::Parquet { frame, next, .. } => {
                if *next >= frame.height() {
                    None
                } else {
                    let len = PARQUET_CHUNK_ROWS.min(frame.height() - *next);
                    let chunk = parquet_chunk(&self.path, frame, *next, len)?;
                    *next += len;
                    Some(chunk)
                }
            }
        };
        if let Some(c) = &chunk {
            self.rows += c.rows() as u64;
        }
        Ok(chunk)
    }

    /// What is known of the file once read: its size, SHA-256 and rows.
    pub fn finish(self) -> Result<FileInfo> {
        let (bytes, sha256) = match self.source {
            ChunkSource::Csv { chunks, worker } => {
                // Unread chunks are dropped, so that a worker waiting to send one ends.
                drop(chunks);
                match worker.map(|w| w.join()) {
                    Some(Ok(totals)) => totals,
                    _ => bail!("{}: the reading thread failed", self.path),
                }
            }
            ChunkSource::Parquet { bytes, sha256, .. } => (bytes, sha256),
        };
        Ok(FileInfo {
            path: self.path,
            format: self.format,
            bytes,
            sha256,
            columns: self.columns,
            headers: self.headers,
            rows: self.rows,
            preamble_lines: self.preamble_lines,
            notes: self.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header is looked for in the first 20 lines: after 19 lines of preamble it is
    /// found; after 20 the file has no header opal can see, and the error says what it found.
    #[test]
    fn a_preamble_of_19_lines_at_most() {
        let head =
            "patient_id,practice_code,issue_date,drug_name,quantity\nP1,A81001,2026-10-01,x,1\n";
        let file = |n: usize| format!("{}{head}", "Search results\n".repeat(n)).into_bytes();
        let opts = ReadOptions::default();
        let map = |d: &str, h: &[String]| map_columns(d, h, &opts);
        let found = find_header("x.csv", &file(19), &map).unwrap();
        assert_eq!(found.preamble_lines, 19);
        assert_eq!(found.headers[0], "patient_id");
        let e = find_header("x.csv", &file(20), &map)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("no column for patient_id") && e.contains("Search results"),
            "{e}"
        );
    }

    #[test]
    fn records_are_cut_and_numbered_outside_quotes() {
        // The last newline is inside a quoted field: the record ends at the one before.
        let text = b"a,b\n1,\"x\ny\"\n2,\"p\nq";
        assert_eq!(last_record_end(text), Some(12));
        assert_eq!(last_record_end(b"no newline"), None);
        // An escaped quote ("") does not end a quoted field.
        let text = b"1,\"say \"\"hi\"\"\nthere\"\n2,x\n";
        assert_eq!(last_record_end(text), Some(text.len()));
    }

    /// Line numbers worked by hand: 9 lines before the chunk; the first record spans lines
    /// 10-11, a blank line is record 2 (line 12), then line 13.
    #[test]
    fn chunks_number_records_by_physical_line() {
        let index = Arc::new(BTreeMap::from([("a".to_string(), 0), ("b".to_string(), 1)]));
        let (recycle, recycled) = mpsc::sync_channel(1);
        let split = |text: &[u8]| {
            let newlines = text.iter().filter(|&&b| b == b'\n').count();
            let (format, lines) = ((b',', 2), (9, newlines));
            let spare = recycled.try_recv().unwrap_or_default();
            let mut text = text.to_vec();
            split_chunk("x.csv", &mut text, format, lines, &index, spare, &recycle)
        };
        let c = split(b"1,\"say \"\"hi\"\"\nthere\"\n\n2,x\n").unwrap();
        let lines: Vec<u64> = (0..c.rows()).map(|r| c.line(r)).collect();
        assert_eq!(lines, [10, 12, 13]);
        let b = c.column(Some(&"b".to_string())).unwrap();
        assert_eq!(
            (b.get(0), b.get(1), b.get(2)),
            ("say \"hi\"\nthere", "", "x")
        );
        // One a line: no table of lines is kept.
        assert!(split(b"1,x\n2,y").unwrap().line_of_row.is_none());
        let e = split(b"1,x\n\"2\n3\",y,z\n").unwrap_err().to_string();
        assert!(
            e.contains("x.csv: line 11 has 3 fields but the header has 2"),
            "{e}"
        );
        let e = split(b"1,x\n2,y\n3,\"z\nw").unwrap_err().to_string();
        assert!(e.contains("x.csv: line 12 opens a quote"), "{e}");
        // Windows-1252: the pound sign.
        let c = split(b"1,\xa3 5\n").unwrap();
        assert_eq!(c.column(Some(&"b".to_string())).unwrap().get(0), "\u{a3} 5");
    }
}
