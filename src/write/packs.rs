//! Practice packs (`--practice-packs`, issue 17): `practices/<ODS code>/` with the practice's
//! own review list, its resolved patients, and a report.html for the practice — its measures
//! against its ICS and all practices, where its high-dose rate ranks among its ICS's
//! practices, its XmR chart, and its review list as a work list: grouped by priority tier,
//! each current product with its directions and next due date, reasons, status and dose
//! trend, a box to tick, and a glossary. Nothing of any other practice's patients is in a
//! pack. Folders are named by write/names.rs (one name per code on every system) and listed
//! with their codes in `practices/index.csv`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use maud::{html, PreEscaped, DOCTYPE};

use crate::engine::{AuditConfig, AuditResult, PatientRow, ResolvedRow};
use crate::summary::{suppress_count, CohortSummary};
use crate::trend::{month_label, Measure, Series};
use crate::trend::{Computed, TrendSettings};
use crate::values::{fmt_num, format_day, Day};
use crate::write::cells::{Cell, Kind};
use crate::write::columns::{write_rows, Column, Rows};
use crate::write::patients::patient_order;
use crate::write::table::{write_atomically, Format};

/// The high-dose rate that ranks practices: per 1000 registered patients with list sizes,
/// else per 100 patients on opioids.
fn rate(s: &CohortSummary) -> Option<f64> {
    match s.list_size {
        Some(l) if l > 0.0 => Some(s.high_dose as f64 * 1000.0 / l),
        _ if s.patients > 0 => Some(s.high_dose as f64 * 100.0 / s.patients as f64),
        _ => None,
    }
}

/// The most practices drawn in a pack's ranked bars before the chart keeps only the top, the
/// bottom and this practice's neighbours.
const MAX_BARS: usize = 40;

/// An ICS's practices with a rate, highest first (ties by code): worked out once per ICS.
fn ranking<'a>(practices: &[&'a CohortSummary]) -> Vec<(&'a str, f64)> {
    let mut bars: Vec<(&str, f64)> = practices
        .iter()
        .filter_map(|p| rate(p).map(|r| (p.code.as_str(), r)))
        .collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    bars
}

/// A ranked bar chart of the high-dose rate of an ICS's practices ([`ranking`]), this one
/// highlighted.
fn ranked_bars(me: &str, bars: &[(&str, f64)], per_1000: bool) -> String {
    // An ICS of many practices: the highest ten, the ten either side of this one and the
    // lowest ten, the gaps between them said, so that the chart stays readable and a run of
    // thousands of packs does not draw every practice thousands of times.
    let total = bars.len();
    let mut shown: Vec<Option<(usize, (&str, f64))>> = Vec::new();
    if total > MAX_BARS {
        let me_at = bars.iter().position(|b| b.0 == me).unwrap_or(0);
        let keep = |i: usize| i < 10 || i + 10 >= total || i.abs_diff(me_at) <= 10;
        for (i, b) in bars.iter().enumerate() {
            if keep(i) {
                shown.push(Some((i, *b)));
            } else if shown.last().is_some_and(|s| s.is_some()) {
                shown.push(None);
            }
        }
    } else {
        shown = bars.iter().copied().enumerate().map(Some).collect();
    }
    let (w, row) = (760.0, 18.0);
    let h = 40.0 + row * shown.len() as f64;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9);
    let unit = if per_1000 {
        "high-dose patients per 1,000 registered"
    } else {
        "high-dose patients per 100 on opioids"
    };
    let mut o = format!(
        r##"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Practices of the ICS ranked by {unit}; this practice highlighted" font-family="Arial, Helvetica, sans-serif"><title>Practices ranked by {unit}</title><text x="0" y="14" font-size="13" fill="#212b32">{unit}, highest first</text>"##
    );
    for (i, bar) in shown.iter().enumerate() {
        let y = 26.0 + i as f64 * row;
        let Some((rank, (code, v))) = bar else {
            let next = shown[i + 1..]
                .iter()
                .flatten()
                .next()
                .map_or(total, |b| b.0);
            let prev = shown[..i]
                .iter()
                .rev()
                .flatten()
                .next()
                .map_or(0, |b| b.0 + 1);
            o.push_str(&format!(
                r##"<text x="90" y="{:.1}" font-size="11" fill="#425563">… {} practices ranked {} to {} …</text>"##,
                y + 12.0,
                next - prev,
                prev + 1,
                next
            ));
            continue;
        };
        let len = v / max * (w - 200.0);
        let mine = *code == me;
        let (fill, weight) = if mine {
            ("#005eb8", "bold")
        } else {
            ("#aeb7bd", "normal")
        };
        o.push_str(&format!(
            r##"<text x="0" y="{:.1}" font-size="12" font-weight="{weight}" fill="#212b32">{}</text><rect x="90" y="{y:.1}" width="{len:.1}" height="{:.1}" fill="{fill}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" font-size="11" fill="#425563">{}{}</text>"##,
            y + 12.0,
            crate::write::markup::escape(code),
            row - 4.0,
            crate::write::markup::escape(code),
            crate::values::sig3(*v),
            96.0 + len,
            y + 12.0,
            crate::values::sig3(*v),
            match (mine, total > MAX_BARS) {
                (true, true) => format!(" (this practice, {} of {total})", rank + 1),
                (true, false) => " (this practice)".to_string(),
                _ => String::new(),
            }
        ));
    }
    o.push_str("</svg>");
    o
}

