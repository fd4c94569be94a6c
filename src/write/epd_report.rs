//! report/ of `opal epd --report`: the ICB's view from public data (METHOD.md §9.6). One
//! page for England (its charts, and every ICS in a sortable table) and one page per ICS (its
//! charts, a sortable table of its practices, every practice's XmR chart small, and each
//! practice's OpenPrescribing-style chart against the national deciles beside its XmR chart).
//! The charts are inside the pages, not files of their own. Self-contained HTML, as
//! report.html (write/report.rs): no script, font or style from elsewhere; maud escapes every
//! value.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::engine::epd::{EpdConfig, EpdTrend};
use crate::epd_trend::{EpdMeasure, EpdSeries, EPD_MEASURES};
use crate::values::{fmt_num, sig3};
use crate::write::chart::{deciles_svg, icon_svg, key_svg, svg, Chart, DecilesChart};
use crate::write::report::{CSS, SORT_JS};
use crate::write::table::write_atomically;

const EXTRA_CSS: &str = "nav{font-size:14px;margin-bottom:8px}";

/// Inline SVG needs no namespace; without it the page holds no address.
fn inline(svg: String) -> Markup {
    let svg = crate::write::markup::xml_chars(&svg);
    PreEscaped(svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))
}

fn title_of(s: &EpdSeries) -> String {
    if s.name.is_empty() {
        s.code.clone()
    } else {
        format!("{} ({})", s.name, s.code)
    }
}

struct Pages<'a> {
    t: &'a EpdTrend,
    config: &'a EpdConfig,
    /// The measure of the tables and the small multiples: high-dose items per 1000 at the
    /// run's threshold (the aim's measure).
    headline: EpdMeasure,
}

