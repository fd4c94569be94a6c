//! The patient lists, `review_list` and `patients`: their columns declared once
//! ([`COLUMNS`]: name, type, meaning, the cell of a row), used by the fast CSV writer and by the typed
//! table that Parquet takes, so the two cannot drift apart.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::PlHashMap;

use crate::engine::PatientRow;
use crate::write::cells::{push_cell, Cell, Kind};
use crate::write::columns::{table_of, CellOf, Column, Rows};
use crate::write::table::{write_atomically, Table};

/// Which of the patient lists a column is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    Both,
    /// Only in `patients` (the exclusion columns, which come last), not on the review list.
    PatientsOnly,
}

impl Rows for PatientRow {
    type Row<'a> = PatientRow;
    type Tag = Lists;
}

const fn col(
    name: &'static str,
    kind: Kind,
    meaning: &'static str,
    cell: CellOf<PatientRow>,
) -> Column<PatientRow> {
    Column::<PatientRow>::tagged(Lists::Both, name, kind, meaning, cell)
}

/// The columns of `patients`, in order; `review_list` has all but the `patients_only` ones
/// (which come last).
pub const COLUMNS: &[Column<PatientRow>] = &[
    col(
        "patient_id",
        Kind::Text,
        "The patient, as the extract identifies them.",
        |r| Cell::Text(&r.patient_id),
    ),
    col(
        "practice_code",
        Kind::Text,
        "The practice of the patient's latest opioid item.",
        |r| Cell::Text(&r.practice_code),
    ),
    col(
        "ics_code",
        Kind::Text,
        "The integrated care system (ICB) of that practice.",
        |r| Cell::Text(&r.ics_code),
    ),
    col(
        "priority",
        Kind::Integer,
        "1 (first) to 4: 1 above 120 mg a day with a gabapentinoid, benzodiazepine or Z-drug, a \
        dose rising above 90, or an abrupt stop; 2 above 120; 3 at least 50 with one of those \
        drugs, or a rising dose; 4 long-term use.",
        |r| Cell::Integer(r.priority.as_ref().map(|p| p.0 as i64)),
    ),
    col(
        "priority_reason",
        Kind::Text,
        "Why the patient has that priority, in words.",
        |r| Cell::OptText(r.priority.as_ref().map(|p| p.1.as_str())),
    ),
    col(
        "ome_mg_day",
        Kind::Number,
        "Oral morphine equivalent, mg a day: the mean over the dose window (28 days) to the audit \
        date, from the supplies.",
        |r| Cell::Number(Some(r.measures.ome_mg_day)),
    ),
    col(
        "instructed_ome_mg_day",
        Kind::Number,
        "OME a day as the directions of the current items say, where they can be read.",
        |r| Cell::Number(r.measures.instructed_ome_mg_day),
    ),
    col(
        "current_ome_mg_day",
        Kind::Number,
        "OME a day supplied on the audit date itself (today's dose).",
        |r| Cell::Number(Some(r.measures.current_ome_mg_day)),
    ),
    col(
        "peak_ome_mg_day",
        Kind::Number,
        "The highest single day's OME in the look-back (90 days).",
        |r| Cell::Number(Some(r.measures.peak_ome_mg_day)),
    ),
    col(
        "dose_band",
        Kind::Text,
        "<50, 50-<90, 90-120 or >120 mg OME a day (the window mean).",
        |r| Cell::Text(r.dose_band.as_str()),
    ),
    col(
        "duration_days",
        Kind::Integer,
        "Days on opioids in the current episode, to the audit date.",
        |r| Cell::Integer(r.measures.duration_days),
    ),
    col(
        "duration_censored",
        Kind::Flag,
        "The episode began on the extract's first date: it may be longer.",
        |r| Cell::Flag(Some(r.measures.duration_censored)),
    ),
    col(
        "high_dose",
        Kind::Flag,
        "The window mean is above the threshold (120 mg a day).",
        |r| Cell::Flag(Some(r.measures.high_dose)),
    ),
    col(
        "high_dose_now",
        Kind::Flag,
        "Today's dose is above the threshold.",
        |r| Cell::Flag(Some(r.measures.high_dose_now)),
    ),
    col(
        "long_term",
        Kind::Flag,
        "On opioids for more than the long-term limit (90 days).",
        |r| Cell::Flag(Some(r.measures.long_term)),
    ),
    col(
        "reasons",
        Kind::Text,
        "Why the patient is on the list, in words.",
        |r| Cell::Text(&r.reasons),
    ),
    col(
        "co_prescribed",
        Kind::Text,
        "Gabapentinoids, benzodiazepines and Z-drugs issued in the last 90 days.",
        |r| Cell::Text(&r.co_prescribed),
    ),
    col(
        "status",
        Kind::Text,
        "new, continuing or returned since the previous audit.",
        |r| Cell::OptText(r.status.map(|s| s.as_str())),
    ),
    col(
        "current_products",
        Kind::Text,
        "The opioid products supplied in the dose window.",
        |r| Cell::Text(&r.current_products),
    ),
    col(
        "last_issue_date",
        Kind::Date,
        "The date of the latest opioid item.",
        |r| Cell::Date(r.measures.last_issue_day),
    ),
    col(
        "doses_disagree",
        Kind::Flag,
        "Instructed and supplied doses differ by more than half.",
        |r| Cell::Flag(r.doses_disagree),
    ),
    col(
        "month_end_dose_mg_day",
        Kind::Number,
        "The dose as taken on the audit date: each current product at its instructed dose (else \
        its supply rate), a switched-from product left out, a gap within 30 days not a fall.",
        |r| Cell::Number(r.trajectory.map(|t| t.dose_mg_day)),
    ),
    col(
        "ome_mg_day_3m_ago",
        Kind::Number,
        "That dose three month ends ago.",
        |r| Cell::Number(r.trajectory.map(|t| t.ome_mg_day_3m_ago)),
    ),
    col(
        "ome_mg_day_12m_peak",
        Kind::Number,
        "The highest of that dose at the audit date and the 12 month ends before it.",
        |r| Cell::Number(r.trajectory.map(|t| t.ome_mg_day_12m_peak)),
    ),
    col(
        "change_from_peak_pct",
        Kind::Number,
        "How far the dose now is from that peak, in percent.",
        |r| Cell::Number(r.trajectory.and_then(|t| t.change_from_peak_pct)),
    ),
    col(
        "largest_monthly_drop_pct",
        Kind::Number,
        "The largest fall between consecutive month ends since that peak, in percent.",
        |r| Cell::Number(r.trajectory.and_then(|t| t.largest_monthly_drop_pct)),
    ),
    col(
        "dose_trend",
        Kind::Text,
        "tapering (15% or more below the peak at two month ends, not rising), rapid (tapering \
        with a fall of more than 40% in a month, long-term), escalating (25% or more above three \
        months before, or into a higher dose band, at two month ends) or re-escalating (rising \
        again after a taper).",
        |r| Cell::OptText(r.trajectory.map(|t| t.label.as_str())),
    ),
    col(
        "last_review_date",
        Kind::Date,
        "The date of the last review, from last month's list (--reviews).",
        |r| Cell::Date(r.last_review.as_ref().and_then(|v| v.date)),
    ),
    col(
        "last_review_outcome",
        Kind::Text,
        "What that review decided.",
        |r| Cell::OptText(r.last_review.as_ref().map(|v| v.outcome.as_str())),
    ),
    col(
        "next_review_due",
        Kind::Date,
        "When the next review was planned; 'review due on' in the priority reason while it is \
        ahead.",
        |r| Cell::Date(r.last_review.as_ref().and_then(|v| v.next_review)),
    ),
    col(
        "last_medication_review",
        Kind::Date,
        "The latest coded medication review (structured or not) in the review window (365 days), \
        from --events.",
        |r| Cell::Date(r.last_medication_review),
    ),
    Column::tagged(
        Lists::PatientsOnly,
        "excluded",
        Kind::Flag,
        "On the exclusion list or excluded by the coded record (--exclude-patients, --events).",
        |r| Cell::Flag(Some(r.excluded_reason.is_some())),
    ),
    Column::tagged(
        Lists::PatientsOnly,
        "excluded_reason",
        Kind::Text,
        "Why the patient is excluded.",
        |r| Cell::OptText(r.excluded_reason.as_deref()),
    ),
];