/// The priority tiers and what each holds (METHOD.md §11).
const TIERS: [(u8, &str); 4] = [
    (
        1,
        "above 120 mg/day with a CNS depressant, a dose rising above 90, or an abrupt stop",
    ),
    (2, "above 120 mg/day"),
    (
        3,
        "at least 50 mg/day with a CNS depressant, or a rising dose",
    ),
    (4, "long-term use"),
];

/// Every word the pack uses, with its meaning (METHOD.md §7 and §11).
const GLOSSARY: [(&str, &str); 14] = [
    ("28-day mean", "The oral morphine equivalent (OME) supplied over the 28 days to the audit date, divided by 28: the audit's measure of dose."),
    ("today's dose", "The OME a day of the supplies covering the audit date itself."),
    ("month-end dose", "The dose as taken at a month end: each current product at its instructed dose (else its supply rate), a switched-from product left out, a gap of up to 30 days not a fall. Taper and escalation are read from it."),
    ("high dose", "A 28-day mean (or today's dose) above 120 mg OME a day."),
    ("long-term", "On opioids for more than 90 days without a gap of more than 30 days."),
    ("new", "On the list now, and neither at the previous audit nor at any month end of the 12 before it."),
    ("continuing", "On the list at the previous audit too."),
    ("returned", "Not on the list at the previous audit, but at one of the 12 month ends before it."),
    ("tapering", "The month-end dose at least 15% below its 12-month peak at the last two month ends, and not rising."),
    ("rapid", "Tapering, in a long-term patient, with a fall of more than 40% from one month end to the next in the last six months: check for withdrawal and distress."),
    ("escalating", "The month-end dose at least 25% above, or in a higher band (50, 90, 120 mg a day) than, three month ends before, at the last two month ends."),
    ("re-escalating", "Rising again, by at least 25% at the last two month ends, after a taper (or a stop) earlier in the year."),
    ("abrupt stop", "On the list at the previous audit at 50 mg a day or more, no supply since, and the dose was not brought down first: withdrawal, and overdose if restarted at the old dose."),
    ("CNS depressant", "A gabapentinoid, benzodiazepine or Z-drug issued in the last 90 days: with an opioid, a higher risk of respiratory depression (MHRA 2019, 2020)."),
];