impl Pages<'_> {
    fn index(&self, m: EpdMeasure) -> usize {
        EPD_MEASURES.iter().position(|x| *x == m).unwrap_or(0)
    }

    /// The three measures at the run's threshold.
    fn shown(&self) -> [EpdMeasure; 3] {
        let v = self.config.version;
        [
            EpdMeasure::Per1000(v),
            EpdMeasure::Percent(v),
            EpdMeasure::Ome,
        ]
    }

    fn xmr(&self, si: usize, m: EpdMeasure) -> Option<Markup> {
        let t = self.t;
        let mi = self.index(m);
        let chart = t.computed.charts[si][mi].as_ref()?;
        let s = &t.series[si];
        Some(inline(svg(&Chart {
            title: &title_of(s),
            label: m.title(),
            per: "each month",
            months: &t.months,
            spc: chart,
            target: t.computed.aims[si][mi].as_ref().map(|a| a.target),
            baseline: m.has_aim().then(|| t.settings.aim_baseline()),
            complete_from: 0,
        })))
    }

    fn deciles(&self, si: usize, m: EpdMeasure) -> Markup {
        let t = self.t;
        let s = &t.series[si];
        // An ICS against ICSs (as OpenPrescribing compares a sub-ICB location with its
        // peers), a practice and England against practices.
        let (level, of) = if s.level == "ics" {
            ("ics", "ICSs")
        } else {
            ("practice", "practices")
        };
        let deciles: Vec<Option<[f64; 9]>> = (0..t.months.len())
            .map(|k| t.comparison.of(level, k, m).and_then(|d| d.deciles))
            .collect();
        let own: Vec<Option<f64>> = (0..t.months.len()).map(|k| s.value(m, k)).collect();
        inline(deciles_svg(&DecilesChart {
            title: &title_of(s),
            label: m.title(),
            months: &t.months,
            deciles: &deciles,
            own: &own,
            of,
        }))
    }

    fn head(&self, title: &str) -> Markup {
        html! {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) (PreEscaped(EXTRA_CSS)) }
            }
        }
    }

    /// A sortable table of organisations on the headline measure: latest value, national
    /// percentile, both icons, baseline, target, change since the baseline.
    fn table(&self, caption: &str, rows: &[usize], link: Option<&[String]>) -> Markup {
        let t = self.t;
        let mi = self.index(self.headline);
        let last = t.months.len().saturating_sub(1);
        html! {
            table.sortable {
                caption { (caption) " (click a heading to sort)" }
                thead { tr {
                    th scope="col" { "code" } th scope="col" { "name" }
                    th scope="col" { "latest" } th scope="col" { "national percentile" }
                    th scope="col" { "variation" } th scope="col" { "assurance" }
                    th scope="col" { "baseline" } th scope="col" { "target" }
                    th scope="col" { "reduction since the baseline" } th scope="col" { "months without rows" }
                } }
                tbody { @for (k, &si) in rows.iter().enumerate() {
                    @let s = &t.series[si];
                    @let chart = t.computed.charts[si][mi].as_ref();
                    @let aim = t.computed.aims[si][mi].as_ref();
                    tr {
                        td { @if let Some(l) = link { a href=(l[k]) { (s.code) } } @else { (s.code) } }
                        td.text { (s.name) }
                        td { (s.value(self.headline, last).map(sig3).unwrap_or_default()) }
                        td { (t.comparison.ranks[si][last][mi].map(|r| format!("{:.0}", r * 100.0)).unwrap_or_default()) }
                        td.text { @if let Some(c) = chart { (PreEscaped(icon_svg(Some(c.variation), None))) " " (c.variation.replace('_', " ")) } @else { "no chart" } }
                        td.text { @if let Some(c) = chart { (PreEscaped(icon_svg(None, Some(c.assurance)))) " " (c.assurance.map(|a| a.as_str().replace('_', " ")).unwrap_or_default()) } }
                        td { (aim.map(|a| sig3(a.baseline)).unwrap_or_default()) }
                        td { (aim.map(|a| sig3(a.target)).unwrap_or_default()) }
                        td { (aim.and_then(|a| a.reduction_pct).map(|r| format!("{r:+.1}%")).unwrap_or_default()) }
                        td { (s.gaps().len()) }
                    }
                } }
            }
        }
    }

    fn settings(&self) -> Markup {
        let t = self.t;
        let base = t.settings.aim_baseline();
        html! {
            dl {
                dt { "Months" } dd { (t.months.len()) ", " (t.months.first().cloned().unwrap_or_default()) " to " (t.months.last().cloned().unwrap_or_default()) }
                dt { "High dose" } dd { (self.config.version.mg()) " mg/day OME (OpenPrescribing's measures; both thresholds are in spc.csv)" }
                dt { "Factor set" } dd { (self.config.factors.name) }
                dt { "National comparison" } dd { (t.compared_by) }
                dt { "Baseline of the aim" } dd {
                    (t.months.get(base.start).cloned().unwrap_or_default()) " to "
                    (t.months.get(base.end.saturating_sub(1)).cloned().unwrap_or_default())
                    "; the aim a reduction of " (fmt_num(t.settings.aim_fraction * 100.0)) "% in high-dose items per 1,000 patients"
                }
            }
        }
    }

    fn how_to_read(&self) -> Markup {
        html! {
            h2 { "How to read these charts" }
            p {
                "Each measure has two charts. The XmR chart (NHS England's Making Data Count) shows "
                "whether the organisation's own process has changed: points by colour and shape, "
                "the mean and process limits, the target dotted. The chart against the national "
                "deciles (as OpenPrescribing draws it) shows where the organisation stands among "
                "England's practices: the red line is the organisation, the bold dashed line the "
                "median practice, the thin dashed lines the 10th to 90th percentiles."
            }
            div.chart { (PreEscaped(key_svg())) }
        }
    }

    fn england(&self, ics_rows: &[usize], ics_files: &[String]) -> String {
        let t = self.t;
        let ei = t.series.iter().position(|s| s.level == "england");
        let title = format!(
            "Opioid prescribing in England's practices, {} to {}",
            t.months.first().cloned().unwrap_or_default(),
            t.months.last().cloned().unwrap_or_default()
        );
        html! {
            (DOCTYPE)
            html lang="en" {
                (self.head(&title))
                body {
                    h1 { (title) }
                    p { "From the English Prescribing Dataset by opal epd (METHOD.md §9). Public data: practice totals, no patient." }
                    (self.settings())
                    (self.how_to_read())
                    @if let Some(ei) = ei {
                        @for m in self.shown() {
                            h2 { "England: " (m.title()) }
                            div.pair {
                                div.chart { (self.deciles(ei, m)) }
                                div.chart { @if let Some(x) = self.xmr(ei, m) { (x) } @else { p.note { "No XmR chart: it needs two months or more." } } }
                            }
                        }
                    }
                    h2 { "Every ICS" }
                    (self.table(&format!("ICSs: {}", self.headline.title()), ics_rows, Some(ics_files)))
                    script { (PreEscaped(SORT_JS)) }
                }
            }
        }
        .into_string()
    }

    fn ics_page(&self, ii: usize, practices: &[usize]) -> String {
        let t = self.t;
        let s = &t.series[ii];
        let title = format!("{}: opioid prescribing by practice", title_of(s));
        let mi = self.index(self.headline);
        html! {
            (DOCTYPE)
            html lang="en" {
                (self.head(&title))
                body {
                    nav { a href="index.html" { "England and every ICS" } }
                    h1 { (title) }
                    (self.settings())
                    h2 { (title_of(s)) ": " (self.headline.title()) }
                    div.pair {
                        div.chart { (self.deciles(ii, self.headline)) }
                        div.chart { @if let Some(x) = self.xmr(ii, self.headline) { (x) } }
                    }
                    h2 { "Every practice" }
                    (self.table(&format!("Practices of {}: {}", s.code, self.headline.title()), practices, None))
                    h2 { "Every practice's XmR chart" }
                    @let missing: Vec<&str> = practices.iter().filter(|&&p| t.computed.charts[p][mi].is_none()).map(|&p| t.series[p].code.as_str()).collect();
                    @if !missing.is_empty() {
                        p.note { "No chart for " (missing.join(", ")) ": a chart needs a value every month (a practice that opened, closed or merged has months without rows; practices.csv lists them)." }
                    }
                    div.multiples { @for &p in practices { @if let Some(x) = self.xmr(p, self.headline) { div.chart { (x) } } } }
                    h2 { "Each practice against England's practices" }
                    @for &p in practices {
                        h3 { (title_of(&t.series[p])) }
                        @for m in self.shown() {
                            div.pair {
                                div.chart { (self.deciles(p, m)) }
                                div.chart { @if let Some(x) = self.xmr(p, m) { (x) } }
                            }
                        }
                    }
                    script { (PreEscaped(SORT_JS)) }
                }
            }
        }
        .into_string()
    }
}

