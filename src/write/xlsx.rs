//! review_list.xlsx (`--xlsx`, issue 17): the review list as a spreadsheet that opens well in
//! Excel — a frozen header row, filters, column widths, dates as dates, numbers as numbers,
//! true/false as booleans, a drop-down for the outcome — and a second sheet explaining each
//! column. The columns and cells are the review list's own declaration
//! ([`crate::write::patients::COLUMNS`]).
//!
//! A run writes one workbook for the whole list and one in every practice pack, all alike
//! but for the list's rows. rust_xlsxwriter makes, once per run, a workbook holding
//! everything that is the same in all of them ([`ReviewWorkbook`]: the styles, the theme,
//! the columns sheet, the document's properties). Each list's workbook is that one's parts
//! copied as they are compressed, with its own list sheet written here, row by row, into
//! the zip. 5,000 packs' workbooks cost what their rows cost, not 5,000 times a workbook's
//! fixed cost in rust_xlsxwriter (a theme, styles and a second sheet built and compressed, a
//! thread per sheet: 0.4 ms each, BENCHMARKS.md), and a list of 120,000 patients is streamed
//! into its file without a temporary file (whose failed write, on a full disk, rust_xlsxwriter
//! met with a panic).

use std::io::{Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::engine::PatientRow;
use crate::values::{civil_from_days, Day};
use crate::write::cells::Cell;
use crate::write::table::write_atomically;

/// The columns the practice fills in (issue 26.5), after the list's own, and what to put in
/// them; `opal audit --reviews` reads them back the month after.
pub const FILL_IN: [(&str, &str); 3] = [
    ("outcome", "Fill in: what the review decided (reviewed - no change; taper agreed; referred; not appropriate; could not contact). Give this workbook to next month's audit with --reviews."),
    ("review_date", "Fill in: the date of the review."),
    ("next_review", "Fill in: when to review again; until then the list shows 'review due on' that date, in the patient's tier."),
];

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> anyhow::Error {
    anyhow!("{e}")
}

/// A zip error; a file's own error (a full disk) as itself.
fn zip_err(e: zip::result::ZipError) -> anyhow::Error {
    match e {
        zip::result::ZipError::Io(e) => e.into(),
        e => e.into(),
    }
}

/// A day as an Excel date.
fn excel_date(d: Day) -> Result<ExcelDateTime> {
    let (y, m, dd) = civil_from_days(d);
    let y = u16::try_from(y).map_err(|_| anyhow!("the year {y} cannot be an Excel date"))?;
    ExcelDateTime::from_ymd(y, m as u8, dd as u8).map_err(xlsx_err)
}

/// Excel's limit on the characters of one cell (it counts UTF-16 units).
pub const EXCEL_MAX_CELL: usize = 32_767;
/// Excel's limit on the rows of a sheet, the header's among them.
pub const EXCEL_MAX_ROWS: usize = 1_048_576;

/// A cell's text as Excel can hold it: the characters XML refuses replaced
/// (write/markup.rs), and a text over [`EXCEL_MAX_CELL`] cut with a visible marker that says
/// how much was cut and where the whole is. `cut` counts the cells cut.
fn excel_text<'a>(s: &'a str, cut: &mut usize) -> std::borrow::Cow<'a, str> {
    let s = crate::write::markup::xml_chars(s);
    let units = s.encode_utf16().count();
    if units <= EXCEL_MAX_CELL {
        return s;
    }
    *cut += 1;
    let marker = format!(
        " … [cut: {units} characters, Excel holds {EXCEL_MAX_CELL}; the whole text is in \
         review_list.csv]"
    );
    let room = EXCEL_MAX_CELL - marker.encode_utf16().count();
    let mut kept = String::with_capacity(room);
    let mut used = 0;
    for c in s.chars() {
        used += c.len_utf16();
        if used > room {
            break;
        }
        kept.push(c);
    }
    kept.push_str(&marker);
    std::borrow::Cow::Owned(kept)
}

/// The list sheet's and the workbook's part names in the zip.
const SHEET: &str = "xl/worksheets/sheet1.xml";
const BOOK: &str = "xl/workbook.xml";

