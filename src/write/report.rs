//! report.html: one self-contained page for sharing beyond the practice (issue 17): the
//! settings, the ICS and practice tables, the XmR charts with their icons and the progress to
//! the aim, the row accounting and the data-quality notes. No patient identifier is in it;
//! with `--suppress` every count is suppressed (1–7 as `*`, others to the nearest 5), and the
//! page says whether counts are. No external script, font, style sheet or address: it opens
//! offline from a shared drive and prints on A4. Written with maud, which escapes every value.

use std::collections::BTreeMap;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::checks::Accounting;
use crate::settings::AuditConfig;
use crate::summary::{suppress_count, CohortSummary};
use crate::trend::{has_aim, Computed, TrendSettings};
use crate::trend::{month_label, Measure, Series};
use crate::values::{fmt_num, format_day, sig3, Day};

/// What the report shows.
pub struct Report<'a> {
    /// `opal audit` or `opal trend`.
    pub command: &'a str,
    pub as_of: Day,
    pub config: &'a AuditConfig,
    /// The audit's summaries (practices, ICSs), when the report is an audit's.
    pub summaries: Option<(&'a [CohortSummary], &'a [CohortSummary])>,
    /// The trend: its series, charts and settings.
    pub trend: Option<(&'a [Series], &'a Computed, &'a TrendSettings)>,
    pub accounting: &'a Accounting,
    /// Unresolved opioid items by reason.
    pub unresolved: Vec<(String, u64)>,
    /// Rejected rows by column.
    pub rejected: Vec<(String, u64)>,
    /// Opioid items whose days of supply were assumed.
    pub days_assumed: Option<u64>,
}

