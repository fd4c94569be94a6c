//! Practice packs (`--practice-packs`, issue 17): `practices/<ODS code>/` with the practice's
//! own review list, its resolved patients, and a report.html for the practice — its measures
//! against its ICS and all practices, where its high-dose rate ranks among its ICS's
//! practices, its run chart, and its review list with reasons, status and taper. Nothing of
//! any other practice's patients is in a pack.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use maud::{html, PreEscaped, DOCTYPE};

use crate::engine::{AuditConfig, AuditResult, PatientRow, ResolvedRow};
use crate::summary::{suppress_count, CohortSummary};
use crate::trend::{month_label, Measure, Series};
use crate::values::{fmt_num, format_day};
use crate::write::patients::{patient_order, patient_table};
use crate::write::table::{write_atomically, write_table, Format};
use crate::write::trend::{file_safe, Computed, TrendSettings};

/// The high-dose rate that ranks practices: per 1000 registered patients with list sizes,
/// else per 100 patients on opioids.
fn rate(s: &CohortSummary) -> Option<f64> {
    match s.list_size {
        Some(l) if l > 0.0 => Some(s.high_dose as f64 * 1000.0 / l),
        _ if s.patients > 0 => Some(s.high_dose as f64 * 100.0 / s.patients as f64),
        _ => None,
    }
}

/// A ranked bar chart of the high-dose rate of an ICS's practices, this one highlighted.
fn ranked_bars(me: &str, practices: &[&CohortSummary], per_1000: bool) -> String {
    let mut bars: Vec<(&str, f64)> = practices
        .iter()
        .filter_map(|p| rate(p).map(|r| (p.code.as_str(), r)))
        .collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let (w, row) = (760.0, 18.0);
    let h = 40.0 + row * bars.len() as f64;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9);
    let unit = if per_1000 {
        "high-dose patients per 1,000 registered"
    } else {
        "high-dose patients per 100 on opioids"
    };
    let mut o = format!(
        r##"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Practices of the ICS ranked by {unit}; this practice highlighted" font-family="Arial, Helvetica, sans-serif"><title>Practices ranked by {unit}</title><text x="0" y="14" font-size="13" fill="#212b32">{unit}, highest first</text>"##
    );
    for (i, (code, v)) in bars.iter().enumerate() {
        let y = 26.0 + i as f64 * row;
        let len = v / max * (w - 200.0);
        let mine = *code == me;
        let (fill, weight) = if mine {
            ("#005eb8", "bold")
        } else {
            ("#aeb7bd", "normal")
        };
        o.push_str(&format!(
            r##"<text x="0" y="{:.1}" font-size="12" font-weight="{weight}" fill="#212b32">{}</text><rect x="90" y="{y:.1}" width="{len:.1}" height="{:.1}" fill="{fill}"><title>{}: {:.2}</title></rect><text x="{:.1}" y="{:.1}" font-size="11" fill="#425563">{:.2}{}</text>"##,
            y + 12.0,
            crate::write::chart::xml(code),
            row - 4.0,
            crate::write::chart::xml(code),
            v,
            96.0 + len,
            y + 12.0,
            v,
            if mine { " (this practice)" } else { "" }
        ));
    }
    o.push_str("</svg>");
    o
}