/// The columns of `patients` (`with_exclusion`) or `review_list`.
pub fn columns(with_exclusion: bool) -> impl Iterator<Item = &'static Column<PatientRow>> {
    COLUMNS
        .iter()
        .filter(move |c| with_exclusion || c.tag == Lists::Both)
}

/// The header line of `patients` (`with_exclusion`) or `review_list`.
pub fn header(with_exclusion: bool) -> String {
    let names: Vec<&str> = columns(with_exclusion).map(|c| c.name).collect();
    format!("{}\n", names.join(","))
}

/// The typed table of some rows (for Parquet).
pub fn patient_table(rows: &[&PatientRow], with_exclusion: bool) -> Table {
    table_of(columns(with_exclusion), rows)
}

/// The cells of a row as CSV, comma before each but the row's first: the review-list columns,
/// or (`patients_only`) the exclusion columns that follow them in `patients`.
fn push_cells(out: &mut Vec<u8>, num: &mut String, r: &PatientRow, patients_only: bool) {
    let list = if patients_only {
        Lists::PatientsOnly
    } else {
        Lists::Both
    };
    for (i, c) in COLUMNS.iter().filter(|c| c.tag == list).enumerate() {
        if i > 0 || patients_only {
            out.push(b',');
        }
        push_cell(out, num, &(c.cell)(r));
    }
}

