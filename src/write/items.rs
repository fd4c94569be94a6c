//! `items`, the trace of every opioid item: its columns declared once ([`COLUMNS`]: name,
//! type, where the value comes from, the cell of an item), used by the CSV writer and by the
//! Parquet frames, so the two cannot drift apart.
//!
//! items.csv is the largest output (one row per opioid item, ~160 bytes each), so it is
//! formatted and written on its own thread from each chunk's items as the audit makes them,
//! instead of all at the end. The thread keeps its own copies of the products, dose texts,
//! practices and patients the items refer to (the audit sends what is new with each batch),
//! and formats the cells that come from a product, a dose text, a practice or a day once each
//! ([`Source`]), reusing them for every item that shares it.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{anyhow, Context, Result};
use polars::prelude::{
    Column as PlColumn, DataFrame, NamedFrom, PlHashMap, PlHashSet, PolarsResult, Series,
};

use crate::engine::{
    item_values, AuditConfig, AuditResult, DoseUse, Item, ItemBatch, ItemSink, ItemValues,
    PatientRow, ProductUse,
};
use crate::write::cells::{push_cell, Cell, Kind};
use crate::write::columns::{CellOf, Column, Rows};

/// What a cell's value depends on. Cells of a product, a dose text, a practice or a day are
/// formatted once per distinct one by the CSV writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The item itself (its file and line).
    Item,
    /// The item's supply: its quantity, and the days of supply and OME worked out from the
    /// quantity, the stated days, the product and the dose text (nothing else), so that
    /// items that share all four share these cells' text.
    Supply,
    Patient,
    Practice,
    Day,
    Product,
    Dose,
}

/// One item with what it refers to.
pub struct ItemRow<'a> {
    pub item: &'a Item,
    pub patient: &'a str,
    pub practice: &'a str,
    pub product: &'a ProductUse,
    pub dose: &'a DoseUse,
    pub values: &'a ItemValues,
}

impl Rows for ItemRow<'_> {
    type Row<'a> = ItemRow<'a>;
    type Tag = Source;
}

type I = ItemRow<'static>;

const fn col(
    name: &'static str,
    kind: Kind,
    source: Source,
    meaning: &'static str,
    cell: CellOf<I>,
) -> Column<I> {
    Column::<I>::tagged(source, name, kind, meaning, cell)
}

use Kind::{Date, Flag, Integer, Number, Text};