/// The parts every review-list workbook of a run shares, made once by rust_xlsxwriter: a
/// whole workbook whose list sheet has only the header row (and a row of a date and a
/// decimal, so that their styles exist), and what the list sheets written here take from it.
///
/// What is taken from its XML (the header row, the two cells' style numbers, the filter's
/// range in workbook.xml) is found by text, as rust_xlsxwriter 0.96 writes it; a version
/// that wrote them otherwise makes [`ReviewWorkbook::new`] fail with what it did not find,
/// and every `--xlsx` test with it.
pub struct ReviewWorkbook {
    /// The template workbook's bytes.
    template: Vec<u8>,
    /// Its list sheet's header row, as rust_xlsxwriter wrote it (shared strings, bold).
    header_row: String,
    /// The style numbers of a date and of a one-decimal number.
    date_style: u32,
    decimals_style: u32,
    /// xl/workbook.xml split where the filter's last row goes.
    book: (String, String),
    /// The letters of the sheet's last column (the last fill-in one).
    last_col: String,
}

/// A column's letters: 0 is A, 26 is AA.
fn column_letters(mut j: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (j % 26) as u8);
        if j < 26 {
            break;
        }
        j = j / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// The style number of a cell of a sheet rust_xlsxwriter wrote (`<c r="B2" s="4">`).