/// review_list.csv and patients.csv, written together in one pass over `rows` (in their
/// order): a review-list row is the patients row without the exclusion columns, so each row is
/// formatted once. Blocks of rows are formatted on two threads. Returns both paths.
pub fn write_patients_csv(out: &Path, rows: &[&PatientRow]) -> Result<[PathBuf; 2]> {
    /// Rows of one block: (patients.csv, review_list.csv) text.
    fn format(rows: &[&PatientRow], mut bufs: (Vec<u8>, Vec<u8>)) -> (Vec<u8>, Vec<u8>) {
        let (all, review) = &mut bufs;
        all.clear();
        review.clear();
        let mut num = String::new();
        for r in rows {
            let start = all.len();
            push_cells(all, &mut num, r, false);
            if r.to_review() {
                review.extend_from_slice(&all[start..]);
                review.push(b'\n');
            }
            if !r.measures.current {
                // An abrupt stop, on the review list only: patients.csv is of current
                // patients.
                all.truncate(start);
                continue;
            }
            // The exclusion columns follow, then the row ends.
            push_cells(all, &mut num, r, true);
            all.push(b'\n');
        }
        bufs
    }
    let review_path = out.join("review_list.csv");
    let all_path = out.join("patients.csv");
    write_atomically(&review_path, |rw| {
        write_atomically(&all_path, |aw| {
            rw.write_all(header(false).as_bytes())?;
            aw.write_all(header(true).as_bytes())?;
            // Each block's two halves are formatted on two threads while a third writes the
            // block before; its buffers come back to be used again. At most one formatted
            // block waits, so memory stays at a few blocks.
            type Pair = (Vec<u8>, Vec<u8>);
            let (full, to_write) = std::sync::mpsc::sync_channel::<[Pair; 2]>(1);
            let (used, to_reuse) = std::sync::mpsc::channel::<[Pair; 2]>();
            std::thread::scope(|s| -> Result<()> {
                let writer = s.spawn(move || -> std::io::Result<()> {
                    for block in to_write {
                        for (all, review) in &block {
                            aw.write_all(all)?;
                            rw.write_all(review)?;
                        }
                        // The formatting side may have finished already.
                        let _ = used.send(block);
                    }
                    Ok(())
                });
                for pair in rows.chunks(20_000) {
                    let [a, b] = to_reuse.try_recv().unwrap_or_default();
                    let (first, second) = pair.split_at(pair.len().div_ceil(2));
                    let (a, b) = std::thread::scope(|s| {
                        let other = s.spawn(move || format(second, b));
                        (format(first, a), other.join())
                    });
                    let b = match b {
                        Ok(done) => done,
                        Err(e) => std::panic::resume_unwind(e),
                    };
                    // A writer that stopped (a full disk) says why when joined.
                    if full.send([a, b]).is_err() {
                        break;
                    }
                }
                drop(full);
                match writer.join() {
                    Ok(written) => Ok(written?),
                    Err(e) => std::panic::resume_unwind(e),
                }
            })
        })
        .with_context(|| format!("cannot write {}", all_path.display()))
    })
    .with_context(|| format!("cannot write {}", review_path.display()))?;
    Ok([review_path, all_path])
}