/// The columns of `items`, in order.
pub const COLUMNS: &[Column<I>] = &[
    col(
        "file",
        Integer,
        Source::Item,
        "The extract the item is in: its place among the files given, from 1.",
        |r| {
        Cell::Integer(Some(i64::from(r.item.file) + 1))
    }),
    col(
        "line",
        Integer,
        Source::Item,
        "Its line in that file; the header is line 1.",
        |r| {
        Cell::Integer(Some(r.item.line as i64))
    }),
    col(
        "patient_id",
        Text,
        Source::Patient,
        "The patient, as the extract identifies them.",
        |r| {
        Cell::Text(r.patient)
    }),
    col(
        "practice_code",
        Text,
        Source::Practice,
        "The practice that issued it.",
        |r| {
        Cell::Text(r.practice)
    }),
    col(
        "issue_date",
        Date,
        Source::Day,
        "The date it was issued.",
        |r| {
        Cell::Date(Some(r.item.issue_day))
    }),
    col(
        "product_name",
        Text,
        Source::Product,
        "The dm+d product it resolved to.",
        |r| {
        Cell::Text(&r.product.product.name)
    }),
    col(
        "matched_by",
        Text,
        Source::Product,
        "How: dmd (its dm+d code), bnf (its BNF code) or name.",
        |r| {
        Cell::Text(r.product.matched_by)
    }),
    col(
        "dmd_id",
        Text,
        Source::Product,
        "The product's dm+d id.",
        |r| {
        Cell::Text(&r.product.product.dmd_id)
    }),
    col(
        "product_key",
        Text,
        Source::Product,
        "The generic product: ingredient, route, release and strength.",
        |r| {
        Cell::Text(&r.product.product.product_key)
    }),
    col(
        "ingredient",
        Text,
        Source::Product,
        "The opioid.",
        |r| {
        Cell::Text(&r.product.product.ingredient)
    }),
    col(
        "route",
        Text,
        Source::Product,
        "oral, transdermal, buccal, and so on.",
        |r| {
        Cell::Text(r.product.product.route.as_str())
    }),
    col(
        "strength",
        Number,
        Source::Product,
        "The strength of one unit.",
        |r| {
        Cell::Number(Some(r.product.product.strength))
    }),
    col(
        "strength_unit",
        Text,
        Source::Product,
        "Its unit: mg, microgram, mg/ml, or micrograms an hour for a patch.",
        |r| {
        Cell::Text(r.product.product.strength_unit.as_str())
    }),
    col(
        "factor",
        Number,
        Source::Product,
        "The conversion factor to oral morphine (the factor set's, METHOD.md §4).",
        |r| {
        Cell::Number(Some(r.product.factor))
    }),
    col(
        "quantity",
        Number,
        Source::Supply,
        "The quantity supplied, in the product's units.",
        |r| {
        Cell::Number(Some(r.item.quantity))
    }),
    col(
        "unit",
        Text,
        Source::Product,
        "The product's unit: tablet, capsule, ml, patch, and so on.",
        |r| {
        Cell::Text(&r.product.product.unit)
    }),
    col(
        "dose_text",
        Text,
        Source::Dose,
        "The dose directions, as written.",
        |r| {
        Cell::Text(&r.dose.text)
    }),
    // A supply's, not a dose text's: the same directions are `implausible` on a product
    // whose units they would put beyond any real regimen (METHOD.md §5).
    col(
        "dose_status",
        Text,
        Source::Supply,
        "parsed, partial, as_directed, unparsed, or implausible (beyond any real regimen, not used: METHOD.md §5).",
        |r| {
        Cell::Text(if r.values.dose_implausible {
            "implausible"
        } else {
            r.dose.parse.status.as_str()
        })
    }),
    col(
        "units_per_day",
        Number,
        Source::Supply,
        "Units a day, from the directions, where they could be read.",
        |r| {
        Cell::Number(r.values.units_per_day)
    }),
    col(
        "patches_at_once",
        Number,
        Source::Supply,
        "Patches worn at once, for a patch.",
        |r| {
        Cell::Number(r.values.patches_at_once)
    }),
    col(
        "days_supply",
        Number,
        Source::Supply,
        "The days the supply lasts (METHOD.md §5).",
        |r| {
        Cell::Number(Some(r.values.days_supply))
    }),
    col(
        "days_supply_source",
        Text,
        Source::Supply,
        "Where the days come from: explicit (stated), dose (quantity ÷ units a day), patch_wear, or default (assumed).",
        |r| {
        Cell::Text(r.values.days_supply_source.as_str())
    }),
    col(
        "days_supply_disagree",
        Flag,
        Source::Supply,
        "A stated duration and quantity ÷ daily units differ by more than half.",
        |r| {
        Cell::Flag(r.values.days_supply_disagree)
    }),
    col(
        "total_ome_mg",
        Number,
        Source::Supply,
        "The OME mg of the whole supply: quantity × strength × factor.",
        |r| {
        Cell::Number(Some(r.values.total_ome_mg))
    }),
    col(
        "ome_mg_day",
        Number,
        Source::Supply,
        "The supply's OME a day: total OME ÷ days of supply.",
        |r| {
        Cell::Number(Some(r.values.total_ome_mg / r.values.days_supply))
    }),
    col(
        "instructed_ome_mg_day",
        Number,
        Source::Supply,
        "OME a day as the directions say, where they can be read.",
        |r| {
        Cell::Number(r.values.instructed_ome_mg_day)
    }),
];

/// The header line of items.csv.
pub fn header() -> String {
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    format!("{}\n", names.join(","))
}

/// Runs of consecutive columns from one source: the CSV writer's unit of formatting.
fn runs() -> Vec<(Source, std::ops::Range<usize>)> {
    let mut runs: Vec<(Source, std::ops::Range<usize>)> = Vec::new();
    for (i, c) in COLUMNS.iter().enumerate() {
        match runs.last_mut() {
            Some((s, r)) if *s == c.tag => r.end = i + 1,
            _ => runs.push((c.tag, i..i + 1)),
        }
    }
    runs
}

