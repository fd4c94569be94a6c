//! The outputs of `opal trend`: measures, spc, aims (CSV or Parquet) and the charts. `spc`
//! and `aims` are declared once here for `opal trend` and `opal epd` alike.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::spc::{Segment, Spc};
use crate::trend::{has_aim, month_label, Computed, Series, TrendSettings, Value};
use crate::values::format_day;
use crate::write::cells::{Cell, Kind};
use crate::write::columns::{write_rows, CellOf, Column, Rows, TableWriter};
use crate::write::table::{write_atomically, Format};

/// A row of `measures`: one series' measure at one month end.
pub struct MeasureRow<'a> {
    pub series: &'a Series,
    pub measure: &'a str,
    pub month: &'a str,
    pub as_of: &'a str,
    pub complete: bool,
    pub numerator: Value,
    pub denominator: Value,
    pub value: Value,
}

/// Which of `measures`' count columns a column is: with `--suppress` the counts are text
/// (`*` where hidden), as in the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    Always,
    Plain,
    Suppressed,
}

impl Rows for MeasureRow<'_> {
    type Row<'a> = MeasureRow<'a>;
    type Tag = Counts;
}

fn plain(v: Value) -> Cell<'static> {
    match v {
        Value::Number(x) => Cell::Number(Some(x)),
        _ => Cell::Number(None),
    }
}

fn suppressed(v: Value) -> Cell<'static> {
    match v {
        Value::Number(x) => Cell::NumberText(Some(x)),
        Value::Suppressed => Cell::Text("*"),
        Value::Missing => Cell::OptText(None),
    }
}

type M = MeasureRow<'static>;

const fn always(
    name: &'static str,
    kind: Kind,
    meaning: &'static str,
    cell: CellOf<M>,
) -> Column<M> {
    Column::<M>::tagged(Counts::Always, name, kind, meaning, cell)
}

/// The columns of `measures`; with `--suppress` the `Suppressed` counts, else the `Plain`.
pub const MEASURES: &[Column<M>] = &[
    always(
        "level",
        Kind::Text,
        "all (every practice), ics or practice.",
        |r| Cell::Text(r.series.level),
    ),
    always(
        "code",
        Kind::Text,
        "The ICS's or practice's code (ALL for every practice).",
        |r| Cell::Text(&r.series.code),
    ),
    always("name", Kind::Text, "Its name, where known.", |r| {
        Cell::Text(&r.series.name)
    }),
    always("month", Kind::Text, "The month (YYYY-MM).", |r| {
        Cell::Text(r.month)
    }),
    always(
        "as_of",
        Kind::Text,
        "Its month end, the date the audit's measures are taken at.",
        |r| Cell::Text(r.as_of),
    ),
    always(
        "complete",
        Kind::Flag,
        "The month has a full look-back of data behind it (METHOD.md §10).",
        |r| Cell::Flag(Some(r.complete)),
    ),
    always(
        "measure",
        Kind::Text,
        "The measure: patients, high_dose, long_term, both, their rates per 1000, and so on.",
        |r| Cell::Text(r.measure),
    ),
    Column::<M>::tagged(
        Counts::Plain,
        "numerator",
        Kind::Number,
        "The count (patients, or OME mg); with --suppress, text: `*` where hidden.",
        |r| plain(r.numerator),
    ),
    Column::<M>::tagged(
        Counts::Suppressed,
        "numerator",
        Kind::Text,
        "The count, rounded: `*` where hidden (--suppress).",
        |r| suppressed(r.numerator),
    ),
    always(
        "denominator",
        Kind::Number,
        "The list size a rate is per 1000 of; empty for a count.",
        |r| plain(r.denominator),
    ),
    Column::<M>::tagged(
        Counts::Plain,
        "value",
        Kind::Number,
        "The measure's value; with --suppress, text: `*` where hidden.",
        |r| plain(r.value),
    ),
    Column::<M>::tagged(
        Counts::Suppressed,
        "value",
        Kind::Text,
        "The measure's value, from the rounded count: `*` where hidden (--suppress).",
        |r| suppressed(r.value),
    ),
];

/// The columns of `measures`, with or without `--suppress`.
pub fn measures_columns(suppress: bool) -> impl Iterator<Item = &'static Column<M>> {
    MEASURES.iter().filter(move |c| match c.tag {
        Counts::Always => true,
        Counts::Plain => !suppress,
        Counts::Suppressed => suppress,
    })
}

