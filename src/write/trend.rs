//! The outputs of `opal trend`: measures, spc, aims (CSV or Parquet) and the charts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::trend::{has_aim, month_label, Computed, Series, TrendSettings, Value};
use crate::values::format_day;
use crate::write::cells::{push_cell, Cell, Kind};
use crate::write::table::{write_atomically, write_table, Format, Table};

/// Rows of a table on their way to CSV (formatted straight into bytes: the trend's tables
/// have a row per practice, measure and month) or to the typed columns of Parquet.
pub enum Sink {
    Csv { out: Vec<u8>, num: String },
    Columns(Vec<(&'static str, Column)>),
}

pub enum Column {
    Text(Vec<Option<String>>),
    Number(Vec<Option<f64>>),
    Flag(Vec<Option<bool>>),
}

impl Sink {
    pub fn new(columns: &[(&'static str, Kind)], format: Format) -> Sink {
        match format {
            Format::Csv => {
                let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
                let mut out = names.join(",").into_bytes();
                out.push(b'\n');
                Sink::Csv {
                    out,
                    num: String::new(),
                }
            }
            Format::Parquet => Sink::Columns(
                columns
                    .iter()
                    .map(|&(name, kind)| {
                        let c = match kind {
                            Kind::Number | Kind::Integer => Column::Number(Vec::new()),
                            Kind::Flag => Column::Flag(Vec::new()),
                            Kind::Text | Kind::Date => Column::Text(Vec::new()),
                        };
                        (name, c)
                    })
                    .collect(),
            ),
        }
    }

    pub fn row(&mut self, cells: &[Cell]) {
        match self {
            Sink::Csv { out, num } => {
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_cell(out, num, c);
                }
                out.push(b'\n');
            }
            Sink::Columns(cols) => {
                for ((_, col), cell) in cols.iter_mut().zip(cells) {
                    match col {
                        Column::Text(v) => v.push(cell.text()),
                        Column::Number(v) => v.push(cell.number()),
                        Column::Flag(v) => v.push(cell.flag()),
                    }
                }
            }
        }
    }

    pub fn write(self, dir: &Path, stem: &str, format: Format) -> Result<PathBuf> {
        match self {
            Sink::Csv { out, .. } => {
                let path = dir.join(format!("{stem}.csv"));
                write_atomically(&path, |w| {
                    use std::io::Write;
                    w.write_all(&out)?;
                    Ok(())
                })
                .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(path)
            }
            Sink::Columns(cols) => {
                let mut t = Table::new();
                for (name, col) in cols {
                    t = match col {
                        Column::Text(v) => t.text(name, v),
                        Column::Number(v) => t.number(name, v),
                        Column::Flag(v) => t.flag(name, v),
                    };
                }
                write_table(dir, stem, &t, format)
            }
        }
    }
}

/// A count's cell: a number, or with --suppress text (`*` where hidden).
fn count_cell(v: Value, as_text: bool, buf: &mut String) -> Cell<'_> {
    buf.clear();
    match (v, as_text) {
        (Value::Number(x), false) => Cell::Number(Some(x)),
        (Value::Number(x), true) => {
            crate::values::push_num(buf, x);
            Cell::Text(buf)
        }
        (Value::Suppressed, _) => {
            buf.push('*');
            Cell::Text(buf)
        }
        (Value::Missing, true) => Cell::OptText(None),
        (Value::Missing, false) => Cell::Number(None),
    }
}

/// measures: one row per series, measure and month. With --suppress the counts are text
/// (`*` where hidden), as in the summaries.
fn measures_rows(series: &[Series], t: &TrendSettings, format: Format) -> Sink {
    let count = if t.suppress { Kind::Text } else { Kind::Number };
    let mut sink = Sink::new(
        &[
            ("level", Kind::Text),
            ("code", Kind::Text),
            ("name", Kind::Text),
            ("month", Kind::Text),
            ("as_of", Kind::Text),
            ("complete", Kind::Flag),
            ("measure", Kind::Text),
            ("numerator", count),
            ("denominator", Kind::Number),
            ("value", count),
        ],
        format,
    );
    let months: Vec<(String, String)> = t
        .month_ends
        .iter()
        .map(|&d| (month_label(d), format_day(d)))
        .collect();
    let (mut nbuf, mut vbuf) = (String::new(), String::new());
    for s in series {
        for m in t.measures() {
            for (k, (month, as_of)) in months.iter().enumerate() {
                let (n, d, v) = s.value(m, k, t.suppress);
                let ncell = count_cell(n, t.suppress, &mut nbuf);
                let vcell = count_cell(v, t.suppress, &mut vbuf);
                sink.row(&[
                    Cell::Text(s.level),
                    Cell::Text(&s.code),
                    Cell::Text(&s.name),
                    Cell::Text(month),
                    Cell::Text(as_of),
                    Cell::Flag(Some(t.complete(k))),
                    Cell::Text(m.name()),
                    ncell,
                    match d {
                        Value::Number(x) => Cell::Number(Some(x)),
                        _ => Cell::Number(None),
                    },
                    vcell,
                ]);
            }
        }
    }
    sink
}

/// One series' chart of one measure, as `spc.csv` writes it (the trend's and the EPD's).
pub struct SpcRow<'a> {
    pub level: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub measure: &'a str,
    pub direction: crate::spc::Direction,
    pub chart: &'a crate::spc::Spc,
    pub target: Option<f64>,
}

/// One series' aim of one measure, as `aims.csv` writes it.
pub struct AimRow<'a> {
    pub level: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub measure: &'a str,
    pub aim: Option<&'a crate::trend::Aim>,
}