/// Printing on A4: no row split across pages, a tier's heading kept with its table.
const PACK_CSS: &str = "
@page{size:A4 landscape;margin:12mm}
table.work{font-size:12px}table.work td{vertical-align:top}
h3{font-size:16px;margin:18px 0 4px}span.due{color:#425563;font-size:11px}
dl.glossary dt{font-weight:bold;margin-top:6px}dl.glossary dd{margin:0 0 0 16px;font-size:13px}
@media print{body{margin:0;max-width:none}tr,dt,dd{break-inside:avoid}h2,h3{break-after:avoid}thead{display:table-header-group}}
";

/// The report of one practice, for the practice (it lists its own patients).
#[allow(clippy::too_many_arguments)]
fn practice_page(
    p: &CohortSummary,
    ics: Option<&CohortSummary>,
    all: &CohortSummary,
    peers: &[(&str, f64)],
    review: &[&PatientRow],
    resolved: &[&ResolvedRow],
    chart: Option<String>,
    config: &AuditConfig,
    as_of: Day,
    previous: &str,
) -> String {
    let count = |n: u64| -> String {
        if config.suppress {
            suppress_count(n).map_or("*".into(), |v| v.to_string())
        } else {
            n.to_string()
        }
    };
    let per_1000 = p.list_size.is_some();
    let title = if p.name.is_empty() {
        p.code.clone()
    } else {
        format!("{} ({})", p.name, p.code)
    };
    let rows: Vec<(&str, &CohortSummary)> = [
        Some(("this practice", p)),
        ics.map(|i| ("its ICS", i)),
        Some(("all practices", all)),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Opioid review pack: " (title) ", " (format_day(as_of)) }
                style { (PreEscaped(crate::write::report::CSS)) (PreEscaped(PACK_CSS)) }
            }
            body {
                h1 { "Opioid review pack: " (title) }
                p.note { "For the practice: this pack lists the practice's own patients. Do not share it beyond the practice." }
                p { "Audit date " (format_day(as_of)) "; high dose above " (fmt_num(config.timeline.threshold_mg_day)) " mg OME a day; long-term more than " (config.timeline.long_term_days) " days." }
                h2 { "At a glance" }
                table {
                    thead { tr {
                        @for (tier, _) in TIERS { th scope="col" { "priority " (tier) } }
                        th scope="col" { "new since " (previous) } th scope="col" { "off the list since then" }
                    } }
                    tbody { tr {
                        @for (tier, _) in TIERS { td { (review.iter().filter(|r| r.priority.as_ref().map(|p| p.0) == Some(tier)).count()) } }
                        td { (review.iter().filter(|r| r.status == Some(crate::followup::Status::New)).count()) }
                        td { (resolved.len()) }
                    } }
                }
                h2 { "Against the ICS and all practices" }
                table {
                    thead { tr {
                        th scope="col" { "" } th scope="col" { "patients on opioids" } th scope="col" { "high dose" }
                        th scope="col" { "long-term" }
                        th scope="col" { @if per_1000 { "high dose per 1,000 registered" } @else { "high dose per 100 on opioids" } }
                    } }
                    tbody { @for (label, s) in &rows {
                        tr {
                            td { (label) } td { (count(s.patients)) } td { (count(s.high_dose)) }
                            td { (count(s.long_term)) }
                            td { (rate(s).map(crate::values::sig3).unwrap_or_default()) }
                        }
                    } }
                }
                div.chart { (PreEscaped(ranked_bars(&p.code, peers, per_1000))) }
                @if let Some(svg) = chart {
                    h2 { "Month by month" }
                    div.chart { (PreEscaped(svg)) }
                }
                h2 { "Patients to review (" (review.len()) "), by priority" }
                @for (tier, what) in TIERS {
                    @let in_tier: Vec<&&PatientRow> = review.iter().filter(|r| r.priority.as_ref().map(|p| p.0) == Some(tier)).collect();
                    @if !in_tier.is_empty() {
                        h3 { "Priority " (tier) ": " (what) " (" (in_tier.len()) ")" }
                        table.work {
                            thead { tr {
                                th scope="col" { "patient" } th scope="col" { "why this priority" }
                                th scope="col" { "28-day mean mg/day" } th scope="col" { "today's dose" } th scope="col" { "month-end dose" }
                                th scope="col" { "current products" } th scope="col" { "last issue" } th scope="col" { "status" }
                                th scope="col" { "dose trend" } th scope="col" { "co-prescribed" } th scope="col" { "reasons" }
                                th scope="col" { "done" }
                            } }
                            tbody { @for r in &in_tier {
                                tr {
                                    td { (r.patient_id) }
                                    td.text { (r.priority.as_ref().map(|p| p.1.as_str()).unwrap_or("")) }
                                    td { (format!("{:.1}", r.measures.ome_mg_day)) }
                                    td { (format!("{:.1}", r.measures.current_ome_mg_day)) }
                                    td { (r.trajectory.map(|t| format!("{:.1}", t.dose_mg_day)).unwrap_or_default()) }
                                    td.text {
                                        @if r.product_lines.is_empty() { (r.current_products) }
                                        @for (k, p) in r.product_lines.iter().enumerate() {
                                            @if k > 0 { br; }
                                            b { (p.name) } @if !p.dose_text.is_empty() { " — " (p.dose_text) }
                                            br; span.due { "issued " (format_day(p.last_issue)) ", next due " (format_day(p.next_due)) }
                                        }
                                    }
                                    td style="white-space: nowrap" { (r.measures.last_issue_day.map(format_day).unwrap_or_default()) }
                                    td.text { (r.status.map(|s| s.as_str()).unwrap_or("")) }
                                    td.text { (r.trajectory.map(|t| t.label.as_str()).unwrap_or("")) }
                                    td.text { (r.co_prescribed) } td.text { (r.reasons) }
                                    td.text { "☐" }
                                }
                            } }
                        }
                    }
                }
                @if !resolved.is_empty() {
                    h2 { "Off the list since the previous audit (" (resolved.len()) ")" }
                    table {
                        thead { tr { th scope="col" { "patient" } th scope="col" { "why" } th scope="col" { "abrupt stop" } } }
                        tbody { @for r in resolved {
                            tr { td { (r.patient_id) } td.text { (r.why.as_str()) } td.text { (match r.abrupt_stop { Some(true) => "yes", Some(false) => "no", None => "" }) } }
                        } }
                    }
                }
                h2 { "Words used in this pack" }
                dl.glossary { @for (word, meaning) in GLOSSARY { dt { (word) } dd { (meaning) } } }
            }
        }
    }
    .into_string()
}