/// The writing thread's copies of what items refer to, and the text of each shared run of
/// cells (with its trailing comma), formatted the first time it is needed.
/// The tables are the audit's own, borrowed, when every item is known (`--items review`), or
/// copies of each batch's new entries while the extracts are being read.
#[derive(Default)]
struct Mirror<'a> {
    patients: Cow<'a, [String]>,
    practices: Cow<'a, [String]>,
    products: Cow<'a, [ProductUse]>,
    doses: Cow<'a, [DoseUse]>,
    runs: Vec<(Source, std::ops::Range<usize>)>,
    /// Per run: per id of its source (product, dose, practice, supply; day − first day), the
    /// text.
    formatted: Vec<Vec<Option<Box<[u8]>>>>,
    first_day: Option<crate::values::Day>,
    /// The id of each distinct supply: (product, dose text, quantity, stated days), the
    /// numbers as their bits (a day count not stated is always the same NaN).
    supplies: PlHashMap<(u32, u32, u64, u64), u32>,
    /// How many supplies' text is kept ([`SUPPLIES_KEPT`]).
    supplies_kept: usize,
}

/// Distinct supplies whose text is kept: beyond this many (an extract where nearly every
/// item's quantity differs), the rest are formatted item by item, so memory stays bounded.
const SUPPLIES_KEPT: usize = 1 << 18;

impl<'a> Mirror<'a> {
    fn new() -> Mirror<'a> {
        let runs = runs();
        Mirror {
            formatted: vec![Vec::new(); runs.len()],
            runs,
            supplies_kept: SUPPLIES_KEPT,
            ..Mirror::default()
        }
    }

    /// The audit's tables, borrowed.
    fn of(r: &'a AuditResult) -> Mirror<'a> {
        Mirror {
            patients: Cow::Borrowed(&r.patient_ids),
            practices: Cow::Borrowed(&r.practice_codes),
            products: Cow::Borrowed(&r.products),
            doses: Cow::Borrowed(&r.doses),
            ..Mirror::new()
        }
    }

    fn take(&mut self, b: &mut ItemBatch) {
        self.practices.to_mut().append(&mut b.practices);
        self.patients.to_mut().append(&mut b.patients);
        self.products.to_mut().append(&mut b.products);
        self.doses.to_mut().append(&mut b.doses);
    }

    /// items.csv rows of some items, in [`COLUMNS`] order.
    fn format(&mut self, items: &[Item], config: &AuditConfig, out: &mut Vec<u8>) {
        let mut num = String::new();
        let mut cell = Vec::new();
        for i in items {
            let (p, d) = (i.product as usize, i.dose as usize);
            let v = item_values(i, &self.products[p], &self.doses[d], config);
            let row = ItemRow {
                item: i,
                patient: &self.patients[i.patient as usize],
                practice: &self.practices[i.practice as usize],
                product: &self.products[p],
                dose: &self.doses[d],
                values: &v,
            };
            let first_day = *self.first_day.get_or_insert(i.issue_day);
            let key = (
                i.product,
                i.dose,
                i.quantity.to_bits(),
                i.explicit_days.to_bits(),
            );
            let supply = match self.supplies.get(&key) {
                Some(&id) => Some(id as usize),
                None if self.supplies.len() < self.supplies_kept => {
                    let id = self.supplies.len();
                    self.supplies.insert(key, id as u32);
                    Some(id)
                }
                None => None,
            };
            let last = self.runs.len() - 1;
            for (k, (source, range)) in self.runs.iter().enumerate() {
                let id = match source {
                    Source::Item | Source::Patient => None,
                    Source::Supply => supply,
                    Source::Practice => Some(i.practice as usize),
                    Source::Product => Some(p),
                    Source::Dose => Some(d),
                    // Days before the first are rare (files out of order): not kept.
                    Source::Day => usize::try_from(i.issue_day - first_day).ok(),
                };
                let format = |out: &mut Vec<u8>, num: &mut String| {
                    for c in &COLUMNS[range.clone()] {
                        push_cell(out, num, &(c.cell)(&row));
                        out.push(b',');
                    }
                };
                match id {
                    None => format(out, &mut num),
                    Some(id) => {
                        let texts = &mut self.formatted[k];
                        if texts.len() <= id {
                            texts.resize(id + 1, None);
                        }
                        let text = texts[id].get_or_insert_with(|| {
                            cell.clear();
                            format(&mut cell, &mut num);
                            cell.as_slice().into()
                        });
                        out.extend_from_slice(text);
                    }
                }
                if k == last {
                    // The row ends with a line break, not a comma.
                    out.pop();
                    out.push(b'\n');
                }
            }
        }
    }
}