fn write_page(path: &Path, page: &str) -> Result<PathBuf> {
    write_atomically(path, |w| {
        use std::io::Write;
        w.write_all(page.as_bytes())?;
        Ok(())
    })
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// report/index.html and report/ics-<code>.html; returns the paths written.
pub fn write(out: &Path, t: &EpdTrend, config: &EpdConfig) -> Result<Vec<PathBuf>> {
    let dir = out.join("report");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pages = Pages {
        t,
        config,
        headline: EpdMeasure::Per1000(config.version),
    };
    let ics: Vec<usize> = (0..t.series.len())
        .filter(|&i| t.series[i].level == "ics")
        .collect();
    let names =
        crate::write::names::distinct_names(ics.iter().map(|&i| t.series[i].code.as_str()))?;
    let files: Vec<String> = names.iter().map(|n| format!("ics-{n}.html")).collect();
    let mut written = vec![write_page(
        &dir.join("index.html"),
        &pages.england(&ics, &files),
    )?];
    for (&ii, file) in ics.iter().zip(&files) {
        let code = &t.series[ii].code;
        let practices: Vec<usize> = (0..t.series.len())
            .filter(|&p| {
                let s = &t.series[p];
                s.level == "practice" && s.compared && &s.ics_code == code
            })
            .collect();
        written.push(write_page(
            &dir.join(file),
            &pages.ics_page(ii, &practices),
        )?);
    }
    Ok(written)
}

/// `--charts LEVEL,…`: each series of those levels as SVG files in charts/, its XmR chart and
/// its chart against the national deciles for each measure at the run's threshold, and
/// charts/index.csv (level, code, name, measure, kind, file). Returns the paths written.
pub fn write_charts(
    out: &Path,
    t: &EpdTrend,
    config: &EpdConfig,
    levels: &[String],
) -> Result<Vec<PathBuf>> {
    let dir = out.join("charts");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pages = Pages {
        t,
        config,
        headline: EpdMeasure::Per1000(config.version),
    };
    let mut written = Vec::new();
    let mut index: Vec<crate::write::trend::ChartEntry> = Vec::new();
    for level in ["england", "ics", "pcn", "practice"] {
        if !levels.iter().any(|l| l == level) {
            continue;
        }
        let of_level: Vec<usize> = (0..t.series.len())
            .filter(|&i| t.series[i].level == level)
            .collect();
        let names = crate::write::names::distinct_names(
            of_level.iter().map(|&i| t.series[i].code.as_str()),
        )?;
        for (&si, name) in of_level.iter().zip(&names) {
            let s = &t.series[si];
            for m in pages.shown() {
                let mut charts = vec![("deciles", Some(pages.deciles(si, m)))];
                charts.push(("xmr", pages.xmr(si, m)));
                for (kind, chart) in charts {
                    let Some(chart) = chart else {
                        continue;
                    };
                    let file = format!("{level}-{name}-{}-{kind}.svg", m.id());
                    // Standalone files keep their namespace.
                    let svg = chart.into_string().replacen(
                        "<svg ",
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" ",
                        1,
                    );
                    written.push(write_page(&dir.join(&file), &svg)?);
                    index.push(crate::write::trend::ChartEntry {
                        level: level.to_string(),
                        code: s.code.clone(),
                        name: s.name.clone(),
                        measure: m.id().to_string(),
                        kind,
                        file,
                    });
                }
            }
        }
    }
    written.push(crate::write::trend::write_chart_index(&dir, &index, true)?);
    Ok(written)
}
