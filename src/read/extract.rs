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

use sha2::{Digest, Sha256};

use crate::read::factors::hex_sha256;
use crate::read::records::{self, Records, SplitError};

/// opal's canonical extract columns.
pub const CANONICAL: &[&str] = &[
    "patient_id",
    "practice_code",
    "issue_date",
    "drug_name",
    "dmd_code",
    "bnf_code",
    "quantity",
    "quantity_unit",
    "dose_text",
    "days_supply",
    "ics_code",
    "source_code",
    "dosage_id",
];

/// Header spellings of GP system exports, normalised (lower case, letters and digits only).
const ALIASES: &[(&str, &[&str])] = &[
    (
        "patient_id",
        &[
            "patientid",
            "nhsnumber",
            "nhsno",
            "patient",
            "patientref",
            "patientreference",
            "patientidentifier",
            "patientnumber",
            "patientno",
            "pseudonhsnumber",
            "pid",
            "personid",
            "pseudoid",
            // research layouts: CPRD Aurum, OMOP CDM
            "patid",
        ],
    ),
    (
        "practice_code",
        &[
            "practicecode",
            "practice",
            "practiceid",
            "odscode",
            "practiceodscode",
            "organisationcode",
            "orgcode",
            "gppracticecode",
            "practiceods",
            // report exports of clinical systems
            "usualgppractice",
            "usualgppracticecode",
            "usualgppracticeodscode",
            "registeredpractice",
            "registeredpracticecode",
            "registeredgppractice",
            "registeredgppracticecode",
            "gppractice",
            "practicenationalcode",
            "organisationodscode",
            // CPRD Aurum
            "pracid",
        ],
    ),
    (
        "issue_date",
        &[
            "issuedate",
            "dateofissue",
            "date",
            "issued",
            "dateissued",
            "prescriptiondate",
            "prescribeddate",
            "eventdate",
            "dateprescribed",
            "issuedon",
            // OMOP CDM drug_exposure
            "drugexposurestartdate",
        ],
    ),
    (
        "drug_name",
        &[
            "drugname",
            "drug",
            "medication",
            "medicationname",
            "medicine",
            "product",
            "productname",
            "preparation",
            "itemname",
            "drugdescription",
            "description",
            "medicationdescription",
            "term",
            // CPRD Aurum's product dictionary
            "termfromemis",
        ],
    ),
    (
        "dmd_code",
        &[
            "dmdcode",
            "dmd",
            "dmdid",
            "dmdproductcodeid",
            "dmdproductcode",
            "snomedcode",
            "snomed",
            "conceptid",
            "dmdconceptid",
            "snomedctcode",
            // OMOP CDM drug_exposure, where the source value is the dm+d id
            "drugsourcevalue",
        ],
    ),
    (
        "bnf_code",
        &[
            "bnfcode",
            "bnf",
            "bnfpresentationcode",
            "bnfcodepresentation",
        ],
    ),
    (
        "quantity",
        &[
            "quantity",
            "qty",
            "quantityissued",
            "issuedquantity",
            "amount",
            "quantityvalue",
        ],
    ),
    (
        "quantity_unit",
        &[
            "quantityunit",
            "qtyunit",
            "unit",
            "units",
            "unitofmeasure",
            "quantityunits",
            "uom",
        ],
    ),
    (
        "dose_text",
        &[
            "dosetext",
            "dose",
            "dosage",
            "directions",
            "instructions",
            "dosageinstructions",
            "dosageinstruction",
            "sig",
            "doseinstructions",
        ],
    ),
    (
        "days_supply",
        &[
            "dayssupply",
            "courseduration",
            "coursedurationindays",
            "duration",
            "durationdays",
            "durationindays",
            "days",
            "supplydays",
        ],
    ),
    (
        "ics_code",
        &["icscode", "ics", "icbcode", "icb", "stpcode", "stp"],
    ),
    (
        // Another system's product code, read through --code-map (CPRD Aurum's prodcodeid).
        "source_code",
        &["sourcecode", "prodcodeid", "productcode", "prodcode"],
    ),
    (
        // A dosage's code, read through --dosages (CPRD Aurum's dosageid).
        "dosage_id",
        &["dosageid"],
    ),
];