/// The report of one practice, for the practice (it lists its own patients).
#[allow(clippy::too_many_arguments)]
fn practice_page(
    p: &CohortSummary,
    ics: Option<&CohortSummary>,
    all: &CohortSummary,
    peers: &[&CohortSummary],
    review: &[&PatientRow],
    resolved: &[&ResolvedRow],
    chart: Option<String>,
    config: &AuditConfig,
    as_of: i32,
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
                style { (PreEscaped(crate::write::report::CSS)) }
            }
            body {
                h1 { "Opioid review pack: " (title) }
                p.note { "For the practice: this pack lists the practice's own patients. Do not share it beyond the practice." }
                p { "Audit date " (format_day(as_of)) "; high dose above " (fmt_num(config.timeline.threshold_mg_day)) " mg OME a day; long-term more than " (config.timeline.long_term_days) " days." }
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
                            td { (rate(s).map(|r| format!("{r:.2}")).unwrap_or_default()) }
                        }
                    } }
                }
                div.chart { (PreEscaped(ranked_bars(&p.code, peers, per_1000))) }
                @if let Some(svg) = chart {
                    h2 { "Month by month" }
                    div.chart { (PreEscaped(svg)) }
                }
                h2 { "Patients to review (" (review.len()) ")" }
                table {
                    thead { tr {
                        th scope="col" { "patient" } th scope="col" { "OME mg/day" } th scope="col" { "status" }
                        th scope="col" { "taper" } th scope="col" { "co-prescribed" } th scope="col" { "reasons" }
                    } }
                    tbody { @for r in review {
                        tr {
                            td { (r.patient_id) } td { (format!("{:.1}", r.measures.ome_mg_day)) }
                            td.text { (r.status.map(|s| s.as_str()).unwrap_or("")) }
                            td.text { (r.taper.map(|t| t.label.as_str()).unwrap_or("")) }
                            td.text { (r.co_prescribed) } td.text { (r.reasons) }
                        }
                    } }
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
            }
        }
    }
    .into_string()
}

/// Write every practice's pack; returns the files written.
pub fn write_practice_packs(
    out: &Path,
    r: &AuditResult,
    config: &AuditConfig,
    previous: &str,
    trend: (&[Series], Option<&Computed>, &TrendSettings),
    xlsx: bool,
) -> Result<Vec<PathBuf>> {
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
    let ordered = patient_order(&r.patients);
    let months: Vec<String> = t.month_ends.iter().map(|d| month_label(*d)).collect();
    let high = t.measures().position(|m| m == Measure::HighDose);
    let mut written = Vec::new();
    for p in &r.practice_summaries {
        let dir = out.join("practices").join(file_safe(&p.code));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let review: Vec<&PatientRow> = ordered
            .iter()
            .copied()
            .filter(|x| x.practice_code == p.code && x.to_review())
            .collect();
        let resolved: Vec<&ResolvedRow> = r
            .resolved
            .iter()
            .filter(|x| x.practice_code == p.code)
            .collect();
        written.push(write_table(
            &dir,
            "review_list",
            &patient_table(&review, false),
            Format::Csv,
        )?);
        if xlsx {
            written.push(crate::write::xlsx::write_review_xlsx(
                &dir, &review, r.as_of,
            )?);
        }
        let owned: Vec<ResolvedRow> = resolved.iter().map(|x| (*x).clone()).collect();
        written.push(crate::write::audit::write_resolved(
            &dir,
            &owned,
            previous,
            Format::Csv,
        )?);
        let ics = r.ics_summaries.iter().find(|s| s.code == p.ics_code);
        let peers: Vec<&CohortSummary> = r
            .practice_summaries
            .iter()
            .filter(|s| s.ics_code == p.ics_code)
            .collect();
        let chart = computed.zip(high).and_then(|(c, mi)| {
            let si = series
                .iter()
                .position(|s| s.level == "practice" && s.code == p.code)?;
            let spc = c.charts[si][mi].as_ref()?;
            let title = if p.name.is_empty() {
                p.code.clone()
            } else {
                format!("{} ({})", p.name, p.code)
            };
            let svg = crate::write::chart::svg(&crate::write::chart::Chart {
                title: &title,
                measure: Measure::HighDose,
                months: &months,
                spc,
                target: c.aims[si][mi].as_ref().map(|a| a.target),
            });
            Some(svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))
        });
        let page = practice_page(
            p, ics, &all, &peers, &review, &resolved, chart, config, r.as_of,
        );
        let path = dir.join("report.html");
        write_atomically(&path, |w| {
            use std::io::Write;
            w.write_all(page.as_bytes())?;
            Ok(())
        })?;
        written.push(path);
    }
    Ok(written)
}