/// measures: one row per series, measure and month.
fn write_measures(
    out: &Path,
    series: &[Series],
    t: &TrendSettings,
    format: Format,
) -> Result<PathBuf> {
    let mut w = TableWriter::new(measures_columns(t.suppress), format);
    let months = month_labels(t);
    for s in series {
        for m in t.measures() {
            for (k, (month, as_of)) in months.iter().enumerate() {
                let (numerator, denominator, value) = s.value(m, k, t.suppress);
                w.row(&MeasureRow {
                    series: s,
                    measure: m.name(),
                    month,
                    as_of,
                    complete: t.complete(k),
                    numerator,
                    denominator,
                    value,
                });
            }
        }
    }
    w.write(out, "measures")
}

/// One series' chart of one measure, as `spc.csv` writes it (the trend's and the EPD's).
pub struct SpcRow<'a> {
    pub level: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub measure: &'a str,
    pub direction: crate::spc::Direction,
    pub chart: &'a Spc,
    pub target: Option<f64>,
}

/// A row of `spc`: one point of a chart.
pub struct SpcPoint<'a> {
    pub of: &'a SpcRow<'a>,
    /// The point.
    pub k: usize,
    pub month: &'a str,
    pub as_of: &'a str,
    pub complete: bool,
    /// The rules that flag it, in words.
    pub rules: String,
    /// The part of the chart it is in (its own mean and limits after a rebase).
    pub part: &'a Segment,
    pub suggested_rebase: Option<&'a str>,
}

impl Rows for SpcPoint<'_> {
    type Row<'a> = SpcPoint<'a>;
    type Tag = ();
}

fn finite(v: f64) -> Cell<'static> {
    Cell::Number(Some(v).filter(|x| x.is_finite()))
}

/// The columns of `spc`.
pub const SPC: &[Column<SpcPoint<'static>>] = &[
    Column::new(
        "level",
        Kind::Text,
        "england, ics, pcn, practice or all.",
        |r| Cell::Text(r.of.level),
    ),
    Column::new("code", Kind::Text, "The organisation's code.", |r| {
        Cell::Text(r.of.code)
    }),
    Column::new("name", Kind::Text, "Its name, where known.", |r| {
        Cell::Text(r.of.name)
    }),
    Column::new("measure", Kind::Text, "The measure charted.", |r| {
        Cell::Text(r.of.measure)
    }),
    Column::new(
        "direction",
        Kind::Text,
        "Which way is better: lower or higher.",
        |r| Cell::Text(r.of.direction.as_str()),
    ),
    Column::new("month", Kind::Text, "The month (YYYY-MM).", |r| {
        Cell::Text(r.month)
    }),
    Column::new("as_of", Kind::Text, "Its month end.", |r| {
        Cell::Text(r.as_of)
    }),
    Column::new(
        "complete",
        Kind::Flag,
        "The month has a full look-back of data behind it.",
        |r| Cell::Flag(Some(r.complete)),
    ),
    Column::new("value", Kind::Number, "The point's value.", |r| {
        Cell::Number(Some(r.of.chart.points[r.k].value))
    }),
    Column::new(
        "mean",
        Kind::Number,
        "The centre line: the mean of its part's baseline.",
        |r| finite(r.part.mean),
    ),
    Column::new(
        "lower_process_limit",
        Kind::Number,
        "The mean less 2.66 mean moving ranges.",
        |r| finite(r.part.lower_process_limit),
    ),
    Column::new(
        "upper_process_limit",
        Kind::Number,
        "The mean plus 2.66 mean moving ranges.",
        |r| finite(r.part.upper_process_limit),
    ),
    Column::new(
        "trial_limits",
        Kind::Flag,
        "The limits come from fewer than 12 points (trial limits).",
        |r| Cell::Flag(Some(r.part.trial_limits)),
    ),
    Column::new(
        "special_cause",
        Kind::Text,
        "The rules that flag the point: outside the limits, a run of 7, a trend of 6, two of \
        three near a limit; none if none.",
        |r| Cell::Text(&r.rules),
    ),
    Column::new(
        "point_type",
        Kind::Text,
        "common_cause, or special-cause improvement, concern or neither.",
        |r| Cell::Text(r.of.chart.points[r.k].point_type.as_str()),
    ),
    Column::new(
        "variation",
        Kind::Text,
        "The chart's variation icon, from its latest point.",
        |r| Cell::Text(r.of.chart.variation),
    ),
    Column::new(
        "target",
        Kind::Number,
        "The aim's target, where the measure has one.",
        |r| Cell::Number(r.of.target),
    ),
    Column::new(
        "assurance",
        Kind::Text,
        "The assurance icon: whether the limits meet the target.",
        |r| Cell::OptText(r.of.chart.assurance.map(|a| a.as_str())),
    ),
    Column::new(
        "rebased",
        Kind::Flag,
        "The chart is rebased at this point (--rebase): a new part begins.",
        |r| Cell::Flag(Some(r.of.chart.rebased_at(r.k))),
    ),
    Column::new(
        "suggested_rebase",
        Kind::Text,
        "The month a rebase is suggested at (a run reaching the latest month); never made.",
        |r| Cell::OptText(r.suggested_rebase),
    ),
];