/// The usual spellings of a canonical column (normalised), for the reference files that name
/// patients and practices as extracts do.
pub fn aliases_of(canonical: &str) -> &'static [&'static str] {
    ALIASES
        .iter()
        .find(|(c, _)| *c == canonical)
        .map_or(&[], |(_, a)| a)
}

/// Letters and digits of a header, lower case: `Date of Issue` → `dateofissue`.
pub fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// How to read extracts.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// canonical column → header, from `--column canonical=Header`.
    pub column_map: BTreeMap<String, String>,
    /// Bytes of text per chunk; 0 means [`CHUNK_BYTES`]. Tests make it small, so that small
    /// files are read in many chunks.
    pub chunk_bytes: usize,
    /// `--practice-code`: the practice of every row of a file with no practice column (a
    /// report run inside one practice).
    pub practice_code: Option<String>,
    /// `--patient-practices`: each patient's practice, for a file with no practice column.
    pub patient_practices: Option<std::sync::Arc<std::collections::HashMap<String, String>>>,
    /// `--code-map`: another system's product code → (dm+d id, product name).
    pub code_map: Option<std::sync::Arc<CodeMap>>,
    /// `--dosages`: a dosage's code → its directions (CPRD Aurum's common dosages).
    pub dosages: Option<std::sync::Arc<std::collections::HashMap<String, String>>>,
}

/// `--code-map`: each code of another system (CPRD's prodcodeid, a practice system's own)
/// with the dm+d id and the product name it stands for (either may be empty).
pub type CodeMap = std::collections::HashMap<String, (String, String)>;

/// Columns an audit cannot do without.
pub const REQUIRED: &[&str] = &["patient_id", "practice_code", "issue_date", "quantity"];

struct ParquetWhole {
    frame: DataFrame,
    headers: Vec<String>,
    sha256: String,
}

/// A Parquet file, every column cast to text.
fn parquet_frame(display: &str, sha256: String) -> Result<ParquetWhole> {
    let failed =
        |e: PolarsError| anyhow!("cannot read {display} as Parquet: {}", polars_message(&e));
    // polars' eager reader (no lazy engine: it is most of polars' build time, issue 18).
    let file = File::open(display).with_context(|| format!("cannot read {display}"))?;
    let frame = ParquetReader::new(file).finish().map_err(failed)?;
    let columns = frame
        .columns()
        .iter()
        .map(|c| c.cast(&DataType::String))
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(failed)?;
    let mut frame = DataFrame::new_infer_height(columns).map_err(failed)?;
    frame.rechunk_mut_par();
    let headers: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    Ok(ParquetWhole {
        frame,
        headers,
        sha256,
    })
}

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
            // A full channel or a finished reader: the buffers are simply freed.
            let _ = recycle.try_send(std::mem::take(&mut self.records).into_buffers());
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

/// A reader that hashes (SHA-256) and counts the raw bytes it passes on.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R: Read> Hashing<R> {
    /// Hash what is left unread, then the totals.
    fn finish(mut self) -> (u64, String) {
        let _ = std::io::copy(&mut self, &mut std::io::sink());
        let digest = self.hasher.finalize();
        let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
        (self.bytes, hex)
    }
}

/// The raw bytes of an input: a file, a pipe or stdin, read from the start without seeking.
type Raw = Box<dyn Read + Send>;

enum Text {
    Plain(Hashing<Raw>),
    Gzip(Box<flate2::read::MultiGzDecoder<Hashing<Raw>>>),
    Utf16(Box<Utf16<Hashing<Raw>>>),
    /// Rows made from another format (FHIR: read/fhir.rs), with the size and SHA-256 of the
    /// file as it was given.
    Converted {
        rows: std::io::Cursor<Vec<u8>>,
        bytes: u64,
        sha256: String,
    },
}