/// What the packs wrote: the files, each practice's folder, and what was noticed on the way
/// (a workbook's cut cells).
#[derive(Debug, Default)]
pub struct Packs {
    pub written: Vec<PathBuf>,
    /// (practice code, folder name under `practices/`).
    pub folders: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// A row of `practices/index.csv`: a practice's pack.
pub struct PackEntry<'a> {
    pub p: &'a CohortSummary,
    pub folder: String,
    pub review_list_patients: usize,
}

impl Rows for PackEntry<'_> {
    type Row<'a> = PackEntry<'a>;
    type Tag = ();
}

/// The columns of `practices/index.csv`.
pub const PACK_INDEX: &[Column<PackEntry<'static>>] = &[
    Column::new(
        "practice_code",
        Kind::Text,
        "The practice's code, as the extract has it.",
        |r| Cell::Text(&r.p.code),
    ),
    Column::new("practice_name", Kind::Text, "Its name, where known.", |r| {
        Cell::Text(&r.p.name)
    }),
    Column::new("ics_code", Kind::Text, "Its ICS.", |r| {
        Cell::Text(&r.p.ics_code)
    }),
    Column::new(
        "folder",
        Kind::Text,
        "Its pack's folder: the code made safe for any file system, distinct from every other.",
        |r| Cell::Text(&r.folder),
    ),
    Column::new(
        "review_list_patients",
        Kind::Integer,
        "The patients on its review list.",
        |r| Cell::Integer(Some(r.review_list_patients as i64)),
    ),
];

/// The files of a pack, in the order the manifest lists them (review_list.xlsx with
/// `--xlsx`).
const PACK_FILES: [&str; 4] = [
    "review_list.csv",
    "review_list.xlsx",
    "resolved.csv",
    "report.html",
];

