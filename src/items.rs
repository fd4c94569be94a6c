//! `items.csv`, the trace of every opioid item, written while the extracts are still being
//! read: the largest output (one row per opioid item, ~160 bytes each), so it is formatted and
//! written on its own thread from each chunk's items as the audit makes them, instead of all
//! at the end.
//!
//! The thread keeps its own copies of the products, dose texts, practices and patients the
//! items refer to; the audit sends what is new with each batch. Rows are the same, byte for
//! byte, as the typed table of `--format parquet` written as CSV.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{anyhow, Context, Result};
use polars::prelude::PlHashMap;

use crate::audit::{item_values, AuditConfig, DoseUse, Item, ProductUse};
use crate::values::{format_day, Day};

/// Columns of items.csv, in order.
pub const ITEM_COLUMNS: &[&str] = &[
    "file",
    "line",
    "patient_id",
    "practice_code",
    "issue_date",
    "product_name",
    "matched_by",
    "dmd_id",
    "product_key",
    "ingredient",
    "route",
    "strength",
    "strength_unit",
    "factor",
    "quantity",
    "unit",
    "dose_text",
    "dose_status",
    "units_per_day",
    "patches_at_once",
    "days_supply",
    "days_supply_source",
    "days_supply_disagree",
    "total_ome_mg",
    "ome_mg_day",
    "instructed_ome_mg_day",
];

/// A CSV text field as the csv crate writes it: quoted when it holds a comma, quote or line
/// end, and safe to open in a spreadsheet ([`crate::output::csv_text`]).
pub fn push_field(out: &mut Vec<u8>, s: &str) {
    let s = &*crate::output::csv_text(s);
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// A number as opal writes it (empty when absent).
pub fn push_number(out: &mut Vec<u8>, num: &mut String, v: Option<f64>) {
    num.clear();
    if let Some(v) = v {
        crate::output::push_num(num, v);
    }
    out.extend_from_slice(num.as_bytes());
}

fn push_uint(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// What is new since the last batch: the items of the chunks just audited, and the patients,
/// practices, products and dose texts first seen in them (ids continue from the last batch).
#[derive(Debug, Default)]
pub struct ItemBatch {
    pub items: Vec<Item>,
    pub patients: Vec<String>,
    pub practices: Vec<String>,
    pub products: Vec<ProductUse>,
    pub doses: Vec<DoseUse>,
}

/// The writing thread's copies, and each row part formatted once: per product
/// `product_name,...,factor,` and `,unit,`; per dose text `dose_text,dose_status,`; per
/// practice `practice_code,`; per day `issue_date,`.
#[derive(Default)]
struct Mirror {
    patients: Vec<String>,
    practices: Vec<Vec<u8>>,
    products: Vec<ProductUse>,
    product_head: Vec<Vec<u8>>,
    product_unit: Vec<Vec<u8>>,
    doses: Vec<DoseUse>,
    dose_frag: Vec<Vec<u8>>,
    days: PlHashMap<Day, Vec<u8>>,
}

impl Mirror {
    fn take(&mut self, b: &mut ItemBatch) {
        let mut num = String::new();
        for c in b.practices.drain(..) {
            let mut out = Vec::new();
            push_field(&mut out, &c);
            out.push(b',');
            self.practices.push(out);
        }
        self.patients.append(&mut b.patients);
        for u in b.products.drain(..) {
            let p = &u.product;
            let mut head = Vec::new();
            for f in [
                p.name.as_str(),
                u.matched_by,
                &p.dmd_id,
                &p.product_key,
                &p.ingredient,
                p.route.as_str(),
            ] {
                push_field(&mut head, f);
                head.push(b',');
            }
            push_number(&mut head, &mut num, Some(p.strength));
            head.push(b',');
            push_field(&mut head, p.strength_unit.as_str());
            head.push(b',');
            push_number(&mut head, &mut num, Some(u.factor));
            head.push(b',');
            let mut unit = vec![b','];
            push_field(&mut unit, &p.unit);
            unit.push(b',');
            self.product_head.push(head);
            self.product_unit.push(unit);
            self.products.push(u);
        }
        for d in b.doses.drain(..) {
            let mut out = Vec::new();
            push_field(&mut out, &d.text);
            out.push(b',');
            push_field(&mut out, d.parse.status.as_str());
            out.push(b',');
            self.dose_frag.push(out);
            self.doses.push(d);
        }
    }

    /// items.csv rows of some items, in ITEM_COLUMNS order.
    fn format(&mut self, items: &[Item], config: &AuditConfig, out: &mut Vec<u8>) {
        let mut num = String::new();
        for i in items {
            let (p, d) = (i.product as usize, i.dose as usize);
            let v = item_values(i, &self.products[p], &self.doses[d], config);
            push_uint(out, u64::from(i.file) + 1);
            out.push(b',');
            push_uint(out, i.line);
            out.push(b',');
            push_field(out, &self.patients[i.patient as usize]);
            out.push(b',');
            out.extend_from_slice(&self.practices[i.practice as usize]);
            let day = self.days.entry(i.issue_day).or_insert_with(|| {
                let mut t = format_day(i.issue_day).into_bytes();
                t.push(b',');
                t
            });
            out.extend_from_slice(day);
            out.extend_from_slice(&self.product_head[p]);
            push_number(out, &mut num, Some(i.quantity));
            out.extend_from_slice(&self.product_unit[p]);
            out.extend_from_slice(&self.dose_frag[d]);
            push_number(out, &mut num, v.units_per_day);
            out.push(b',');
            push_number(out, &mut num, v.patches_at_once);
            out.push(b',');
            push_number(out, &mut num, Some(v.days_supply));
            out.push(b',');
            out.extend_from_slice(v.days_supply_source.as_str().as_bytes());
            out.push(b',');
            out.extend_from_slice(match v.days_supply_disagree {
                Some(true) => b"true,",
                Some(false) => b"false,",
                None => b",",
            });
            push_number(out, &mut num, Some(v.total_ome_mg));
            out.push(b',');
            push_number(out, &mut num, Some(v.total_ome_mg / v.days_supply));
            out.push(b',');
            push_number(out, &mut num, v.instructed_ome_mg_day);
            out.push(b'\n');
        }
    }
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
                w.write_all(ITEM_COLUMNS.join(",").as_bytes())?;
                w.write_all(b"\n")?;
                let mut mirror = Mirror::default();
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
    pub fn send(&mut self, batch: ItemBatch) -> Result<()> {
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

    /// No more batches: the thread writes what it has, then syncs the file, while the caller
    /// goes on (the timelines, say).
    pub fn close(&mut self) {
        self.batches = None;
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