fn style_of(sheet: &str, cell: &str) -> Result<u32> {
    let at = format!("<c r=\"{cell}\" s=\"");
    let from = sheet
        .find(&at)
        .map(|i| i + at.len())
        .ok_or_else(|| anyhow!("the template workbook has no styled cell {cell}"))?;
    let digits: String = sheet[from..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .map_err(|_| anyhow!("the template workbook's cell {cell} has no style number"))
}

/// One part of a zip, read whole.
fn part(zip: &mut ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<String> {
    let mut s = String::new();
    zip.by_name(name).map_err(zip_err)?.read_to_string(&mut s)?;
    Ok(s)
}

impl ReviewWorkbook {
    /// The run's template. The workbook's creation date is the audit date, so that the same
    /// inputs give the same bytes (as every output of opal).
    pub fn new(as_of: Day) -> Result<ReviewWorkbook> {
        ReviewWorkbook::make(as_of).with_context(|| {
            crate::error::Diagnostic::error("cannot make the run's review_list.xlsx template")
                .hint("the review list is in review_list.csv; run without --xlsx, and report this")
        })
    }

    fn make(as_of: Day) -> Result<ReviewWorkbook> {
        let columns: Vec<_> = crate::write::patients::columns(false).collect();
        let names: Vec<&'static str> = columns
            .iter()
            .map(|c| c.name)
            .chain(FILL_IN.iter().map(|f| f.0))
            .collect();
        let last_col = column_letters(names.len() - 1);
        let mut wb = Workbook::new();
        if let Ok(created) = excel_date(as_of) {
            wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
        }
        let header = Format::new().set_bold().set_background_color("#F0F4F5");
        let fill = Format::new().set_bold().set_background_color("#FFF9C4");
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let decimals = Format::new().set_num_format("0.0");
        let ws = wb.add_worksheet();
        ws.set_name("review list").map_err(xlsx_err)?;
        for (j, name) in names.iter().enumerate() {
            let format = if j < columns.len() { &header } else { &fill };
            ws.write_string_with_format(0, j as u16, *name, format)
                .map_err(xlsx_err)?;
        }
        ws.write_datetime_with_format(
            1,
            0,
            ExcelDateTime::from_ymd(2000, 1, 1).map_err(xlsx_err)?,
            &date,
        )
        .map_err(xlsx_err)?;
        ws.write_number_with_format(1, 1, 0.5, &decimals)
            .map_err(xlsx_err)?;
        // The filter's range, named in workbook.xml: each list's own last row goes in its
        // place.
        ws.autofilter(0, 0, 1, names.len() as u16 - 1)
            .map_err(xlsx_err)?;
        let about = wb.add_worksheet();
        about.set_name("columns").map_err(xlsx_err)?;
        about
            .write_string_with_format(0, 0, "column", &header)
            .map_err(xlsx_err)?;
        about
            .write_string_with_format(0, 1, "what it holds", &header)
            .map_err(xlsx_err)?;
        let explained = columns
            .iter()
            .map(|c| (c.name, c.meaning))
            .chain(FILL_IN.iter().copied());
        for (i, (name, meaning)) in explained.enumerate() {
            about
                .write_string(i as u32 + 1, 0, name)
                .map_err(xlsx_err)?;
            about
                .write_string(i as u32 + 1, 1, meaning)
                .map_err(xlsx_err)?;
        }
        about.set_column_width(0, 26).map_err(xlsx_err)?;
        about.set_column_width(1, 100).map_err(xlsx_err)?;
        let template = wb.save_to_buffer().map_err(xlsx_err)?;
        let mut zip = ZipArchive::new(Cursor::new(&template[..])).map_err(zip_err)?;
        let sheet = part(&mut zip, SHEET)?;
        let header_row = {
            let from = sheet
                .find("<row r=\"1\"")
                .ok_or_else(|| anyhow!("the template workbook has no header row"))?;
            let to = from
                + sheet[from..]
                    .find("</row>")
                    .ok_or_else(|| anyhow!("the template workbook's header row is not closed"))?
                + "</row>".len();
            sheet[from..to].to_string()
        };
        let range = format!("'review list'!$A$1:${last_col}$2<");
        let book = part(&mut zip, BOOK)?;
        if book.matches(&range).count() != 1 {
            bail!("the template workbook does not name the filter's range {range} once");
        }
        let at = book.find(&range).unwrap_or_default() + range.len() - 2;
        let book = (book[..at].to_string(), book[at + 1..].to_string());
        let (date_style, decimals_style) = (style_of(&sheet, "A2")?, style_of(&sheet, "B2")?);
        drop(zip);
        Ok(ReviewWorkbook {
            template,
            header_row,
            date_style,
            decimals_style,
            book,
            last_col,
        })
    }
}

/// Write `<dir>/review_list.xlsx` from the review list's rows.
/// Returns the path and what had to give way to Excel's limits (cells cut, rows left out),
/// for the manifest's warnings: a limit never stops the run.
pub fn write_review_xlsx(
    dir: &Path,
    rows: &[&PatientRow],
    book: &ReviewWorkbook,
) -> Result<(PathBuf, Vec<String>)> {
    let path = dir.join("review_list.xlsx");
    let mut warnings = Vec::new();
    write_atomically(&path, |w| workbook(w, rows, book, &mut warnings)).with_context(|| {
        crate::error::Diagnostic::error(format!("cannot write {}", path.display()))
            .hint("the review list is also in review_list.csv")
    })?;
    Ok((path, warnings))
}

/// The file under a workbook's zip: after its first error (a full disk), it takes what is
/// written without writing it, keeping count of where it would be. The run has its error
/// already; without this the zip writer, dropped unfinished, would try to finish the archive
/// and print a message of its own on stderr.
struct Quiet<W> {
    inner: W,
    failed: bool,
    at: u64,
    end: u64,
}

impl<W> Quiet<W> {
    fn new(inner: W) -> Quiet<W> {
        Quiet {
            inner,
            failed: false,
            at: 0,
            end: 0,
        }
    }

    fn moved(&mut self, at: u64) {
        self.at = at;
        self.end = self.end.max(at);
    }
}

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.failed {
            match self.inner.write(buf) {
                Ok(n) => {
                    self.moved(self.at + n as u64);
                    return Ok(n);
                }
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
        }
        self.moved(self.at + buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.failed {
            return Ok(());
        }
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
}

impl<W: Seek> Seek for Quiet<W> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        use std::io::SeekFrom;
        if !self.failed {
            match self.inner.seek(to) {
                Ok(at) => {
                    self.moved(at);
                    return Ok(at);
                }
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
        }
        let at = match to {
            SeekFrom::Start(n) => n,
            SeekFrom::Current(d) => self.at.saturating_add_signed(d),
            SeekFrom::End(d) => self.end.saturating_add_signed(d),
        };
        self.moved(at);
        Ok(at)
    }
}

/// The workbook: the template's parts copied as they are, but for the list sheet (written
/// here) and workbook.xml (the filter's range).
fn workbook<W: Write + Seek>(
    w: W,
    rows: &[&PatientRow],
    book: &ReviewWorkbook,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let mut template = ZipArchive::new(Cursor::new(&book.template[..])).map_err(zip_err)?;
    let mut zip = ZipWriter::new(Quiet::new(w));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        // zlib's level 3, not its default 6: of 5,000 packs' workbooks and a list of 121,685
        // patients, 0.9 s less CPU (a seventh of the run's) for files 23% larger (13.8 to
        // 17.0 MB for that list; a pack's, 10 KB to 12; BENCHMARKS.md).
        .compression_level(Some(3))
        .unix_permissions(0o600)
        .last_modified_time(DateTime::default());
    let shown = rows.len().min(EXCEL_MAX_ROWS - 1);
    if shown < rows.len() {
        warnings.push(format!(
            "{} of the review list's {} patients are in the workbook (Excel holds {} rows); \
             review_list.csv has them all",
            shown,
            rows.len(),
            EXCEL_MAX_ROWS
        ));
    }
    for i in 0..template.len() {
        let part = template.by_index_raw(i).map_err(zip_err)?;
        match part.name() {
            SHEET => {
                drop(part);
                zip.start_file(SHEET, options).map_err(zip_err)?;
                let cut = list_sheet(&mut zip, &rows[..shown], book)?;
                if cut > 0 {
                    warnings.push(format!(
                        "{cut} cell(s) longer than Excel's {EXCEL_MAX_CELL} characters were \
                         cut, each with a marker; review_list.csv has them whole"
                    ));
                }
            }
            BOOK => {
                drop(part);
                // Its few hundred bytes are stored: a compressor's buffers cost more than
                // they would save.
                zip.start_file(
                    BOOK,
                    options
                        .compression_method(CompressionMethod::Stored)
                        .compression_level(None),
                )
                .map_err(zip_err)?;
                write!(zip, "{}{}{}", book.book.0, shown + 1, book.book.1)?;
            }
            _ => zip.raw_copy_file(part).map_err(zip_err)?,
        }
    }
    zip.finish().map_err(zip_err)?.flush()?;
    Ok(())
}

/// A text for a cell of the sheet: XML's escapes, and Excel's own `_xHHHH_` for a control
/// character (and for such a sequence in the text itself, so that Excel shows it as written).
fn push_text(o: &mut String, s: &str) {
    let mut rest = s;
    while let Some(at) = rest.find("_x") {
        let seq = rest.as_bytes().get(at + 2..at + 7);
        let escape = seq.is_some_and(|b| b[..4].iter().all(u8::is_ascii_hexdigit) && b[4] == b'_');
        push_escaped(o, &rest[..at]);
        if escape {
            o.push_str("_x005F");
        }
        o.push_str("_x");
        rest = &rest[at + 2..];
    }
    push_escaped(o, rest);
}

fn push_escaped(o: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\t' | '\n' => o.push(c),
            c if (c as u32) < 0x20 => o.push_str(&format!("_x{:04X}_", c as u32)),
            c => o.push(c),
        }
    }
}