/// Each month's label (`YYYY-MM`) and its month end (`as_of`).
pub fn month_labels(t: &TrendSettings) -> Vec<(String, String)> {
    t.month_ends
        .iter()
        .map(|&d| (month_label(d), format_day(d)))
        .collect()
}

/// spc: one row per series, measure and month, with the chart's lines, the rules that flag
/// each point, and the series' icons.
pub fn spc_table<'a>(
    rows: impl Iterator<Item = SpcRow<'a>>,
    t: &TrendSettings,
    format: Format,
) -> Sink {
    let mut sink = Sink::new(
        &[
            ("level", Kind::Text),
            ("code", Kind::Text),
            ("name", Kind::Text),
            ("measure", Kind::Text),
            ("direction", Kind::Text),
            ("month", Kind::Text),
            ("as_of", Kind::Text),
            ("complete", Kind::Flag),
            ("value", Kind::Number),
            ("mean", Kind::Number),
            ("lower_process_limit", Kind::Number),
            ("upper_process_limit", Kind::Number),
            ("trial_limits", Kind::Flag),
            ("special_cause", Kind::Text),
            ("point_type", Kind::Text),
            ("variation", Kind::Text),
            ("target", Kind::Number),
            ("assurance", Kind::Text),
            ("rebased", Kind::Flag),
            ("suggested_rebase", Kind::Text),
        ],
        format,
    );
    let months = month_labels(t);
    let finite = |v: f64| Some(v).filter(|x| x.is_finite());
    for r in rows {
        let chart = r.chart;
        let suggested = chart
            .suggested_rebase
            .and_then(|k| months.get(chart.month_of(k)))
            .map(|(m, _)| m.as_str());
        // A point per month shown: with --suppress a hidden month has no row (a gap).
        for (k, p) in chart.points.iter().enumerate() {
            let at = chart.month_of(k);
            let Some((month, as_of)) = months.get(at) else {
                continue;
            };
            let label = p.rules.label();
            let part = chart.segment(k);
            sink.row(&[
                Cell::Text(r.level),
                Cell::Text(r.code),
                Cell::Text(r.name),
                Cell::Text(r.measure),
                Cell::Text(r.direction.as_str()),
                Cell::Text(month),
                Cell::Text(as_of),
                Cell::Flag(Some(t.complete(at))),
                Cell::Number(Some(p.value)),
                Cell::Number(finite(part.mean)),
                Cell::Number(finite(part.lower_process_limit)),
                Cell::Number(finite(part.upper_process_limit)),
                Cell::Flag(Some(part.trial_limits)),
                Cell::Text(&label),
                Cell::Text(p.point_type.as_str()),
                Cell::Text(chart.variation),
                Cell::Number(r.target),
                Cell::OptText(chart.assurance.map(|a| a.as_str())),
                Cell::Flag(Some(chart.rebased_at(k))),
                Cell::OptText(suggested),
            ]);
        }
    }
    sink
}

/// spc of the trend's series. Series with a suppressed or missing month are left out.
fn spc_rows(series: &[Series], c: &Computed, t: &TrendSettings, format: Format) -> Sink {
    let rows = series.iter().enumerate().flat_map(|(si, s)| {
        t.measures().enumerate().filter_map(move |(mi, m)| {
            Some(SpcRow {
                level: s.level,
                code: &s.code,
                name: &s.name,
                measure: m.name(),
                direction: m.direction(),
                chart: c.charts[si][mi].as_ref()?,
                target: c.aims[si][mi].as_ref().map(|a| a.target),
            })
        })
    });
    spc_table(rows, t, format)
}