impl Read for Text {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Text::Plain(r) => r.read(buf),
            Text::Gzip(r) => r.read(buf),
            Text::Utf16(r) => r.read(buf),
            Text::Converted { rows, .. } => rows.read(buf),
        }
    }
}

impl Text {
    fn finish(self) -> (u64, String) {
        match self {
            Text::Plain(r) => r.finish(),
            Text::Gzip(r) => r.into_inner().finish(),
            Text::Utf16(r) => r.inner.finish(),
            Text::Converted { bytes, sha256, .. } => (bytes, sha256),
        }
    }
}

/// UTF-16 text with a byte-order mark (Excel's "Unicode text", some EMIS exports), read as
/// UTF-8 a block at a time (encoding_rs's decoder, which drops the mark), so that the rest of
/// the reading path sees the text as any other.
struct Utf16<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Bytes of `output` already handed out.
    given: usize,
    done: bool,
}

impl<R: Read> Utf16<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Utf16<R> {
        Utf16 {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 1 << 16],
            output: Vec::with_capacity(3 << 16),
            given: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.given == self.output.len() && !self.done {
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            self.output.clear();
            self.given = 0;
            let room = self.decoder.max_utf8_buffer_length(n).unwrap_or(3 * n + 16);
            self.output.resize(room, 0);
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[..n], &mut self.output, last);
            debug_assert_eq!(read, n);
            self.output.truncate(written);
            self.done = last;
        }
        let take = buf.len().min(self.output.len() - self.given);
        buf[..take].copy_from_slice(&self.output[self.given..self.given + take]);
        self.given += take;
        Ok(take)
    }
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
            anyhow!(
                "{display}: line {} has {fields} fields but the header has {width}\nhint: a \
                 field with a comma or a line break must be quoted; check that line, or \
                 export the extract again",
                line_at(at)
            )
        }
        SplitError::Unclosed { at } => anyhow!(
            "{display}: line {} opens a quote (\") that is never closed\nhint: a quote inside a \
             field must be doubled (\"\"); check that line, or export the extract again",
            line_at(at)
        ),
        SplitError::TextAfterQuote { at } => anyhow!(
            "{display}: line {} has a quoted field with more text after its closing quote\n\
             hint: a field that starts with a quote must end with it, and a quote inside a \
             field must be doubled (\"\"); check that line, or export the extract again",
            line_at(at)
        ),
        SplitError::NotUtf8 | SplitError::TooLarge => anyhow!(
            "{display}: a record from line {} on is 4 GiB or more\nhint: check that quotes are \
             closed, or export the extract again",
            lines_before + 1
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
        bail!("{display} is empty\nhint: check the export finished and the right file was given");
    }
    let seekable = !stdin && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if magic.starts_with(b"PAR1") && !seekable {
        bail!(
            "{display}: a Parquet file cannot be read from a pipe\nhint: save it to a file \
             first, or give the extract as CSV"
        );
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
            rows: 0,
            source: ChunkSource::Parquet {
                frame: whole.frame,
                next: 0,
                bytes,
                sha256: whole.sha256,
            },
        });
    }
    let raw = Hashing {
        inner: Box::new(std::io::Cursor::new(magic.clone()).chain(input)) as Raw,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let gzip = magic.starts_with(&[0x1f, 0x8b]);
    let read_failed = move |display: &str, e: std::io::Error| {
        if gzip {
            anyhow!(
                "{display}: cannot decompress the gzip data ({e})\nhint: check that the file \
                 was copied whole; `gzip -t` tests it"
            )
        } else {
            anyhow!("{display}: cannot read the file ({e})")
        }
    };
    let json = !gzip && crate::read::fhir::looks_like_json(&magic);
    let mut src = if json {
        // FHIR (a Bundle or NDJSON): read whole, hashed as given, and turned into rows.
        let mut raw = raw;
        let mut original = Vec::new();
        raw.read_to_end(&mut original)
            .map_err(|e| read_failed(&display, e))?;
        let (bytes, sha256) = raw.finish();
        Text::Converted {
            rows: std::io::Cursor::new(crate::read::fhir::to_csv(&display, &original)?),
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
    let mut buf = Vec::with_capacity(chunk_bytes + (1 << 16));
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
        bail!("{display} is empty\nhint: check the export finished and the right file was given");
    }
    if looks_binary(&buf) {
        bail!(
            "{display} is not a text file (it has binary bytes)\nhint: opal reads CSV, gzip \
             CSV and Parquet extracts; check the file given"
        );
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
                        recycled.try_recv().unwrap_or_default(),
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
            src.finish()
        })
        .with_context(|| format!("{display}: cannot start the reading thread"))?;
    Ok(ExtractReader {
        path: display,
        format: if json { "fhir" } else { "csv" },
        columns,
        headers,
        preamble_lines: found.preamble_lines,
        rows: 0,
        source: ChunkSource::Csv {
            chunks: rx,
            worker: Some(worker),
        },
    })
}