/// The list sheet: frozen header, column widths from the cells, the rows, the filter and
/// the outcome's drop-down. Returns the number of cells cut to Excel's limit.
fn list_sheet(w: &mut impl Write, rows: &[&PatientRow], book: &ReviewWorkbook) -> Result<usize> {
    use std::fmt::Write as _;
    let columns: Vec<_> = crate::write::patients::columns(false).collect();
    let last_col = &book.last_col;
    let last_row = rows.len() + 1;
    // Widths: a column's name or its widest cell, two characters more, at most 60.
    let mut widths: Vec<usize> = columns.iter().map(|c| c.name.len() + 2).collect();
    for r in rows {
        for (j, c) in columns.iter().enumerate() {
            let width = match (c.cell)(r) {
                Cell::Text(s) | Cell::OptText(Some(s)) => s.chars().count(),
                Cell::Number(Some(_)) => 8,
                Cell::Integer(Some(_)) => 6,
                Cell::Flag(Some(_)) => 5,
                Cell::Date(Some(_)) => 10,
                _ => 0,
            };
            widths[j] = widths[j].max(width + 2);
        }
    }
    let mut o = String::with_capacity(64 * 1024);
    o.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet \
         xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">",
    );
    write!(
        o,
        "<dimension ref=\"A1:{last_col}{last_row}\"/><sheetViews><sheetView tabSelected=\"1\" \
         workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" \
         state=\"frozen\"/><selection pane=\"bottomLeft\"/></sheetView></sheetViews>\
         <sheetFormatPr defaultRowHeight=\"15\"/><cols>"
    )?;
    // Excel's width of n characters of its default font (rust_xlsxwriter's conversion).
    let col = |o: &mut String, j: usize, chars: usize, style: Option<u32>| {
        let style = style.map(|s| format!(" style=\"{s}\"")).unwrap_or_default();
        let _ = write!(
            o,
            "<col min=\"{n}\" max=\"{n}\" width=\"{}\"{style} customWidth=\"1\"/>",
            chars.min(60) as f64 + 0.7109375,
            n = j + 1
        );
    };
    for (j, chars) in widths.iter().enumerate() {
        col(&mut o, j, *chars, None);
    }
    // The fill-in columns: the outcome from a drop-down, the dates as dates.
    for k in 0..FILL_IN.len() {
        let (chars, style) = if k == 0 {
            (24, None)
        } else {
            (13, Some(book.date_style))
        };
        col(&mut o, columns.len() + k, chars, style);
    }
    o.push_str("</cols><sheetData>");
    o.push_str(&book.header_row);
    let mut cut = 0;
    let letters: Vec<String> = (0..columns.len()).map(column_letters).collect();
    for (i, r) in rows.iter().enumerate() {
        let n = i + 2;
        write!(o, "<row r=\"{n}\">")?;
        for (j, c) in columns.iter().enumerate() {
            let at = &letters[j];
            match (c.cell)(r) {
                Cell::Text(s) | Cell::OptText(Some(s)) if !s.is_empty() => {
                    let s = excel_text(s, &mut cut);
                    let space = [' ', '\t', '\n'];
                    let preserve = if s.starts_with(space) || s.ends_with(space) {
                        " xml:space=\"preserve\""
                    } else {
                        ""
                    };
                    write!(o, "<c r=\"{at}{n}\" t=\"inlineStr\"><is><t{preserve}>")?;
                    push_text(&mut o, &s);
                    o.push_str("</t></is></c>");
                }
                Cell::Number(Some(v)) if v.is_finite() => {
                    write!(
                        o,
                        "<c r=\"{at}{n}\" s=\"{}\"><v>{v}</v></c>",
                        book.decimals_style
                    )?;
                }
                Cell::Integer(Some(v)) => write!(o, "<c r=\"{at}{n}\"><v>{v}</v></c>")?,
                Cell::Flag(Some(b)) => {
                    write!(o, "<c r=\"{at}{n}\" t=\"b\"><v>{}</v></c>", u8::from(b))?;
                }
                Cell::Date(Some(d)) => match excel_date(d) {
                    Ok(when) => write!(
                        o,
                        "<c r=\"{at}{n}\" s=\"{}\"><v>{}</v></c>",
                        book.date_style,
                        when.to_excel()
                    )?,
                    // A date Excel cannot hold (before 1900) is written as its text.
                    Err(_) => write!(
                        o,
                        "<c r=\"{at}{n}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                        crate::values::format_day(d)
                    )?,
                },
                _ => {}
            }
        }
        o.push_str("</row>");
        if o.len() >= 48 * 1024 {
            w.write_all(o.as_bytes())?;
            o.clear();
        }
    }
    let outcome = column_letters(columns.len());
    let outcomes = crate::followup::OUTCOMES.join(",");
    write!(
        o,
        "</sheetData><autoFilter ref=\"A1:{last_col}{last_row}\"/><dataValidations count=\"1\">\
         <dataValidation type=\"list\" allowBlank=\"1\" showInputMessage=\"1\" \
         showErrorMessage=\"1\" errorTitle=\"Outcome\" error=\"Choose one of the list's \
         outcomes.\" sqref=\"{outcome}2:{outcome}{}\"><formula1>\"{outcomes}\"</formula1>\
         </dataValidation></dataValidations><pageMargins left=\"0.7\" right=\"0.7\" \
         top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>",
        last_row.max(2)
    )?;
    w.write_all(o.as_bytes())?;
    Ok(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell of 40,000 characters is cut to exactly Excel's 32,767 (UTF-16 units), ending
    /// with the marker; one of 32,767 is kept whole; a character outside the BMP counts two.
    #[test]
    fn long_cells_are_cut_to_excels_limit_with_a_marker() {
        let mut cut = 0;
        let long = "x".repeat(40_000);
        let c = excel_text(&long, &mut cut);
        assert_eq!(c.encode_utf16().count(), EXCEL_MAX_CELL);
        assert!(
            c.ends_with(
                "[cut: 40000 characters, Excel holds 32767; the whole text is in review_list.csv]"
            ),
            "{}",
            &c[c.len() - 120..]
        );
        assert_eq!(cut, 1);
        let edge = "y".repeat(EXCEL_MAX_CELL);
        assert_eq!(excel_text(&edge, &mut cut), edge);
        assert_eq!(cut, 1);
        let wide = "\u{1f600}".repeat(20_000);
        let c = excel_text(&wide, &mut cut);
        assert!(c.encode_utf16().count() <= EXCEL_MAX_CELL);
        assert!(c.encode_utf16().count() >= EXCEL_MAX_CELL - 1);
        assert_eq!(cut, 2);
        assert_eq!(excel_text("a\u{fffe}b", &mut cut), "a\u{fffd}b");
    }

    #[test]
    fn columns_are_lettered_as_excel_does() {
        let got: Vec<String> = [0, 25, 26, 33, 51, 52, 701, 702, 16_383]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(got, ["A", "Z", "AA", "AH", "AZ", "BA", "ZZ", "AAA", "XFD"]);
    }

    /// XML's three escapes; a control character as Excel writes it; a text that looks like
    /// one of Excel's escapes has its underscore escaped, so that Excel shows it as written;
    /// one that only nearly does is kept.
    #[test]
    fn text_is_escaped_for_xml_and_for_excel() {
        let mut o = String::new();
        push_text(&mut o, "a<b>&c\r\td\n_x0041_ _x00E9_x _xZZ41_ _x004_ _x");
        assert_eq!(
            o,
            "a&lt;b&gt;&amp;c_x000D_\td\n_x005F_x0041_ _x005F_x00E9_x _xZZ41_ _x004_ _x"
        );
    }

    /// A file that takes `room` bytes, then fails as a full disk does.
    struct Full {
        room: usize,
        at: u64,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room < buf.len() {
                return Err(std::io::ErrorKind::StorageFull.into());
            }
            self.room -= buf.len();
            self.at += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Full {
        fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
            if let std::io::SeekFrom::Start(n) = to {
                self.at = n;
            }
            Ok(self.at)
        }
    }

    /// A full disk part way through a workbook is the file's own error (not a zip error
    /// around it), at every point it can come; a file with room enough gives a workbook.
    #[test]
    fn a_full_disk_is_the_workbooks_error() {
        let book =
            ReviewWorkbook::new(crate::values::days_from_civil(2026, 10, 31).unwrap()).unwrap();
        let mut whole = Cursor::new(Vec::new());
        workbook(&mut whole, &[], &book, &mut Vec::new()).unwrap();
        let size = whole.get_ref().len();
        for room in [0, 30, size / 4, size / 2, size - 100, size - 1] {
            let e = workbook(Full { room, at: 0 }, &[], &book, &mut Vec::new()).unwrap_err();
            let io = e.downcast_ref::<std::io::Error>().map(|e| e.kind());
            assert_eq!(io, Some(std::io::ErrorKind::StorageFull), "{room}: {e:#}");
        }
        // Room for it all (the zip writes each part's header twice: before, then with its sizes).
        workbook(
            Full {
                room: 2 * size,
                at: 0,
            },
            &[],
            &book,
            &mut Vec::new(),
        )
        .unwrap();
        let mut back = ZipArchive::new(Cursor::new(whole.into_inner())).unwrap();
        let sheet = part_of(&mut back, SHEET);
        assert!(sheet.contains("<autoFilter ref=\"A1:"), "{sheet}");
        assert!(part_of(&mut back, BOOK).contains("$1</definedName>"));
    }

    fn part_of(zip: &mut ZipArchive<Cursor<Vec<u8>>>, name: &str) -> String {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn every_column_is_explained() {
        for c in crate::write::patients::COLUMNS {
            assert!(
                c.meaning.ends_with('.') && c.meaning.len() > 10,
                "{} has no meaning for the columns sheet",
                c.name
            );
        }
    }
}