/// aims: each series' baseline, target and progress.
pub fn aims_table<'a>(
    rows: impl Iterator<Item = AimRow<'a>>,
    t: &TrendSettings,
    format: Format,
) -> Sink {
    let mut sink = Sink::new(
        &[
            ("level", Kind::Text),
            ("code", Kind::Text),
            ("name", Kind::Text),
            ("measure", Kind::Text),
            ("baseline_from", Kind::Text),
            ("baseline_to", Kind::Text),
            ("baseline", Kind::Number),
            ("aim_reduction_pct", Kind::Number),
            ("target", Kind::Number),
            ("latest_month", Kind::Text),
            ("latest", Kind::Number),
            ("reduction_pct", Kind::Number),
            ("target_met", Kind::Flag),
        ],
        format,
    );
    let base = t.aim_baseline();
    let from = month_label(t.month_ends[base.start]);
    let to = month_label(t.month_ends[base.end - 1]);
    let latest_month = t
        .month_ends
        .last()
        .map(|d| month_label(*d))
        .unwrap_or_default();
    for r in rows {
        let a = r.aim;
        sink.row(&[
            Cell::Text(r.level),
            Cell::Text(r.code),
            Cell::Text(r.name),
            Cell::Text(r.measure),
            Cell::Text(&from),
            Cell::Text(&to),
            Cell::Number(a.map(|a| a.baseline)),
            Cell::Number(Some(t.aim_fraction * 100.0)),
            Cell::Number(a.map(|a| a.target)),
            Cell::Text(&latest_month),
            Cell::Number(a.map(|a| a.latest)),
            Cell::Number(a.and_then(|a| a.reduction_pct)),
            Cell::Flag(a.map(|a| a.met)),
        ]);
    }
    sink
}

/// aims of the trend: for every series, the high-dose measures' baseline, target and progress.
fn aims_rows(series: &[Series], c: &Computed, t: &TrendSettings, format: Format) -> Sink {
    let rows = series.iter().enumerate().flat_map(|(si, s)| {
        t.measures()
            .enumerate()
            .filter(|(_, m)| has_aim(*m))
            .map(move |(mi, m)| AimRow {
                level: s.level,
                code: &s.code,
                name: &s.name,
                measure: m.name(),
                aim: c.aims[si][mi].as_ref(),
            })
    });
    aims_table(rows, t, format)
}

/// The charts: per ICS and per practice (and for all practices), high-dose patients and,
/// with list sizes, high-dose patients per 1000, and `charts/index.csv`. Returns the files
/// written (into the run's staging folder, synced once with the rest: write/outdir.rs).
pub fn write_charts(
    out: &Path,
    series: &[Series],
    c: &Computed,
    t: &TrendSettings,
) -> Result<Vec<PathBuf>> {
    let dir = out.join("charts");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let labels: Vec<String> = t.month_ends.iter().map(|d| month_label(*d)).collect();
    let mut written = Vec::new();
    // One name per code (write/names.rs), checked distinct within each level.
    let mut names = Vec::with_capacity(series.len());
    for level in ["all", "ics", "practice"] {
        let of_level: Vec<usize> = (0..series.len())
            .filter(|&i| series[i].level == level)
            .collect();
        let n =
            crate::write::names::distinct_names(of_level.iter().map(|&i| series[i].code.as_str()))?;
        names.extend(of_level.into_iter().zip(n));
    }
    let mut name_of = vec![String::new(); series.len()];
    for (i, n) in names {
        name_of[i] = n;
    }
    let mut index: Vec<[String; 5]> = Vec::new();
    for (si, s) in series.iter().enumerate() {
        for (mi, m) in t.measures().enumerate() {
            let Some(chart) = c.charts[si][mi].as_ref().filter(|_| has_aim(m)) else {
                continue;
            };
            let title = match s.name.as_str() {
                "" => s.code.clone(),
                name => format!("{name} ({})", s.code),
            };
            let svg = crate::write::chart::svg(&crate::write::chart::Chart {
                title: &title,
                label: crate::write::chart::label(m),
                per: "at each month end",
                months: &labels,
                spc: chart,
                target: c.aims[si][mi].as_ref().map(|a| a.target),
                baseline: Some(t.aim_baseline()),
                complete_from: t.complete_from,
            });
            let file = format!("{}-{}-{}.svg", s.level, name_of[si], m.name());
            index.push([
                s.level.to_string(),
                s.code.clone(),
                s.name.clone(),
                m.name().to_string(),
                file.clone(),
            ]);
            let path = dir.join(&file);
            let svg = crate::write::markup::xml_chars(&svg);
            write_atomically(&path, |w| {
                use std::io::Write;
                w.write_all(svg.as_bytes())?;
                Ok(())
            })?;
            written.push(path);
        }
    }
    if !index.is_empty() {
        let col = |k: usize| index.iter().map(|r| Some(r[k].clone())).collect();
        let table = Table::new()
            .text("level", col(0))
            .text("code", col(1))
            .text("name", col(2))
            .text("measure", col(3))
            .text("file", col(4));
        written.push(write_table(&dir, "index", &table, Format::Csv)?);
    }
    Ok(written)
}