/// Write every practice's pack.
pub fn write_practice_packs(
    out: &Path,
    r: &AuditResult,
    config: &AuditConfig,
    previous: &str,
    trend: (&[Series], Option<&Computed>, &TrendSettings),
    xlsx: Option<&crate::write::xlsx::ReviewWorkbook>,
) -> Result<Packs> {
    use std::collections::HashMap;
    let (series, computed, t) = trend;
    let mut all = CohortSummary::default();
    all.code = "ALL".into();
    for s in &r.ics_summaries {
        all.patients += s.patients;
        all.high_dose += s.high_dose;
        all.long_term += s.long_term;
        if let Some(l) = s.list_size {
            *all.list_size.get_or_insert(0.0) += l;
        }
    }
    // Each practice's patients and resolved rows, grouped once (in the lists' order), and
    // its chart's series: not a pass over every patient for every practice.
    let mut review_of: HashMap<&str, Vec<&PatientRow>> = HashMap::new();
    for x in patient_order(&r.patients) {
        if x.to_review() {
            review_of
                .entry(x.practice_code.as_str())
                .or_default()
                .push(x);
        }
    }
    let mut resolved_of: HashMap<&str, Vec<&ResolvedRow>> = HashMap::new();
    for x in &r.resolved {
        resolved_of
            .entry(x.practice_code.as_str())
            .or_default()
            .push(x);
    }
    let series_of: HashMap<&str, usize> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.level == "practice")
        .map(|(i, s)| (s.code.as_str(), i))
        .collect();
    let mut peers_of: HashMap<&str, Vec<&CohortSummary>> = HashMap::new();
    for s in &r.practice_summaries {
        peers_of.entry(s.ics_code.as_str()).or_default().push(s);
    }
    let ranked_of: HashMap<&str, Vec<(&str, f64)>> = peers_of
        .iter()
        .map(|(ics, peers)| (*ics, ranking(peers)))
        .collect();
    let months: Vec<String> = t.month_ends.iter().map(|d| month_label(*d)).collect();
    let high = t.measures().position(|m| m == Measure::HighDose);
    let names =
        crate::write::names::distinct_names(r.practice_summaries.iter().map(|p| p.code.as_str()))?;
    let root = out.join("practices");
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    // One practice's pack: what its workbook had to give way on (its files are
    // [`PACK_FILES`]). Nothing a pack allocates outlives it but a warning: a path kept per
    // pack, between the workbooks' large transient buffers, left the allocator's heap
    // fragmented, and an audit of 5,000 packs at 1.9 GB instead of 0.5 (BENCHMARKS.md).
    let pack = |p: &CohortSummary, name: &str| -> Result<Vec<String>> {
        let dir = root.join(name);
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut warnings = Vec::new();
        let review: &[&PatientRow] = review_of.get(p.code.as_str()).map_or(&[], |v| v);
        let resolved: &[&ResolvedRow] = resolved_of.get(p.code.as_str()).map_or(&[], |v| v);
        write_rows(
            &dir,
            "review_list",
            crate::write::patients::columns(false),
            review.iter().copied(),
            Format::Csv,
        )?;
        if let Some(book) = xlsx {
            let (_, cut) = crate::write::xlsx::write_review_xlsx(&dir, review, book)?;
            warnings.extend(
                cut.into_iter()
                    .map(|w| format!("practices/{name}/review_list.xlsx: {w}")),
            );
        }
        crate::write::audit::write_resolved(&dir, resolved.iter().copied(), previous, Format::Csv)?;
        let ics = r.ics_summaries.iter().find(|s| s.code == p.ics_code);
        let peers: &[(&str, f64)] = ranked_of.get(p.ics_code.as_str()).map_or(&[], |v| v);
        let chart = computed.zip(high).and_then(|(c, mi)| {
            let si = *series_of.get(p.code.as_str())?;
            let spc = c.charts[si][mi].as_ref()?;
            let title = if p.name.is_empty() {
                p.code.clone()
            } else {
                format!("{} ({})", p.name, p.code)
            };
            let svg = crate::write::chart::svg(&crate::write::chart::Chart {
                title: &title,
                label: crate::write::chart::label(Measure::HighDose),
                per: "at each month end",
                months: &months,
                spc,
                target: c.aims[si][mi].as_ref().map(|a| a.target),
                baseline: Some(t.aim_baseline()),
                complete_from: t.complete_from,
            });
            Some(svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))
        });
        let page = practice_page(
            p, ics, &all, peers, review, resolved, chart, config, r.as_of, previous,
        );
        let page = crate::write::markup::xml_chars(&page);
        let path = dir.join("report.html");
        write_atomically(&path, |w| {
            use std::io::Write;
            w.write_all(page.as_bytes())?;
            Ok(())
        })?;
        Ok(warnings)
    };
    // Half of the practices on each of two threads (the workbooks and pages are CPU work),
    // their results put back in the practices' order.
    let practices: Vec<(&CohortSummary, &String)> =
        r.practice_summaries.iter().zip(&names).collect();
    let half = practices.len().div_ceil(2);
    let run = |part: &[(&CohortSummary, &String)]| -> Result<Vec<Vec<String>>> {
        let mut done = Vec::with_capacity(part.len());
        for (p, name) in part {
            done.push(pack(p, name)?);
        }
        Ok(done)
    };
    let halves = std::thread::scope(|scope| {
        let (first, second) = practices.split_at(half);
        let upper = scope.spawn(|| {
            let done = run(second);
            crate::timing::lap("packs: second half written");
            done
        });
        let lower = run(first);
        crate::timing::lap("packs: first half written");
        (lower, upper.join())
    });
    let upper = match halves.1 {
        Ok(upper) => upper,
        Err(e) => std::panic::resume_unwind(e),
    };
    let mut packs = Packs::default();
    for ((p, name), warnings) in practices.iter().zip(halves.0?.into_iter().chain(upper?)) {
        packs.folders.push((p.code.clone(), (*name).clone()));
        let dir = root.join(name.as_str());
        packs.written.extend(
            PACK_FILES
                .iter()
                .filter(|f| xlsx.is_some() || **f != "review_list.xlsx")
                .map(|f| dir.join(f)),
        );
        packs.warnings.extend(warnings);
    }
    // The index: each practice's code (as the extract has it) beside its folder.
    let index: Vec<PackEntry> = r
        .practice_summaries
        .iter()
        .zip(&names)
        .map(|(p, folder)| PackEntry {
            p,
            folder: format!("practices/{folder}"),
            review_list_patients: review_of.get(p.code.as_str()).map_or(0, |v| v.len()),
        })
        .collect();
    packs
        .written
        .push(write_rows(&root, "index", PACK_INDEX, &index, Format::Csv)?);
    Ok(packs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn practice(code: String, high_dose: u64) -> CohortSummary {
        let mut s = CohortSummary::default();
        s.code = code;
        s.patients = 100;
        s.high_dose = high_dose;
        s
    }

    /// 100 practices, ranked by high dose per 100 on opioids (practice k has 100 − k): the
    /// chart of the 50th draws the top ten, its ten either side (40th to 60th) and the bottom
    /// ten, 41 bars, with the two gaps said (ranks 11 to 39, 61 to 90). 40 practices are all
    /// drawn.
    #[test]
    fn ranked_bars_of_a_large_ics_keep_the_top_the_bottom_and_the_neighbours() {
        let all: Vec<CohortSummary> = (0..100)
            .map(|k| practice(format!("P{k:03}"), 100 - k))
            .collect();
        let peers: Vec<&CohortSummary> = all.iter().collect();
        let ranked = ranking(&peers);
        let svg = ranked_bars("P049", &ranked, false);
        assert_eq!(svg.matches("<rect").count(), 41);
        assert!(svg.contains("… 29 practices ranked 11 to 39 …"), "{svg}");
        assert!(svg.contains("… 30 practices ranked 61 to 90 …"), "{svg}");
        assert!(svg.contains("(this practice, 50 of 100)"));
        assert!(svg.contains(">P039<") && svg.contains(">P059<") && !svg.contains(">P038<"));
        let svg = ranked_bars("P010", &ranking(&peers[..40]), false);
        assert_eq!(svg.matches("<rect").count(), 40);
        assert!(svg.contains("(this practice)") && !svg.contains("…"));
    }
}