/// The items frame of some items (for Parquet), text cells borrowed from the interned values.
pub fn items_frame(
    r: &AuditResult,
    items: &[Item],
    config: &AuditConfig,
) -> PolarsResult<DataFrame> {
    let values: Vec<ItemValues> = items.iter().map(|i| r.item_values(i, config)).collect();
    let rows: Vec<ItemRow> = items
        .iter()
        .zip(&values)
        .map(|(i, v)| ItemRow {
            item: i,
            patient: &r.patient_ids[i.patient as usize],
            practice: &r.practice_codes[i.practice as usize],
            product: &r.products[i.product as usize],
            dose: &r.doses[i.dose as usize],
            values: v,
        })
        .collect();
    let columns: Vec<PlColumn> = COLUMNS
        .iter()
        .map(|c| {
            let cells = rows.iter().map(|row| (c.cell)(row));
            let name = c.name.into();
            let s = match c.kind {
                Text => {
                    let v: Vec<&str> = cells
                        .map(|cell| match cell {
                            Cell::Text(s) | Cell::OptText(Some(s)) => s,
                            _ => "",
                        })
                        .collect();
                    Series::new(name, v)
                }
                Date => {
                    let v: Vec<Option<String>> = cells.map(|cell| cell.text()).collect();
                    Series::new(name, v)
                }
                Number => Series::new(name, cells.map(|c| c.number()).collect::<Vec<_>>()),
                Integer => Series::new(name, cells.map(|c| c.integer()).collect::<Vec<_>>()),
                Flag => Series::new(name, cells.map(|c| c.flag()).collect::<Vec<_>>()),
            };
            s.into()
        })
        .collect();
    DataFrame::new_infer_height(columns)
}

/// items.csv being written on its own thread to a temporary file, moved into place by
/// [`ItemsWriter::finish`]; dropped unfinished (an error, `--strict`), the file is removed.
pub struct ItemsWriter {
    batches: Option<mpsc::SyncSender<ItemBatch>>,
    thread: Option<JoinHandle<Result<()>>>,
    temp: PathBuf,
}

impl ItemsWriter {
    /// Start writing to `temp` (on the file system of the final place, for the rename).
    pub fn start(temp: PathBuf, config: AuditConfig) -> Result<ItemsWriter> {
        let file =
            File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
        crate::interrupt::register(&temp);
        // A few chunks of items may wait; the audit waits beyond that, so memory is bounded.
        let (tx, rx) = mpsc::sync_channel::<ItemBatch>(4);
        let shown = temp.display().to_string();
        let thread = std::thread::Builder::new()
            .name("opal-items".into())
            .spawn(move || -> Result<()> {
                let mut w = BufWriter::with_capacity(1 << 20, file);
                w.write_all(header().as_bytes())?;
                let mut mirror = Mirror::new();
                let mut buf = Vec::new();
                for mut batch in rx {
                    mirror.take(&mut batch);
                    for items in batch.items.chunks(50_000) {
                        buf.clear();
                        mirror.format(items, &config, &mut buf);
                        w.write_all(&buf)?;
                    }
                }
                w.flush()?;
                crate::timing::lap("items.csv written");
                let file = w.into_inner().map_err(|e| anyhow!("{}", e.error()))?;
                file.sync_all()?;
                Ok(())
            })
            .with_context(|| format!("{shown}: cannot start the writing thread"))?;
        Ok(ItemsWriter {
            batches: Some(tx),
            thread: Some(thread),
            temp,
        })
    }

