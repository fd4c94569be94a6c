//! What `opal audit` prints on the terminal: the ICS table, the practices with the highest
//! high-dose rates and the row accounting; no patient identifier, every cell escaped.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use crate::engine::{day_text, AuditConfig, AuditResult};
use crate::write::output::{fmt_num, table};

/// The audit's summary on stdout.
pub fn print_summary(r: &AuditResult, config: &AuditConfig, out: &Path) -> Result<()> {
    let mut o = io::stdout().lock();
    writeln!(
        o,
        "opal audit at {} (factor set {}; high dose above {} mg/day; long-term more than {} days)",
        day_text(r.as_of),
        crate::error::escape(&config.factors.name),
        fmt_num(config.timeline.threshold_mg_day),
        config.timeline.long_term_days
    )?;
    let has_lists = r.ics_summaries.iter().any(|s| s.list_size.is_some());
    let mut header = vec![
        "ICS",
        "practices",
        "patients",
        "high dose",
        "long-term",
        "both",
        "median OME/day",
        "p90 OME/day",
    ];
    if has_lists {
        header.push("high dose per 1000");
    }
    let mut t = table(&header);
    let show = |n: u64| -> String {
        if config.suppress {
            crate::summary::suppress_count(n).map_or("*".into(), |v| v.to_string())
        } else {
            n.to_string()
        }
    };
    for s in &r.ics_summaries {
        let mut row = vec![
            if s.name.is_empty() {
                s.code.clone()
            } else {
                format!("{} {}", s.code, s.name)
            },
            s.practices.to_string(),
            show(s.patients),
            show(s.high_dose),
            show(s.long_term),
            show(s.both),
            s.median_ome_mg_day
                .map(|v| format!("{v:.1}"))
                .unwrap_or_default(),
            s.p90_ome_mg_day
                .map(|v| format!("{v:.1}"))
                .unwrap_or_default(),
        ];
        if has_lists {
            row.push(match s.list_size {
                Some(l) if l > 0.0 => crate::values::sig3(s.high_dose as f64 * 1000.0 / l),
                _ => String::new(),
            });
        }
        crate::write::output::add_row(&mut t, row);
    }
    writeln!(o, "{t}")?;
    // Top practices by high-dose rate.
    let mut ranked: Vec<_> = r
        .practice_summaries
        .iter()
        .filter(|s| s.patients > 0)
        .map(|s| {
            let rate = match s.list_size {
                Some(l) if l > 0.0 => s.high_dose as f64 * 1000.0 / l,
                _ => s.high_dose as f64 * 100.0 / s.patients as f64,
            };
            (rate, s)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.code.cmp(&b.1.code)));
    if !ranked.is_empty() {
        let unit = if has_lists {
            "high dose per 1000 registered"
        } else {
            "% of opioid patients high dose"
        };
        let mut t = table(&["practice", "ICS", "patients", "high dose", unit]);
        for (rate, s) in ranked.iter().take(10) {
            crate::write::output::add_row(
                &mut t,
                vec![
                    s.code.clone(),
                    s.ics_code.clone(),
                    show(s.patients),
                    show(s.high_dose),
                    crate::values::sig3(*rate),
                ],
            );
        }
        writeln!(o, "top practices by high-dose rate\n{t}")?;
    }
    let a = &r.accounting;
    let mut t = table(&[
        "rows read",
        "used",
        "not opioid",
        "excluded",
        "unresolved",
        "rejected",
        "after as_of",
    ]);
    crate::write::output::add_row(
        &mut t,
        vec![
            a.read.to_string(),
            a.used.to_string(),
            a.not_opioid.to_string(),
            a.excluded.to_string(),
            a.unresolved.to_string(),
            a.rejected.to_string(),
            a.after_as_of.to_string(),
        ],
    );
    writeln!(o, "row accounting (read = the sum of the rest)\n{t}")?;
    let review = r.patients.iter().filter(|p| p.to_review()).count();
    // Since the previous audit, summed over the ICSs (suppressed like the table's counts).
    let total =
        |f: fn(&crate::summary::CohortSummary) -> u64| show(r.ics_summaries.iter().map(f).sum());
    writeln!(
        o,
        "since {}: {} new, {} continuing, {} returned on the list; {} resolved (resolved.csv)",
        day_text(crate::engine::patients::previous_as_of(r, config)),
        total(|s| s.status[0]),
        total(|s| s.status[1]),
        total(|s| s.status[2]),
        total(|s| s.resolved),
    )?;
    writeln!(
        o,
        "priority: {} at 1 (above {} mg/day with a CNS depressant, rising above 90, or \
         stopped abruptly), {} at 2 (above {}), {} at 3 (50 mg/day or more with a CNS \
         depressant, or rising), {} at 4 (long-term use)",
        total(|s| s.priority[0]),
        fmt_num(config.timeline.threshold_mg_day),
        total(|s| s.priority[1]),
        fmt_num(config.timeline.threshold_mg_day),
        total(|s| s.priority[2]),
        total(|s| s.priority[3]),
    )?;
    writeln!(
        o,
        "{} patients to review; outputs in {}",
        review,
        crate::error::escape(&out.display().to_string())
    )?;
    Ok(())
}