/// Each month's label (`YYYY-MM`) and its month end (`as_of`).
pub fn month_labels(t: &TrendSettings) -> Vec<(String, String)> {
    t.month_ends
        .iter()
        .map(|&d| (month_label(d), format_day(d)))
        .collect()
}

/// spc: one row per series, measure and month, with the chart's lines, the rules that flag
/// each point, and the series' icons.
pub fn write_spc<'a>(
    out: &Path,
    rows: impl Iterator<Item = SpcRow<'a>>,
    t: &TrendSettings,
    format: Format,
) -> Result<PathBuf> {
    let mut w = TableWriter::new(SPC, format);
    let months = month_labels(t);
    for r in rows {
        let chart = r.chart;
        let suggested_rebase = chart
            .suggested_rebase
            .and_then(|k| months.get(chart.month_of(k)))
            .map(|(m, _)| m.as_str());
        // A point per month shown: with --suppress a hidden month has no row (a gap).
        for (k, p) in chart.points.iter().enumerate() {
            let at = chart.month_of(k);
            let Some((month, as_of)) = months.get(at) else {
                continue;
            };
            w.row(&SpcPoint {
                of: &r,
                k,
                month,
                as_of,
                complete: t.complete(at),
                rules: p.rules.label(),
                part: chart.segment(k),
                suggested_rebase,
            });
        }
    }
    w.write(out, "spc")
}

/// spc of the trend's series. Series with a suppressed or missing month are left out.
fn write_trend_spc(
    out: &Path,
    series: &[Series],
    c: &Computed,
    t: &TrendSettings,
    format: Format,
) -> Result<PathBuf> {
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
    write_spc(out, rows, t, format)
}

/// One series' aim of one measure, as `aims.csv` writes it.
pub struct AimRow<'a> {
    pub level: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub measure: &'a str,
    pub aim: Option<&'a crate::trend::Aim>,
}

/// A row of `aims`: an [`AimRow`] with the baseline's months and the latest month.
pub struct AimOut<'a> {
    pub of: &'a AimRow<'a>,
    pub from: &'a str,
    pub to: &'a str,
    pub latest_month: &'a str,
    pub aim_reduction_pct: f64,
}

impl Rows for AimOut<'_> {
    type Row<'a> = AimOut<'a>;
    type Tag = ();
}

/// The columns of `aims`.
pub const AIMS: &[Column<AimOut<'static>>] = &[
    Column::new(
        "level",
        Kind::Text,
        "england, ics, pcn, practice or all.",
        |r| Cell::Text(r.of.level),
    ),
    Column::new("code", Kind::Text, "The organisation's code.", |r| {
        Cell::Text(r.of.code)
    }),
    Column::new("name", Kind::Text, "Its name, where known.", |r| {
        Cell::Text(r.of.name)
    }),
    Column::new("measure", Kind::Text, "The measure the aim is for.", |r| {
        Cell::Text(r.of.measure)
    }),
    Column::new(
        "baseline_from",
        Kind::Text,
        "The baseline's first month (--baseline).",
        |r| Cell::Text(r.from),
    ),
    Column::new(
        "baseline_to",
        Kind::Text,
        "The baseline's last month.",
        |r| Cell::Text(r.to),
    ),
    Column::new(
        "baseline",
        Kind::Number,
        "The mean of the baseline months.",
        |r| Cell::Number(r.of.aim.map(|a| a.baseline)),
    ),
    Column::new(
        "aim_reduction_pct",
        Kind::Number,
        "The reduction aimed for, in percent (--aim-reduction).",
        |r| Cell::Number(Some(r.aim_reduction_pct)),
    ),
    Column::new(
        "target",
        Kind::Number,
        "The baseline less that reduction.",
        |r| Cell::Number(r.of.aim.map(|a| a.target)),
    ),
    Column::new("latest_month", Kind::Text, "The latest month.", |r| {
        Cell::Text(r.latest_month)
    }),
    Column::new(
        "latest",
        Kind::Number,
        "The value in the latest month.",
        |r| Cell::Number(r.of.aim.map(|a| a.latest)),
    ),
    Column::new(
        "reduction_pct",
        Kind::Number,
        "How far the latest value is below the baseline, in percent.",
        |r| Cell::Number(r.of.aim.and_then(|a| a.reduction_pct)),
    ),
    Column::new(
        "target_met",
        Kind::Flag,
        "The latest value is at or below the target.",
        |r| Cell::Flag(r.of.aim.map(|a| a.met)),
    ),
];