/// The pages' style. `.multiples` is drawn only when it scrolls into view
/// (`content-visibility:auto`; printing draws it all): a run of 5,000 practices puts 25,000
/// small charts on its report, which Chromium took 51 s to open, 12 s with it (BENCHMARKS.md).
pub const CSS: &str = "
body{font-family:Arial,Helvetica,sans-serif;color:#212b32;margin:24px;max-width:1100px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:28px;border-bottom:2px solid #005eb8;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #d8dde0;padding:4px 8px;text-align:right}
th{background:#f0f4f5;cursor:pointer;text-align:left}td:first-child,td.text{text-align:left}
caption{text-align:left;font-weight:bold;margin-bottom:4px}
.note{background:#fff9c4;border-left:4px solid #ffeb3b;padding:8px 12px;margin:12px 0}
.shared{background:#e8f4e8;border-left:4px solid #007f3b;padding:8px 12px;margin:12px 0}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:14px}dt{font-weight:bold}
.chart svg{max-width:100%;height:auto}
td svg{vertical-align:middle}
.multiples{display:grid;grid-template-columns:repeat(3,1fr);gap:8px;content-visibility:auto;contain-intrinsic-size:auto 260px}.multiples .chart{break-inside:avoid}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}.pair .chart{break-inside:avoid}
h4{font-size:14px;margin:14px 0 2px}
@page{size:A4;margin:12mm}
@media print{body{margin:0;max-width:none}th{cursor:default}.chart{break-inside:avoid}h2{break-after:avoid}}
";

/// Sorting by a click on a column's header: numbers as numbers, `*` and blanks last.
pub const SORT_JS: &str = "
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('th').forEach(function(th,i){
  th.addEventListener('click',function(){
   var b=t.tBodies[0],rows=Array.from(b.rows),up=th.dataset.dir!=='asc';
   t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');delete h.dataset.dir;});
   th.dataset.dir=up?'asc':'desc';th.setAttribute('aria-sort',up?'ascending':'descending');
   var key=function(r){var s=r.cells[i].textContent.trim(),n=parseFloat(s);return isNaN(n)?s:n;};
   rows.sort(function(x,y){var a=key(x),c=key(y);
    if(typeof a!==typeof c){return typeof a==='number'?-1:1;}
    return (a<c?-1:a>c?1:0)*(up?1:-1);});
   rows.forEach(function(r){b.appendChild(r);});
  });
 });
});
";

impl Report<'_> {
    fn count(&self, n: u64) -> String {
        if self.config.suppress {
            suppress_count(n).map_or("*".into(), |v| v.to_string())
        } else {
            n.to_string()
        }
    }

    fn rate(&self, n: u64, list: Option<f64>) -> String {
        let Some(l) = list.filter(|l| *l > 0.0) else {
            return String::new();
        };
        let n = if self.config.suppress {
            match suppress_count(n) {
                Some(v) => v,
                None => return "*".into(),
            }
        } else {
            n
        };
        sig3(n as f64 * 1000.0 / l)
    }

    fn summary_table(&self, caption: &str, rows: &[CohortSummary], is_ics: bool) -> Markup {
        let has_lists = rows.iter().any(|r| r.list_size.is_some());
        // The review list's priority tiers (an audit's; a trend has none).
        let has_priority = rows.iter().any(|r| r.priority.iter().sum::<u64>() > 0);
        html! {
            table.sortable {
                caption { (caption) " (click a heading to sort)" }
                thead { tr {
                    th scope="col" { @if is_ics { "ICS" } @else { "practice" } }
                    th scope="col" { "name" }
                    @if !is_ics { th scope="col" { "ICS" } }
                    th scope="col" { "patients on opioids" }
                    th scope="col" { "high dose" }
                    th scope="col" { "long-term" }
                    th scope="col" { "both" }
                    th scope="col" { "new" }
                    th scope="col" { "resolved" }
                    @if has_priority { @for k in 1..=4 { th scope="col" { "priority " (k) } } }
                    @if has_lists { th scope="col" { "high dose per 1000" } }
                    th scope="col" { "median OME mg/day" }
                } }
                tbody { @for r in rows {
                    @let hidden = self.config.suppress && suppress_count(r.patients).is_none();
                    tr {
                        td { (r.code) }
                        td.text { (r.name) }
                        @if !is_ics { td.text { (r.ics_code) } }
                        td { (self.count(r.patients)) }
                        td { (self.count(r.high_dose)) }
                        td { (self.count(r.long_term)) }
                        td { (self.count(r.both)) }
                        td { (self.count(r.status[0])) }
                        td { (self.count(r.resolved)) }
                        @if has_priority { @for k in 0..4 { td { (self.count(r.priority[k])) } } }
                        @if has_lists {
                            td { (self.rate(r.rate_base(is_ics).map_or(0, |b| b.high_dose), r.list_size)) }
                        }
                        td { @if !hidden { (r.median_ome_mg_day.map(|v| format!("{v:.1}")).unwrap_or_default()) } }
                    }
                } }
            }
        }
    }

    fn charts(&self) -> Markup {
        let Some((series, computed, t)) = self.trend else {
            return html! {};
        };
        let months: Vec<String> = t.month_ends.iter().map(|d| month_label(*d)).collect();
        let measures: Vec<Measure> = t.measures().collect();
        let drawn = series.iter().enumerate().any(|(si, s)| {
            s.level != "practice"
                && measures
                    .iter()
                    .enumerate()
                    .any(|(mi, m)| has_aim(*m) && computed.charts[si][mi].is_some())
        });
        if !drawn {
            return html! {
                h2 { "High-dose prescribing month by month" }
                p.note { "No XmR chart: every ICS has a month whose high-dose count is from 1 to 7, which --suppress hides, and a chart needs every month." }
            };
        }
        html! {
            h2 { "High-dose and long-term prescribing month by month" }
            p {
                "XmR charts as NHS England's Making Data Count draws them (METHOD.md §10): "
                (months.len()) " month ends, " (months.first().cloned().unwrap_or_default())
                " to " (months.last().cloned().unwrap_or_default())
                ". The dotted line is the target: the baseline (" (month_label(t.month_ends[t.aim_baseline().start]))
                " to " (month_label(t.month_ends[t.aim_baseline().end - 1])) ") less "
                (fmt_num(t.aim_fraction * 100.0)) "%. Points are coloured and shaped by type: "
                "circle common cause, diamond improvement, square concern."
            }
            h3 { "How to read these charts" }
            div.chart { (PreEscaped(crate::write::chart::key_svg())) }
            @for (si, s) in series.iter().enumerate().filter(|(_, s)| s.level != "practice") {
                @let title = if s.name.is_empty() { s.code.clone() } else { format!("{} ({})", s.name, s.code) };
                h3 { (title) }
                // High dose (with its target) and long-term, the aim's two halves, side by side.
                div.pair {
                    @for (mi, m) in measures.iter().enumerate().filter(|(_, m)| charted(**m)) {
                        @if let Some(chart) = &computed.charts[si][mi] {
                            (chart_div(&title, *m, &months, chart, computed.aims[si][mi].as_ref(), t))
                        }
                    }
                }
            }
            table {
                caption { "Progress against the aim: high-dose patients (ICSs and all practices)" }
                thead { tr {
                    th scope="col" { "ICS" } th scope="col" { "measure" } th scope="col" { "baseline" }
                    th scope="col" { "target" } th scope="col" { "latest" } th scope="col" { "reduction since the baseline" }
                    th scope="col" { "target met" }
                } }
                tbody {
                    @for (si, s) in series.iter().enumerate().filter(|(_, s)| s.level != "practice") {
                        @for (mi, m) in measures.iter().enumerate().filter(|(_, m)| has_aim(**m)) {
                            @if let Some(a) = &computed.aims[si][mi] {
                                tr {
                                    td { (s.code) } td.text { (m.name()) }
                                    td { (sig3(a.baseline)) } td { (sig3(a.target)) }
                                    td { (sig3(a.latest)) }
                                    td { (a.reduction_pct.map(|r| format!("{r:+.1}%")).unwrap_or_default()) }
                                    td { (if a.met { "yes" } else { "no" }) }
                                }
                            }
                        }
                    }
                }
            }
            (self.meeting_page(series, computed, t, &months))
        }
    }

    /// The ICB meeting page (issue 27.4): per ICS, every practice's high-dose measure in one
    /// sortable table (its PCN where the practices file gives one, latest, both icons,
    /// baseline, target, reduction, met, where its limits come from), then every practice's
    /// XmR charts, small — high dose, long-term and both — grouped by PCN where there are
    /// PCNs.
    fn meeting_page(
        &self,
        series: &[Series],
        computed: &Computed,
        t: &TrendSettings,
        months: &[String],
    ) -> Markup {
        let Some(mi) = t.measures().position(|m| m == Measure::HighDose) else {
            return html! {};
        };
        let small: Vec<(usize, Measure)> = t
            .measures()
            .enumerate()
            .filter(|(_, m)| {
                matches!(
                    m,
                    Measure::HighDose | Measure::LongTerm | Measure::HighDoseAndLongTerm
                )
            })
            .collect();
        let pcn_of = |code: &str| -> (String, String) {
            self.config
                .practices
                .as_ref()
                .and_then(|p| p.get(code))
                .map(|i| (i.pcn_code.clone(), i.pcn_name.clone()))
                .unwrap_or_default()
        };
        let mut ics_codes: Vec<&str> = series
            .iter()
            .filter(|s| s.level == "practice")
            .map(|s| s.ics_code.as_str())
            .collect();
        ics_codes.sort_unstable();
        ics_codes.dedup();
        html! {
            @for ics in ics_codes {
                @let practices: Vec<usize> = (0..series.len()).filter(|&i| series[i].level == "practice" && series[i].ics_code == ics).collect();
                @let with_pcn = practices.iter().any(|&i| !pcn_of(&series[i].code).0.is_empty());
                h2 id={ "meeting-" (ics) } { "Every practice of " (ics) ": high-dose patients" }
                table.sortable {
                    caption { "Practices of " (ics) " (click a heading to sort; icons as the key above)" }
                    thead { tr {
                        th scope="col" { "practice" } th scope="col" { "name" }
                        @if with_pcn { th scope="col" { "PCN" } }
                        th scope="col" { "latest" }
                        th scope="col" { "variation" } th scope="col" { "assurance" } th scope="col" { "baseline" }
                        th scope="col" { "target" } th scope="col" { "reduction since the baseline" } th scope="col" { "target met" }
                        th scope="col" { "limits" }
                    } }
                    tbody { @for &si in &practices {
                        @let s = &series[si];
                        @let chart = computed.charts[si][mi].as_ref();
                        @let aim = computed.aims[si][mi].as_ref();
                        tr {
                            td { (s.code) } td.text { (s.name) }
                            @if with_pcn {
                                @let (code, name) = pcn_of(&s.code);
                                td.text { (if name.is_empty() { code } else { format!("{name} ({code})") }) }
                            }
                            td { (aim.map(|a| fmt_num(a.latest)).unwrap_or_else(|| "*".into())) }
                            td.text { @if let Some(c) = chart { (PreEscaped(crate::write::chart::icon_svg(Some(c.variation), None))) " " (c.variation.replace('_', " ")) } @else { "no chart" } }
                            td.text { @if let Some(c) = chart { (PreEscaped(crate::write::chart::icon_svg(None, Some(c.assurance)))) " " (c.assurance.map(|a| a.as_str().replace('_', " ")).unwrap_or_default()) } }
                            td { (aim.map(|a| sig3(a.baseline)).unwrap_or_default()) }
                            td { (aim.map(|a| sig3(a.target)).unwrap_or_default()) }
                            td { (aim.and_then(|a| a.reduction_pct).map(|r| format!("{r:+.1}%")).unwrap_or_default()) }
                            td { (aim.map(|a| if a.met { "yes" } else { "no" }).unwrap_or("")) }
                            td.text { (chart.map(|c| limits_note(c, months)).unwrap_or_default()) }
                        }
                    } }
                }
                @let groups: Vec<((String, String), Vec<usize>)> = {
                    let mut g: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
                    for &si in &practices {
                        g.entry(pcn_of(&series[si].code)).or_default().push(si);
                    }
                    g.into_iter().collect()
                };
                @for ((pcn, pcn_name), members) in &groups {
                    @if with_pcn {
                        h3 { @if pcn.is_empty() { "No PCN given" } @else { "PCN " (if pcn_name.is_empty() { pcn.clone() } else { format!("{pcn_name} ({pcn})") }) } }
                    }
                    @for &si in members {
                        @let s = &series[si];
                        @let title = if s.name.is_empty() { s.code.clone() } else { format!("{} ({})", s.name, s.code) };
                        h4 { (title) }
                        div.multiples {
                            @for &(k, m) in &small {
                                @if let Some(chart) = computed.charts[si][k].as_ref() {
                                    (chart_div(&title, m, months, chart, computed.aims[si][k].as_ref(), t))
                                } @else {
                                    div.chart { p.note { (m.name()) ": no chart (a month is suppressed or missing)" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The measures the report charts, in order: high dose (the aim), long-term (its other half),
/// both, and their rates per 1000 with list sizes.
fn charted(m: Measure) -> bool {
    matches!(
        m,
        Measure::HighDose
            | Measure::LongTerm
            | Measure::HighDoseAndLongTerm
            | Measure::HighDosePer1000
            | Measure::LongTermPer1000
    )
}

/// One chart of the report, inline.
fn chart_div(
    title: &str,
    m: Measure,
    months: &[String],
    spc: &crate::spc::Spc,
    aim: Option<&crate::trend::Aim>,
    t: &TrendSettings,
) -> Markup {
    let svg = crate::write::chart::svg(&crate::write::chart::Chart {
        title,
        label: crate::write::chart::label(m),
        per: "at each month end",
        months,
        spc,
        target: aim.map(|a| a.target),
        baseline: Some(t.aim_baseline()),
        complete_from: t.complete_from,
    });
    // Inline SVG needs no namespace; without it the page holds no address.
    html! { div.chart { (PreEscaped(svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))) } }
}

/// Where a chart's limits come from, for a table: rebased (at its latest rebase), a rebase
/// suggested by a run to the latest month, or nothing when the limits are the baseline's.
fn limits_note(c: &crate::spc::Spc, months: &[String]) -> String {
    // Points are not months where suppressed months are gaps.
    let month = |k: usize| months.get(c.month_of(k)).cloned().unwrap_or_default();
    let mut note = match c.segments.last().filter(|_| c.segments.len() > 1) {
        Some(g) => format!("rebased at {}", month(g.points.start)),
        None => String::new(),
    };
    if let Some(k) = c.suggested_rebase {
        if !note.is_empty() {
            note.push_str("; ");
        }
        note.push_str(&format!("rebase? a run from {}", month(k)));
    }
    note
}

/// The page.
pub fn render(r: &Report) -> String {
    let c = r.config;
    let t = &c.timeline;
    let a = r.accounting;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Opioid prescribing report, " (format_day(r.as_of)) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "Opioid prescribing: high doses and long-term use" }
                p { "Made by " (r.command) " (opal " (env!("CARGO_PKG_VERSION")) ") at " (format_day(r.as_of)) "." }
                @if c.suppress {
                    p.shared { "Counts are suppressed for sharing: 1 to 7 are shown as *, other counts rounded to the nearest 5, and rates come from the rounded counts. No patient identifier is in this report." }
                } @else {
                    p.note { "Counts are not suppressed. Run with --suppress before sharing this report beyond the ICS. No patient identifier is in this report." }
                }
                h2 { "Settings" }
                dl {
                    dt { "Audit date" } dd { (format_day(r.as_of)) }
                    dt { "High dose" } dd { "above " (fmt_num(t.threshold_mg_day)) " mg oral morphine equivalent (OME) a day, the mean over " (t.dose_window_days) " days" }
                    dt { "Long-term" } dd { "a current episode longer than " (t.long_term_days) " days (gaps up to " (fmt_num(t.grace_days)) " days join supplies)" }
                    dt { "Conversion factors" } dd { (c.factors.name) " (SHA-256 " (c.factors.sha256.get(..12).unwrap_or("")) "…)" }
                    dt { "Opioid dependence products" } dd { @if c.include_dependence { "audited" } @else { "excluded" } }
                }
                @if let Some((practices, ics)) = r.summaries {
                    h2 { "ICSs" }
                    (r.summary_table("Current opioid patients by ICS", ics, true))
                    h2 { "Practices" }
                    (r.summary_table("Current opioid patients by practice", practices, false))
                }
                (r.charts())
                h2 { "Rows and data quality" }
                table {
                    caption { "Every row read is counted once: read = the sum of the rest" @if c.suppress { " (suppressed as above, so the sum may not hold here)" } }
                    thead { tr {
                        th scope="col" { "read" } th scope="col" { "used" } th scope="col" { "not opioid" }
                        th scope="col" { "excluded" } th scope="col" { "unresolved" } th scope="col" { "rejected" }
                        th scope="col" { "after the audit date" }
                    } }
                    tbody { tr {
                        @for n in [a.read, a.used, a.not_opioid, a.excluded, a.unresolved, a.rejected, a.after_as_of] {
                            td { (r.count(n)) }
                        }
                    } }
                }
                @if let Some(n) = r.days_assumed {
                    p { (r.count(n)) " opioid items had no duration and no readable directions: their days of supply were assumed (" (fmt_num(c.default_days)) " days)." }
                }
                @if !r.unresolved.is_empty() {
                    table {
                        caption { "Opioid items opal could not convert, by reason" }
                        thead { tr { th scope="col" { "reason" } th scope="col" { "items" } } }
                        tbody { @for (why, n) in &r.unresolved { tr { td.text { (why) } td { (r.count(*n)) } } } }
                    }
                }
                @if !r.rejected.is_empty() {
                    table {
                        caption { "Rows rejected, by column (rejected.csv has each row and why)" }
                        thead { tr { th scope="col" { "column" } th scope="col" { "rows" } } }
                        tbody { @for (col, n) in &r.rejected { tr { td.text { (col) } td { (r.count(*n)) } } } }
                    }
                }
                script { (PreEscaped(SORT_JS)) }
            }
        }
    };
    page.into_string()
}

/// Counts by key, most first, then by key.
pub fn tally<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<(String, u64)> {
    let mut m: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for k in keys {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<(String, u64)> = m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Write `<out>/report.html`.
pub fn write_report(out: &std::path::Path, report: &Report) -> anyhow::Result<std::path::PathBuf> {
    let path = out.join("report.html");
    let page = render(report);
    let page = crate::write::markup::xml_chars(&page);
    crate::write::table::write_atomically(&path, |w| {
        use std::io::Write;
        w.write_all(page.as_bytes())?;
        Ok(())
    })?;
    Ok(path)
}

/// The report of an audit: its summaries, and the trend of the month ends up to its date.
pub fn audit_report(
    out: &std::path::Path,
    r: &crate::engine::AuditResult,
    config: &AuditConfig,
    trend: (&[Series], Option<&Computed>, &TrendSettings),
) -> anyhow::Result<std::path::PathBuf> {
    let (series, computed, settings) = trend;
    let days_assumed = r
        .items
        .iter()
        .filter(|i| {
            r.item_values(i, config).days_supply_source == crate::engine::DaysSource::Default
        })
        .count() as u64;
    let report = Report {
        command: "opal audit",
        as_of: r.as_of,
        config,
        summaries: Some((&r.practice_summaries, &r.ics_summaries)),
        trend: computed.map(|c| (series, c, settings)),
        accounting: &r.accounting,
        unresolved: tally(r.unresolved.iter().map(|u| u.reason.as_str())),
        rejected: tally(r.rejected.iter().map(|x| x.column.as_str())),
        days_assumed: Some(days_assumed),
    };
    write_report(out, &report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spc::{xmr_with_gaps, Direction, SpcOptions};

    /// The meeting table's "limits" names months, not points: with suppressed months as gaps
    /// the two differ. Five 10s (months 0, 2, 4, 5, 6; months 1 and 3 hidden), then seven 0s
    /// (months 7 to 13): mean 50/12, a run of seven below it from the sixth point, month 7.
    #[test]
    fn limits_note_names_the_month_of_a_gapped_chart() {
        let mut v = vec![
            Some(10.0),
            None,
            Some(10.0),
            None,
            Some(10.0),
            Some(10.0),
            Some(10.0),
        ];
        v.extend([Some(0.0); 7]);
        let c = xmr_with_gaps(
            &v,
            &SpcOptions {
                direction: Direction::Decrease,
                ..SpcOptions::default()
            },
        );
        assert_eq!(c.suggested_rebase, Some(5));
        let months: Vec<String> = (1..=14).map(|m| format!("M{m:02}")).collect();
        assert_eq!(limits_note(&c, &months), "rebase? a run from M08");
    }
}