    /// Hand over a batch; an error when the writing thread has stopped (a full disk, say).
    fn send(&mut self, batch: ItemBatch) -> Result<()> {
        let sent = self
            .batches
            .as_ref()
            .is_some_and(|tx| tx.send(batch).is_ok());
        if sent {
            return Ok(());
        }
        self.batches = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => Err(e.context(format!("cannot write {}", self.temp.display()))),
            _ => Err(anyhow!("cannot write {}", self.temp.display())),
        }
    }

    /// Wait for the last rows, then move the file into place as `dest`.
    pub fn finish(mut self, dest: &Path) -> Result<PathBuf> {
        self.batches = None;
        let done = self.thread.take().map(JoinHandle::join);
        match done {
            Some(Ok(Ok(()))) => {}
            Some(Ok(Err(e))) => {
                return Err(e.context(format!("cannot write {}", dest.display())));
            }
            _ => return Err(anyhow!("cannot write {}", dest.display())),
        }
        std::fs::rename(&self.temp, dest)
            .with_context(|| format!("cannot move {} into place", dest.display()))?;
        crate::interrupt::unregister(&self.temp);
        Ok(dest.to_path_buf())
    }
}

impl Drop for ItemsWriter {
    fn drop(&mut self) {
        self.batches = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Gone already when moved into place.
        let _ = std::fs::remove_file(&self.temp);
        crate::interrupt::unregister(&self.temp);
    }
}

/// Which patients are on the review list (`--items review`), per interned patient id.
pub fn review_patients(r: &AuditResult, patients: &[PatientRow]) -> Vec<bool> {
    let listed: PlHashSet<&str> = patients
        .iter()
        .filter(|p| p.to_review())
        .map(|p| p.patient_id.as_str())
        .collect();
    r.patient_ids
        .iter()
        .map(|id| listed.contains(id.as_str()))
        .collect()
}

/// The items of the patients `on_list`, in the order of the rows, in blocks of `size` made as
/// they are needed (not a copy of them all); one empty block when there are none, so that an
/// empty output keeps its columns.
fn review_blocks<'a>(
    items: &'a [Item],
    on_list: &'a [bool],
    size: usize,
) -> impl Iterator<Item = Vec<Item>> + 'a {
    let mut listed = items
        .iter()
        .filter(|i| on_list[i.patient as usize])
        .peekable();
    let mut first = true;
    std::iter::from_fn(move || {
        if listed.peek().is_none() && !std::mem::take(&mut first) {
            return None;
        }
        first = false;
        Some(listed.by_ref().take(size).copied().collect())
    })
}

/// items.csv or items.parquet of the review list's patients (`--items review`: those
/// [`review_patients`] marks), written once the patients are known, from the audit's own
/// tables: the same columns and bytes as their rows of the full items.csv.
pub fn write_review_items(
    out: &Path,
    r: &AuditResult,
    on_list: &[bool],
    config: &AuditConfig,
    format: crate::write::table::Format,
) -> Result<PathBuf> {
    let path = match format {
        crate::write::table::Format::Csv => {
            let path = out.join("items.csv");
            crate::write::table::write_atomically(&path, |w| {
                w.write_all(header().as_bytes())?;
                let mut mirror = Mirror::of(r);
                let mut buf = Vec::new();
                for block in review_blocks(&r.items, on_list, 50_000) {
                    buf.clear();
                    mirror.format(&block, config, &mut buf);
                    w.write_all(&buf)?;
                }
                Ok(())
            })?;
            path
        }
        crate::write::table::Format::Parquet => {
            let size = crate::write::table::PARQUET_BLOCK_ROWS;
            let frames =
                review_blocks(&r.items, on_list, size).map(|block| items_frame(r, &block, config));
            crate::write::table::write_parquet_blocks(out, "items", frames)?
        }
    };
    crate::timing::lap("write items");
    Ok(path)
}

/// items.csv takes each chunk's items as the extracts are read.
impl ItemSink for ItemsWriter {
    fn batch(&mut self, batch: ItemBatch) -> Result<()> {
        self.send(batch)
    }