/// The ICSs and all practices: high-dose patients now, the baseline and target, and the
/// chart's icons. No patient identifier.
pub fn print_trend_summary(run: &crate::engine::trend::TrendRun, out: &Path) {
    use crate::trend::{month_label, Measure};
    let (series, t, rows) = (&run.series, &run.settings, run.result.accounting.read);
    let (first, last) = (
        month_label(t.month_ends[0]),
        month_label(*t.month_ends.last().unwrap_or(&crate::values::Day(0))),
    );
    println!(
        "opal trend: {} month ends, {first} to {last}, from {rows} rows",
        t.month_ends.len()
    );
    let base = t.aim_baseline();
    let warm_up = t.complete_from.min(t.month_ends.len());
    println!(
        "baseline {} to {} ({}){}",
        month_label(t.month_ends[base.start]),
        month_label(t.month_ends[base.end - 1]),
        if t.baseline.is_some() {
            "--baseline"
        } else {
            "the first 12 complete month ends"
        },
        if warm_up > 0 {
            format!(
                "; {warm_up} warm-up month end(s) before {} (the extract does not yet cover \
                 the look-back): not in the limits, drawn faded",
                month_label(t.month_ends[warm_up.min(t.month_ends.len() - 1)])
            )
        } else {
            String::new()
        }
    );
    let mut table = crate::write::output::table(&[
        "ICS",
        "name",
        "high dose now",
        "baseline",
        "target",
        "reduction",
        "variation",
        "assurance",
    ]);
    // The charts and aims worked out once for every output (the core's `compute`).
    let mi = t.measures().position(|m| m == Measure::HighDose);
    for (si, s) in series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.level != "practice")
    {
        let a = mi.and_then(|mi| run.computed.aims[si][mi].as_ref());
        let chart = mi.and_then(|mi| run.computed.charts[si][mi].as_ref());
        let fmt = |v: f64| crate::values::fmt_num((v * 10.0).round() / 10.0);
        table.add_row(vec![
            crate::error::escape(&s.code),
            crate::error::escape(&s.name),
            a.as_ref().map_or("*".into(), |a| fmt(a.latest)),
            a.as_ref().map_or("*".into(), |a| fmt(a.baseline)),
            a.as_ref().map_or("*".into(), |a| fmt(a.target)),
            a.as_ref()
                .and_then(|a| a.reduction_pct)
                .map_or(String::new(), |r| {
                    format!("{}{}%", if r > 0.0 { "+" } else { "" }, fmt(r))
                }),
            chart
                .as_ref()
                .map_or(String::new(), |c| c.variation.replace('_', " ")),
            chart
                .as_ref()
                .and_then(|c| c.assurance)
                .map_or(String::new(), |a| a.as_str().replace('_', " ")),
        ]);
    }
    println!("{table}");
    let charts: Vec<&crate::spc::Spc> = run.computed.charts.iter().flatten().flatten().collect();
    let suggested = charts
        .iter()
        .filter(|c| c.suggested_rebase.is_some())
        .count();
    let rebased = charts.iter().filter(|c| c.segments.len() > 1).count();
    if rebased > 0 {
        println!(
            "{rebased} of {} charts rebased (--rebase, or a --baseline after the first month)",
            charts.len()
        );
    }
    if suggested > 0 {
        println!(
            "a rebase is suggested on {suggested} of {} charts (a run of {} or more on one side of \
             the mean to the latest month; spc.csv's suggested_rebase): rebase only for a known \
             change, with --rebase",
            charts.len(),
            t.suggest_run
        );
    }
    println!("written to {}", out.display());
}