/// aims: each series' baseline, target and progress.
pub fn write_aims<'a>(
    out: &Path,
    rows: impl Iterator<Item = AimRow<'a>>,
    t: &TrendSettings,
    format: Format,
) -> Result<PathBuf> {
    let mut w = TableWriter::new(AIMS, format);
    let base = t.aim_baseline();
    let from = month_label(t.month_ends[base.start]);
    let to = month_label(t.month_ends[base.end - 1]);
    let latest_month = t
        .month_ends
        .last()
        .map(|d| month_label(*d))
        .unwrap_or_default();
    for r in rows {
        w.row(&AimOut {
            of: &r,
            from: &from,
            to: &to,
            latest_month: &latest_month,
            aim_reduction_pct: t.aim_fraction * 100.0,
        });
    }
    w.write(out, "aims")
}

/// aims of the trend: for every series, the high-dose measures' baseline, target and progress.
fn write_trend_aims(
    out: &Path,
    series: &[Series],
    c: &Computed,
    t: &TrendSettings,
    format: Format,
) -> Result<PathBuf> {
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
    write_aims(out, rows, t, format)
}

/// A row of a chart folder's `index.csv`: which file is whose chart.
pub struct ChartEntry {
    pub level: String,
    pub code: String,
    pub name: String,
    pub measure: String,
    /// What kind of chart (`opal epd`'s: an XmR chart or deciles).
    pub kind: &'static str,
    pub file: String,
}

impl Rows for ChartEntry {
    type Row<'a> = ChartEntry;
    /// In `opal epd`'s index only (which has two kinds of chart).
    type Tag = bool;
}

/// The columns of `charts/index.csv`; `opal trend`'s has all but the `kind`.
pub const CHART_INDEX: &[Column<ChartEntry>] = &[
    Column::tagged(
        false,
        "level",
        Kind::Text,
        "The organisation's level.",
        |r| Cell::Text(&r.level),
    ),
    Column::tagged(false, "code", Kind::Text, "Its code.", |r| {
        Cell::Text(&r.code)
    }),
    Column::tagged(false, "name", Kind::Text, "Its name, where known.", |r| {
        Cell::Text(&r.name)
    }),
    Column::tagged(false, "measure", Kind::Text, "The measure charted.", |r| {
        Cell::Text(&r.measure)
    }),
    Column::tagged(
        true,
        "kind",
        Kind::Text,
        "xmr (an XmR chart) or deciles (the organisation against England's deciles).",
        |r| Cell::Text(r.kind),
    ),
    Column::tagged(
        false,
        "file",
        Kind::Text,
        "The chart's file, in this folder (its name made safe for any file system).",
        |r| Cell::Text(&r.file),
    ),
];

/// Write a chart folder's `index.csv` (`with_kind`: `opal epd`'s).
pub fn write_chart_index(dir: &Path, entries: &[ChartEntry], with_kind: bool) -> Result<PathBuf> {
    let columns = CHART_INDEX.iter().filter(|c| with_kind || !c.tag);
    write_rows(dir, "index", columns, entries, Format::Csv)
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
    let mut index: Vec<ChartEntry> = Vec::new();
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
            index.push(ChartEntry {
                level: s.level.to_string(),
                code: s.code.clone(),
                name: s.name.clone(),
                measure: m.name().to_string(),
                kind: "spc",
                file: file.clone(),
            });
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
        written.push(write_chart_index(&dir, &index, false)?);
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
                write_measures(out, series, t, format)?,
                write_trend_spc(out, series, c, t, format)?,
                write_trend_aims(out, series, c, t, format)?,
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
    let mut trend =
        crate::write::manifest::trend_entry(series, settings, what.aim_reduction_pct, computed);
    if manifest.list_sizes.len() > 1 {
        // Several list-size files: which one each month end's rates come from, where it is
        // not the month's own (METHOD.md §9.5).
        let other = settings
            .month_ends
            .iter()
            .filter_map(|&d| {
                let month = crate::trend::month_label(d);
                let (_, from) = config.list_sizes_for(d)?;
                (from != Some(month.as_str())).then(|| crate::write::manifest::ListSizesOf {
                    list_sizes_of: from.unwrap_or("undated file").to_string(),
                    month,
                })
            })
            .collect();
        trend.list_sizes_from_another_month = Some(other);
    }
    crate::write::manifest::write_trend_manifest(
        out, manifest, &run.files, result, config, &written, trend,
    )?;
    staging.commit(target, force)
}