/// Patients in the order of the lists: by practice, then priority tier (patients off the
/// review list last), then OME/day descending, then id, so that reruns are identical. Sorted on compact keys (the practice's rank among the codes, the OME,
/// the row), so that the codes and ids, scattered in memory, are compared only on ties;
/// patient ids are distinct, so the order is total and an unstable sort gives the same order.
pub fn patient_order(patients: &[PatientRow]) -> Vec<&PatientRow> {
    // Each practice's rank in code order: the distinct codes (thousands, where the patients
    // are a million) are found with a hash map, sorted, and the ranks written back.
    let mut first_seen: PlHashMap<&str, u32> = PlHashMap::default();
    let mut seen_at: Vec<u32> = Vec::with_capacity(patients.len());
    for p in patients {
        let n = first_seen.len() as u32;
        seen_at.push(*first_seen.entry(p.practice_code.as_str()).or_insert(n));
    }
    let mut codes: Vec<(&str, u32)> = first_seen.into_iter().collect();
    codes.sort_unstable();
    let mut rank = vec![0u32; codes.len()];
    for (r, (_, seen)) in codes.iter().enumerate() {
        rank[*seen as usize] = r as u32;
    }
    // The priority tier (those off the review list after tier 4), folded into the practice's
    // rank so that the key stays three words.
    let mut keys: Vec<(u32, f64, u32)> = patients
        .iter()
        .zip(&seen_at)
        .enumerate()
        .map(|(i, (p, &seen))| {
            let tier = p.priority.as_ref().map_or(5, |t| t.0.min(5)) as u32;
            (
                rank[seen as usize] * 8 + tier,
                p.measures.ome_mg_day,
                i as u32,
            )
        })
        .collect();
    keys.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then_with(|| {
            patients[a.2 as usize]
                .patient_id
                .cmp(&patients[b.2 as usize].patient_id)
        })
    });
    keys.iter().map(|k| &patients[k.2 as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::PatientMeasures;

    fn row(id: &str, excluded: Option<&str>, disagree: Option<bool>) -> PatientRow {
        PatientRow {
            patient_id: id.into(),
            practice_code: "A81001".into(),
            ics_code: "QHM".into(),
            measures: PatientMeasures {
                current: true,
                ome_mg_day: 120.5,
                instructed_ome_mg_day: None,
                current_ome_mg_day: 118.0,
                peak_ome_mg_day: 180.0,
                window_ome_mg: 3374.0,
                episode_start: Some(crate::values::Day(20_000)),
                duration_days: Some(95),
                duration_censored: false,
                high_dose: true,
                high_dose_now: false,
                long_term: true,
                window_products: vec![1],
                assumed_products: vec![],
                last_issue_day: Some(crate::values::Day(20_390)),
            },
            dose_band: crate::timeline::DoseBand::Above120,
            reasons: "high dose: 120.5 mg OME/day (above 120); long-term: 95 days".into(),
            current_products: "Morphine 60mg, \"MR\" tablets".into(),
            doses_disagree: disagree,
            excluded_reason: excluded.map(String::from),
            status: None,
            trajectory: None,
            priority: None,
            stopped_abruptly_from: None,
            last_review: None,
            last_medication_review: None,
            product_lines: Vec::new(),
            co_prescribed: String::new(),
            co_listed: false,
        }
    }

    /// The lists' order: practice code, then OME/day from the highest, then patient id.
    #[test]
    fn patients_are_listed_by_practice_then_dose_then_id() {
        let mut rows = Vec::new();
        for (id, practice, ome) in [
            ("P9", "B2", 40.0),
            ("P3", "A1", 90.0),
            ("P7", "A1", 180.0),
            ("P1", "B2", 40.0),
            ("P5", "A1", 90.0),
            ("P2", "A10", 500.0),
            ("P4", "B2", 0.0),
        ] {
            let mut r = row(id, None, None);
            r.practice_code = practice.into();
            r.measures.ome_mg_day = ome;
            rows.push(r);
        }
        let order: Vec<&str> = patient_order(&rows)
            .iter()
            .map(|r| r.patient_id.as_str())
            .collect();
        // A1: 180 (P7), then the tie at 90 by id (P3, P5); A10 after A1 as text; B2: the tie at
        // 40 by id (P1, P9), then 0 (P4).
        assert_eq!(order, ["P7", "P3", "P5", "P2", "P1", "P9", "P4"]);
    }

    /// The direct CSV writer and the typed table (Parquet) give the same columns and cells.
    #[test]
    fn patient_csv_matches_the_table() {
        let mut rows = vec![
            row("P1", None, Some(true)),
            row("P,2", Some("palliative, per register"), None),
            row("P3", None, None),
        ];
        rows[2].measures.high_dose = false;
        rows[2].measures.long_term = false;
        // More rows than three blocks of 20,000, so that both formatting threads, the writing
        // thread and buffers used again for a later block all run.
        for i in 0..65_000 {
            let mut r = row(&format!("Q{i}"), None, None);
            r.measures.long_term = i % 3 == 0;
            r.measures.high_dose = i % 5 == 0;
            r.measures.duration_days = (i % 7 != 0).then_some(i64::from(i));
            rows.push(r);
        }
        let refs: Vec<&PatientRow> = rows.iter().collect();
        let review: Vec<&PatientRow> = refs.iter().copied().filter(|p| p.to_review()).collect();
        // P1, and of the rest those with i a multiple of 3 or of 5: 21,667 + 13,000 - 4,334.
        assert_eq!(review.len(), 1 + 30_333);
        let dir = tempfile::tempdir().unwrap();
        let [review_path, all_path] = write_patients_csv(dir.path(), &refs).unwrap();
        for (path, rows, with_exclusion) in [(review_path, &review, false), (all_path, &refs, true)]
        {
            let mut reader = csv::Reader::from_path(&path).unwrap();
            let table = patient_table(rows, with_exclusion);
            let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
            assert_eq!(header, table.header());
            let mut n = 0;
            for (i, rec) in reader.records().enumerate() {
                let cells: Vec<String> = rec.unwrap().iter().map(String::from).collect();
                assert_eq!(cells, table.row_cells(i), "row {i}");
                n += 1;
            }
            assert_eq!(n, rows.len());
        }
    }
}