/// Where an extract's header is.
struct HeaderFound {
    separator: u8,
    headers: Vec<String>,
    columns: BTreeMap<String, String>,
    /// Byte offset just past the header line in the first chunk.
    end: usize,
    preamble_lines: u64,
}

/// Lines searched for the header.
const PREAMBLE_LINES: usize = 20;

/// The header: the first line, within the first 20, whose fields map the required columns;
/// when none does, the first line, and the mapping's error about it.
fn find_header(display: &str, first: &[u8], map: MapColumns) -> Result<HeaderFound> {
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
fn header_end_hint(text: &[u8]) -> usize {
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

/// Rows `from..from + len` of a Parquet file's frame (every column text) as a [`Chunk`].
fn parquet_chunk(display: &str, frame: &DataFrame, from: usize, len: usize) -> Result<Chunk> {
    let columns: Vec<&StringChunked> = frame
        .columns()
        .iter()
        .map(|c| c.str())
        .collect::<PolarsResult<_>>()
        .map_err(|e| anyhow!("cannot read {display} as Parquet: {}", polars_message(&e)))?;
    let index = frame
        .get_column_names()
        .iter()
        .enumerate()
        .map(|(k, name)| (name.to_string(), k))
        .collect();
    let mut records = Records::with_width(columns.len());
    for row in from..from + len {
        for c in &columns {
            records.push_field(c.get(row).unwrap_or("")).map_err(|_| {
                anyhow!(
                    "{display}: rows {} to {} hold 4 GiB of text or more\nhint: check the \
                         file's text columns, or give the extract as CSV",
                    from + 1,
                    from + len
                )
            })?;
        }
    }
    Ok(Chunk {
        records,
        index: Arc::new(index),
        first_line: from as u64 + 1,
        line_of_row: None,
        recycle: None,
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
        })
    }
}

/// A binary file (a spreadsheet, a zip, a UTF-16 export): NUL in the header line, or NULs
/// making up more than 1% of the first 8 KB. A stray NUL in a field of a text file is not
/// that: its row is rejected (`audit::corrupt_text`).
fn looks_binary(data: &[u8]) -> bool {
    let head = &data[..data.len().min(8192)];
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let nuls = head.iter().filter(|&&b| b == 0).count();
    first_line.contains(&0) || nuls * 100 > head.len()
}

/// Tab when the first line has more tabs than commas, else comma.
fn sniff_separator(data: &[u8]) -> u8 {
    let first = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let tabs = first.iter().filter(|&&b| b == b'\t').count();
    let commas = first.iter().filter(|&&b| b == b',').count();
    if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

fn header_row(data: &[u8], separator: u8) -> Result<Vec<String>> {
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

/// A header as a message may quote it: escaped, at most 40 characters, and `<value>` when it
/// looks like data rather than a column name (three digits in a row, an `@`, a date) — a
/// headerless extract's first line is a patient's row, and it must never reach the terminal.
pub fn shown_header(h: &str) -> String {
    let digits_in_a_row = h
        .as_bytes()
        .windows(3)
        .any(|w| w.iter().all(u8::is_ascii_digit));
    let looks_like_data = digits_in_a_row
        || h.contains('@')
        || (h.chars().filter(char::is_ascii_digit).count() >= 2 && h.contains(['/', '-', '.']));
    if looks_like_data {
        return "<value>".into();
    }
    let escaped = crate::error::escape(h.trim());
    match escaped.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped,
    }
}

/// The headers found, for a message: at most 20, each [`shown_header`], and a note when the
/// first line looks like a data row.
pub fn headers_found(headers: &[String]) -> String {
    let mut shown: Vec<String> = headers.iter().take(20).map(|h| shown_header(h)).collect();
    if headers.len() > 20 {
        shown.push(format!("and {} more", headers.len() - 20));
    }
    let values = shown.iter().filter(|h| *h == "<value>").count();
    let mut out = shown.join(", ");
    if values >= 2 {
        out.push_str(
            "; the first line looks like a data row, not a header: values are not shown. Does \
             the export include its header row?",
        );
    }
    out
}

/// The first line of a polars error: what went wrong, never its query plan.
fn polars_message(e: &PolarsError) -> String {
    let text = e.to_string();
    crate::error::escape(text.lines().next().unwrap_or("").trim())
}

/// Match headers to canonical columns; errors name the column, the headers found and a hint.
pub fn map_columns(
    display: &str,
    headers: &[String],
    opts: &ReadOptions,
) -> Result<BTreeMap<String, String>> {
    // A report that repeats the (drug, date) pair across the row ("Drug 1", "Date 1", "Drug
    // 2", "Date 2"...): one patient a row, several items each, which opal cannot read as items.
    let numbered = |canonical: &str| -> Vec<&String> {
        let aliases = aliases_of(canonical);
        headers
            .iter()
            .filter(|h| {
                let n = normalise_header(h);
                let stem = n.trim_end_matches(|c: char| c.is_ascii_digit());
                stem.len() < n.len()
                    && (stem == normalise_header(canonical) || aliases.contains(&stem))
            })
            .collect()
    };
    let (drugs, dates) = (numbered("drug_name"), numbered("issue_date"));
    if drugs.len() >= 2 && dates.len() >= 2 {
        bail!(
            "{display}: the report repeats a drug and a date across each row ({}): one patient a \
             row with several items, which opal cannot read\nhint: export one item per row, \
             with one column each for the patient, the practice, the date, the drug and the \
             quantity (in a clinical system's report: list the medication issues, not the \
             patients)",
            drugs
                .iter()
                .chain(&dates)
                .take(4)
                .map(|h| format!("'{}'", shown_header(h)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // Duplicated headers: ambiguous, so an error.
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for h in headers {
        if h.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(h.to_lowercase(), h) {
            bail!(
                "{display}: the header '{}' appears twice (also as '{}')\nhint: rename or \
                 remove one of them, or export the extract again",
                shown_header(h),
                shown_header(first)
            );
        }
    }
    let mut map = BTreeMap::new();
    for (canonical, header) in &opts.column_map {
        if !CANONICAL.contains(&canonical.as_str()) {
            bail!(
                "--column {canonical}=...: '{canonical}' is not one of opal's columns\nhint: \
                 columns are {}",
                CANONICAL.join(", ")
            );
        }
        let Some(found) = headers
            .iter()
            .find(|h| *h == header || h.eq_ignore_ascii_case(header))
        else {
            bail!(
                "{display}: --column {canonical}=\"{}\", but there is no header '{}' (found: \
                 {})",
                crate::error::escape(header),
                crate::error::escape(header),
                headers_found(headers)
            );
        };
        map.insert(canonical.clone(), found.clone());
    }
    for (canonical, aliases) in ALIASES {
        if map.contains_key(*canonical) {
            continue;
        }
        let hits: Vec<&String> = headers
            .iter()
            .filter(|h| {
                let n = normalise_header(h);
                n == normalise_header(canonical) || aliases.contains(&n.as_str())
            })
            .filter(|h| !map.values().any(|v| v == *h))
            .collect();
        match hits.as_slice() {
            [] => {}
            [one] => {
                map.insert((*canonical).to_string(), (*one).clone());
            }
            many => bail!(
                "{display}: several headers could be {canonical}: {}\nhint: say which with \
                 --column {canonical}=\"{}\"",
                many.iter()
                    .map(|h| format!("'{}'", shown_header(h)))
                    .collect::<Vec<_>>()
                    .join(", "),
                shown_header(many[0])
            ),
        }
    }
    let fixed = if opts.practice_code.is_some() {
        Some("--practice-code")
    } else if opts.patient_practices.is_some() {
        Some("--patient-practices")
    } else {
        None
    };
    if let Some(option) = fixed {
        if let Some(h) = map.get("practice_code") {
            bail!(
                "{display} has a practice column ('{}'), and {option} is for a file without \
                 one\nhint: leave out {option}, so that each row's own practice is used",
                shown_header(h)
            );
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !map.contains_key(*c))
        .filter(|c| !(*c == "practice_code" && fixed.is_some()))
        .collect();
    let has_item = ["drug_name", "dmd_code", "bnf_code"]
        .iter()
        .any(|c| map.contains_key(*c))
        || (opts.code_map.is_some() && map.contains_key("source_code"));
    if opts.code_map.is_some() && !map.contains_key("source_code") {
        bail!(
            "{display}: --code-map is given, but no column holds the codes to map (found: {})\n\
             hint: name it source_code (or prodcodeid), or map it with --column \
             source_code=\"Your Header\"",
            headers_found(headers)
        );
    }
    if !missing.is_empty() || !has_item {
        let mut what: Vec<String> = missing.iter().map(|s| s.to_string()).collect();
        if !has_item {
            what.push(if map.contains_key("source_code") {
                "one of drug_name, dmd_code, bnf_code (its source_code, another system's \
                 product code, is read only through --code-map FILE)"
                    .into()
            } else {
                "one of drug_name, dmd_code, bnf_code".into()
            });
        }
        let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
        let epd = ["bnfcode", "items", "practicecode"]
            .iter()
            .all(|c| norm.iter().any(|n| n == c))
            && norm
                .iter()
                .any(|n| n == "yearmonth" || n == "totalquantity");
        // A medications table of patient, date and product with no quantity at all (as
        // OpenSAFELY and similar research tables keep them).
        let no_quantity = missing.contains(&"quantity")
            && map.contains_key("patient_id")
            && map.contains_key("issue_date")
            && has_item
            && !norm
                .iter()
                .any(|n| n.contains("quantity") || n.contains("qty"));
        let hint = if epd {
            "this looks like an English Prescribing Dataset file (practice totals, no \
             patients): use `opal epd` for it"
                .to_string()
        } else if no_quantity {
            "this is a table of issues without quantities (patient, date, product), as research \
             tables such as OpenSAFELY's medications keep them: OME a day is the quantity \
             issued times the strength over the days it lasts, so without each issue's quantity \
             neither the dose nor the high-dose flag can be worked out; export the quantity \
             (and the directions, if you have them) with each issue"
                .to_string()
        } else {
            let example = missing.first().copied().unwrap_or("drug_name");
            let practice = if missing.contains(&"practice_code") {
                "; a report run inside one practice has none: give its ODS code with \
                 --practice-code CODE"
            } else {
                ""
            };
            let spellings = ALIASES
                .iter()
                .find(|(c, _)| *c == example)
                .map(|(_, a)| a.iter().take(4).copied().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            format!(
                "name the column {example} (or a usual spelling: {spellings}), or map it with \
                 --column {example}=\"Your Header\"{practice}"
            )
        };
        bail!(
            "{display}: no column for {} (found: {})\nhint: {hint}",
            what.join(", "),
            headers_found(headers)
        );
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header is looked for in the first 20 lines: after 19 lines of preamble it is
    /// found; after 20 the file has no header opal can see, and the error says what it found.
    /// A table of issues with no quantity (OpenSAFELY-style) says why OME needs one.
    #[test]
    fn a_table_without_quantities_says_why_ome_needs_them() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let opensafely = h(&["patient_id", "practice_code", "date", "dmd_code"]);
        let e = map_columns("m.csv", &opensafely, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column for quantity"), "{e}");
        assert!(e.contains("without each issue's quantity"), "{e}");
        // A quantity under another name is the ordinary hint.
        let other = h(&[
            "patient_id",
            "practice_code",
            "date",
            "dmd_code",
            "qty issued x",
        ]);
        let e = map_columns("q.csv", &other, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(!e.contains("without each issue's quantity"), "{e}");
    }

    /// A report that repeats (drug, date) across the row is a clear error; one drug column
    /// and a numbered other column is not.
    #[test]
    fn repeated_drug_and_date_columns_are_refused() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let wide = h(&[
            "Patient ID",
            "Practice",
            "Drug 1",
            "Date of issue 1",
            "Qty 1",
            "Drug 2",
            "Date of issue 2",
            "Qty 2",
        ]);
        let e = map_columns("r.csv", &wide, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("repeats a drug and a date across each row ('Drug 1', 'Drug 2', 'Date of issue 1', 'Date of issue 2')"), "{e}");
        assert!(e.contains("export one item per row"), "{e}");
        let fine = h(&[
            "patient_id",
            "practice_code",
            "issue_date",
            "drug_name",
            "quantity",
            "address 1",
            "address 2",
        ]);
        assert!(map_columns("f.csv", &fine, &ReadOptions::default()).is_ok());
    }

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
    fn headers_map_through_usual_spellings() {
        let h: Vec<String> = [
            "NHS Number",
            "Practice Code",
            "Date of Issue",
            "Medication",
            "Qty",
            "Dosage",
            "Course duration in days",
            "dmd_product_code_id",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let m = map_columns("x.csv", &h, &ReadOptions::default()).unwrap();
        assert_eq!(m["patient_id"], "NHS Number");
        assert_eq!(m["issue_date"], "Date of Issue");
        assert_eq!(m["drug_name"], "Medication");
        assert_eq!(m["quantity"], "Qty");
        assert_eq!(m["dose_text"], "Dosage");
        assert_eq!(m["days_supply"], "Course duration in days");
        assert_eq!(m["dmd_code"], "dmd_product_code_id");
    }

    #[test]
    fn missing_and_explicit_columns() {
        let h: Vec<String> = ["Patient Ref", "practice", "date", "drug", "qty"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = format!(
            "{:#}",
            map_columns("x.csv", &h[1..], &ReadOptions::default()).unwrap_err()
        );
        assert!(
            e.contains("no column for patient_id")
                && e.contains("found: practice, date, drug, qty")
                && e.contains("hint:"),
            "{e}"
        );
        let mut opts = ReadOptions::default();
        opts.column_map
            .insert("patient_id".into(), "Patient Ref".into());
        let m = map_columns("x.csv", &h, &opts).unwrap();
        assert_eq!(m["patient_id"], "Patient Ref");
        let epd: Vec<String> = [
            "YEAR_MONTH",
            "PRACTICE_CODE",
            "BNF_CODE",
            "ITEMS",
            "TOTAL_QUANTITY",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let e = format!(
            "{:#}",
            map_columns("e.csv", &epd, &ReadOptions::default()).unwrap_err()
        );
        assert!(e.contains("opal epd"), "{e}");
        let dup: Vec<String> = ["a", "A"].iter().map(|s| s.to_string()).collect();
        let e = format!(
            "{:#}",
            map_columns("d.csv", &dup, &ReadOptions::default()).unwrap_err()
        );
        assert!(e.contains("appears twice"), "{e}");
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