    /// No more batches: the thread writes what it has, then syncs the file, while the caller
    /// goes on (the timelines, say).
    fn close(&mut self) {
        self.batches = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary::Dictionary;

    /// An item's row is the same whether its supply's text was kept, formatted the first
    /// time, or not kept at all (past [`SUPPLIES_KEPT`]): items formatted with every supply
    /// kept, with none, and with the limit reached part-way. The items share a product, a
    /// dose text, a quantity or stated days with another but differ in the rest, so a
    /// supply told apart by less than all four would give a row another item's numbers.
    #[test]
    fn items_are_the_same_whether_their_supplies_text_is_kept_or_not() {
        let config = crate::engine::test_config();
        let dir = tempfile::tempdir().unwrap();
        let extract = dir.path().join("extract.csv");
        let morphine = "Morphine 10mg modified-release tablets";
        let oxycodone = "Oxycodone 5mg capsules";
        let mut text = String::from(
            "patient_id,practice_code,issue_date,drug_name,quantity,dose_text,days_supply\n",
        );
        for (k, (name, qty, dose, days)) in [
            (morphine, "56", "1 bd", ""),
            (morphine, "28", "1 bd", ""),
            (morphine, "56", "1 bd", "14"),
            (morphine, "56", "2 bd", ""),
            (oxycodone, "56", "1 bd", ""),
            (oxycodone, "56", "1 bd", "28"),
            (morphine, "56", "1 bd", ""),
            (morphine, "28", "1 bd", ""),
        ]
        .into_iter()
        .enumerate()
        {
            text.push_str(&format!(
                "P{k},A81001,2026-10-{:02},{name},{qty},{dose},{days}\n",
                1 + k
            ));
        }
        std::fs::write(&extract, text).unwrap();
        let (_, r) = crate::engine::run_files(
            &[extract],
            &Default::default(),
            &config,
            Dictionary::builtin(),
            |_| {},
        )
        .unwrap();
        assert_eq!(r.items.len(), 8);
        let formatted = |kept: usize| {
            let mut mirror = Mirror::of(&r);
            mirror.supplies_kept = kept;
            let mut out = Vec::new();
            mirror.format(&r.items, &config, &mut out);
            (String::from_utf8(out).unwrap(), mirror.supplies.len())
        };
        let (all, distinct) = formatted(usize::MAX);
        // The last two items repeat the first two's supplies.
        assert_eq!(distinct, 6);
        // By hand (morphine factor 1, oxycodone 1.5; "1 bd" is 2 a day): days of supply,
        // how they were found, total OME and OME a day of each row.
        let column = |name: &str| COLUMNS.iter().position(|c| c.name == name).unwrap();
        let cols = [
            column("days_supply"),
            column("days_supply_source"),
            column("total_ome_mg"),
            column("ome_mg_day"),
        ];
        let got: Vec<Vec<&str>> = all
            .lines()
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                cols.iter().map(|&c| cells[c]).collect()
            })
            .collect();
        let want = [
            ["28", "dose", "560", "20"],     // 56 ÷ 2 a day; 56 × 10 mg
            ["14", "dose", "280", "20"],     // 28 ÷ 2
            ["14", "explicit", "560", "40"], // the stated 14 days
            ["14", "dose", "560", "40"],     // "2 bd": 56 ÷ 4
            ["28", "dose", "420", "15"],     // 56 × 5 mg × 1.5
            ["28", "explicit", "420", "15"], // the stated 28 days
            ["28", "dose", "560", "20"],
            ["14", "dose", "280", "20"],
        ];
        assert_eq!(got, want);
        assert_eq!(formatted(0), (all.clone(), 0));
        assert_eq!(formatted(3), (all, 3));
    }

    /// The review list's items come in blocks of the size asked, in the rows' order, the
    /// last block short; none listed is one empty block (the columns of an empty output).
    #[test]
    fn review_blocks_keep_the_order_and_the_columns_of_an_empty_list() {
        let item = |patient: u32, line: u64| Item {
            line,
            quantity: 28.0,
            explicit_days: f64::NAN,
            file: 0,
            patient,
            practice: 0,
            extract_ics: 0,
            issue_day: crate::values::Day(0),
            product: 0,
            dose: 0,
        };
        let items: Vec<Item> = (0..10).map(|k| item(k % 3, u64::from(k) + 2)).collect();
        let lines = |on_list: &[bool], size: usize| -> Vec<Vec<u64>> {
            review_blocks(&items, on_list, size)
                .map(|b| b.iter().map(|i| i.line).collect())
                .collect()
        };
        // Patients 0 and 2: the items of lines 2, 4, 5, 7, 8, 10, 11.
        assert_eq!(
            lines(&[true, false, true], 3),
            [vec![2, 4, 5], vec![7, 8, 10], vec![11]]
        );
        assert_eq!(
            lines(&[true, false, true], 7),
            [vec![2, 4, 5, 7, 8, 10, 11]]
        );
        assert_eq!(lines(&[false, false, false], 3), [Vec::<u64>::new()]);
        assert_eq!(review_blocks(&[], &[], 3).count(), 1);
    }
}