/// measures, spc and aims, and (on a second thread, meanwhile) the charts, from the charts
/// and aims worked out (the core's [`crate::trend::compute`]).
pub fn write_all(
    out: &Path,
    series: &[Series],
    c: &Computed,
    t: &TrendSettings,
    format: Format,
) -> Result<Vec<PathBuf>> {
    let (tables, charts) = std::thread::scope(|s| {
        let charts = s.spawn(|| write_charts(out, series, c, t));
        let tables = (|| -> Result<Vec<PathBuf>> {
            Ok(vec![
                measures_rows(series, t, format).write(out, "measures", format)?,
                spc_rows(series, c, t, format).write(out, "spc", format)?,
                aims_rows(series, c, t, format).write(out, "aims", format)?,
            ])
        })();
        (tables, charts.join())
    });
    let mut written = tables?;
    match charts {
        Ok(charts) => written.extend(charts?),
        Err(e) => std::panic::resume_unwind(e),
    }
    Ok(written)
}

/// What `opal trend` writes besides its tables and charts.
#[derive(Debug, Clone, Copy)]
pub struct TrendOutputs {
    pub format: Format,
    /// `--report`: report.html.
    pub report: bool,
    /// `--aim-reduction`, as given, for the manifest.
    pub aim_reduction_pct: f64,
}

/// Write every output of a trend into a staging folder, then move them into `target`
/// (write/outdir.rs: all or nothing).
pub fn write_run(
    run: &crate::engine::trend::TrendRun,
    what: TrendOutputs,
    manifest: &crate::write::manifest::Settings<'_>,
    target: &Path,
    force: bool,
) -> Result<()> {
    let staging = crate::write::outdir::Staging::create(target)?;
    let out = staging.path();
    let (series, computed, settings) = (&run.series, &run.computed, &run.settings);
    let (result, config) = (&run.result, &run.config);
    let mut written = write_all(out, series, computed, settings, what.format)?;
    if what.report {
        let report = crate::write::report::Report {
            command: "opal trend",
            as_of: *settings.month_ends.last().unwrap_or(&result.as_of),
            config,
            summaries: None,
            trend: Some((series, computed, settings)),
            accounting: &result.accounting,
            unresolved: crate::write::report::tally(
                result.unresolved.iter().map(|u| u.reason.as_str()),
            ),
            rejected: crate::write::report::tally(
                result.rejected.iter().map(|x| x.column.as_str()),
            ),
            days_assumed: None,
        };
        written.push(crate::write::report::write_report(out, &report)?);
    }
    crate::timing::lap("measures, spc, aims and charts written");
    let trend =
        crate::write::manifest::trend_entry(series, settings, what.aim_reduction_pct, computed);
    let mut trend = trend;
    if manifest.list_sizes.len() > 1 {
        // Several list-size files: which one each month end's rates come from, where it is
        // not the month's own (METHOD.md §9.5).
        let other: Vec<serde_json::Value> = settings
            .month_ends
            .iter()
            .filter_map(|&d| {
                let month = crate::trend::month_label(d);
                let (_, from) = config.list_sizes_for(d)?;
                (from != Some(month.as_str())).then(|| {
                    serde_json::json!({"month": month, "list_sizes_of": from.unwrap_or("undated file")})
                })
            })
            .collect();
        trend["list_sizes_from_another_month"] = other.into();
    }
    crate::write::manifest::write_trend_manifest(
        out, manifest, &run.files, result, config, &written, trend,
    )?;
    staging.commit(target, force)
}
