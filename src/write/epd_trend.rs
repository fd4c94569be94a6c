//! The EPD's months as a trend (`opal epd`): `deciles`, `ranks`, `spc`, `aims` and
//! `practices` (which months each practice has rows in), CSV or Parquet. `spc` and `aims`
//! have the columns of `opal trend`'s (write/trend.rs declares them once).

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::deciles::DECILES;
use crate::engine::epd::EpdTrend;
use crate::epd_trend::{Deciles, EpdSeries, EPD_MEASURES};
use crate::write::cells::{Cell, Kind};
use crate::write::columns::{write_rows, Column, Rows, TableWriter};
use crate::write::table::Format;
use crate::write::trend::{write_aims, write_spc, AimRow, SpcRow};

/// A row of `deciles`: one level's month and measure.
pub struct DecileRow<'a> {
    pub d: &'a Deciles,
    pub month: &'a str,
}

impl Rows for DecileRow<'_> {
    type Row<'a> = DecileRow<'a>;
    type Tag = ();
}

type D = DecileRow<'static>;

const fn decile(
    name: &'static str,
    meaning: &'static str,
    cell: crate::write::columns::CellOf<D>,
) -> Column<D> {
    Column::<D>::new(name, Kind::Number, meaning, cell)
}

/// The columns of `deciles`.
pub const DECILES_COLUMNS: &[Column<D>] = &[
    Column::new("level", Kind::Text, "Whose values: practice or ics.", |r| {
        Cell::Text(r.d.level)
    }),
    Column::new("month", Kind::Text, "The EPD month (YYYY-MM).", |r| {
        Cell::Text(r.month)
    }),
    Column::new("measure", Kind::Text, "The measure.", |r| {
        Cell::Text(r.d.measure.id())
    }),
    Column::new(
        "organisations",
        Kind::Number,
        "How many practices (or ICSs) have a value that month.",
        |r| Cell::Number(Some(r.d.n as f64)),
    ),
    decile(
        "p10",
        "The 10th percentile (PERCENTILE_CONT, as OpenPrescribing).",
        |r| Cell::Number(r.d.deciles.map(|v| v[0])),
    ),
    decile("p20", "The 20th percentile.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[1]))
    }),
    decile("p30", "The 30th percentile.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[2]))
    }),
    decile("p40", "The 40th percentile.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[3]))
    }),
    decile("p50", "The median.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[4]))
    }),
    decile("p60", "The 60th percentile.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[5]))
    }),
    decile("p70", "The 70th percentile.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[6]))
    }),
    decile("p80", "The 80th percentile.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[7]))
    }),
    decile("p90", "The 90th percentile.", |r| {
        Cell::Number(r.d.deciles.map(|v| v[8]))
    }),
];

/// deciles: per level compared (practices, ICSs), month and measure, how many values and the
/// 10th to 90th percentiles.
fn write_deciles(out: &Path, t: &EpdTrend, format: Format) -> Result<PathBuf> {
    debug_assert!(DECILES_COLUMNS[4..]
        .iter()
        .zip(DECILES)
        .all(|(c, d)| c.name[1..] == d.to_string()));
    let mut w = TableWriter::new(DECILES_COLUMNS, format);
    for d in &t.comparison.deciles {
        w.row(&DecileRow {
            d,
            month: &t.months[d.month],
        });
    }
    w.write(out, "deciles")
}

/// A row of `ranks`: a compared practice's or ICS's measure in a month.
pub struct RankRow<'a> {
    pub s: &'a EpdSeries,
    pub month: &'a str,
    pub measure: &'a str,
    pub numerator: f64,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    /// 0 to 1.
    pub rank: Option<f64>,
}

impl Rows for RankRow<'_> {
    type Row<'a> = RankRow<'a>;
    type Tag = ();
}

/// The columns of `ranks`.
pub const RANKS: &[Column<RankRow<'static>>] = &[
    Column::new("level", Kind::Text, "practice or ics.", |r| {
        Cell::Text(r.s.level)
    }),
    Column::new("code", Kind::Text, "Its code.", |r| Cell::Text(&r.s.code)),
    Column::new("name", Kind::Text, "Its name, where known.", |r| {
        Cell::Text(&r.s.name)
    }),
    Column::new(
        "ics_code",
        Kind::Text,
        "A practice's ICS (of its latest month).",
        |r| Cell::Text(&r.s.ics_code),
    ),
    Column::new("month", Kind::Text, "The EPD month (YYYY-MM).", |r| {
        Cell::Text(r.month)
    }),
    Column::new("measure", Kind::Text, "The measure.", |r| {
        Cell::Text(r.measure)
    }),
    Column::new(
        "numerator",
        Kind::Number,
        "The measure's numerator (items or OME mg).",
        |r| Cell::Number(Some(r.numerator)),
    ),
    Column::new(
        "denominator",
        Kind::Number,
        "Its denominator (items, or the list size), where it has one.",
        |r| Cell::Number(r.denominator),
    ),
    Column::new("value", Kind::Number, "The measure's value.", |r| {
        Cell::Number(r.value)
    }),
    Column::new(
        "percentile",
        Kind::Number,
        "Its national percentile, 0 to 100 (PERCENT_RANK × 100, as OpenPrescribing shows it).",
        |r| Cell::Number(r.rank.map(|r| r * 100.0)),
    ),
];

/// ranks: each compared practice's and ICS's value and national percentile (0 to 100, as
/// OpenPrescribing shows it) per month and measure.
fn write_ranks(out: &Path, t: &EpdTrend, format: Format) -> Result<PathBuf> {
    let mut w = TableWriter::new(RANKS, format);
    for (si, s) in t.series.iter().enumerate() {
        if !(s.compared && matches!(s.level, "practice" | "ics")) {
            continue;
        }
        for (k, month) in t.months.iter().enumerate() {
            let Some(sums) = s.months[k] else {
                continue;
            };
            for (mi, m) in EPD_MEASURES.into_iter().enumerate() {
                let (numerator, denominator) = m.parts(&sums);
                w.row(&RankRow {
                    s,
                    month,
                    measure: m.id(),
                    numerator,
                    denominator,
                    value: m.value(&sums),
                    rank: t.comparison.ranks[si][k][mi],
                });
            }
        }
    }
    w.write(out, "ranks")
}

/// A row of `practices`: a practice's months with rows and without.
pub struct PracticeMonths<'a> {
    pub s: &'a EpdSeries,
    pub first_month: Option<&'a str>,
    pub last_month: Option<&'a str>,
    pub months_with_rows: usize,
    /// The months without rows, `;`-separated.
    pub gaps: String,
}

impl Rows for PracticeMonths<'_> {
    type Row<'a> = PracticeMonths<'a>;
    type Tag = ();
}

/// The columns of `practices`.
pub const PRACTICES: &[Column<PracticeMonths<'static>>] = &[
    Column::new("practice_code", Kind::Text, "The practice.", |r| {
        Cell::Text(&r.s.code)
    }),
    Column::new("practice_name", Kind::Text, "Its name.", |r| {
        Cell::Text(&r.s.name)
    }),
    Column::new(
        "ics_code",
        Kind::Text,
        "Its ICS (of its latest month).",
        |r| Cell::Text(&r.s.ics_code),
    ),
    Column::new(
        "pcn_code",
        Kind::Text,
        "Its PCN, when --practices gives one.",
        |r| Cell::Text(&r.s.pcn_code),
    ),
    Column::new(
        "compared",
        Kind::Flag,
        "In the national comparison: a GP practice (METHOD.md §9.4).",
        |r| Cell::Flag(Some(r.s.compared)),
    ),
    Column::new(
        "first_month",
        Kind::Text,
        "The first month it has rows in.",
        |r| Cell::OptText(r.first_month),
    ),
    Column::new(
        "last_month",
        Kind::Text,
        "The last month it has rows in.",
        |r| Cell::OptText(r.last_month),
    ),
    Column::new(
        "months_with_rows",
        Kind::Number,
        "How many months it has rows in.",
        |r| Cell::Number(Some(r.months_with_rows as f64)),
    ),
    Column::new(
        "months_without_rows",
        Kind::Text,
        "The months between its first and last without rows (`;`-separated): gaps, never \
        zeros.",
        |r| Cell::Text(&r.gaps),
    ),
];

/// practices: each practice's months with rows and without (a practice that opened, closed
/// or merged), and whether it is in the national comparison.
fn write_practices(out: &Path, t: &EpdTrend, format: Format) -> Result<PathBuf> {
    let rows: Vec<PracticeMonths> = t
        .series
        .iter()
        .filter(|s| s.level == "practice")
        .map(|s| {
            let present: Vec<usize> = (0..t.months.len())
                .filter(|&k| s.months[k].is_some())
                .collect();
            let gaps: Vec<&str> = s.gaps().into_iter().map(|k| t.months[k].as_str()).collect();
            PracticeMonths {
                s,
                first_month: present.first().map(|&k| t.months[k].as_str()),
                last_month: present.last().map(|&k| t.months[k].as_str()),
                months_with_rows: present.len(),
                gaps: gaps.join(";"),
            }
        })
        .collect();
    write_rows(out, "practices", PRACTICES, &rows, format)
}

/// Every table of the trend; returns the paths written.
pub fn write_tables(out: &Path, t: &EpdTrend, format: Format) -> Result<Vec<PathBuf>> {
    let c = &t.computed;
    let spc = t.series.iter().enumerate().flat_map(|(si, s)| {
        EPD_MEASURES
            .into_iter()
            .enumerate()
            .filter_map(move |(mi, m)| {
                Some(SpcRow {
                    level: s.level,
                    code: &s.code,
                    name: &s.name,
                    measure: m.id(),
                    direction: m.direction(),
                    chart: c.charts[si][mi].as_ref()?,
                    target: c.aims[si][mi].as_ref().map(|a| a.target),
                })
            })
    });
    let aims = t.series.iter().enumerate().flat_map(|(si, s)| {
        EPD_MEASURES
            .into_iter()
            .enumerate()
            .filter(|(_, m)| m.has_aim())
            .map(move |(mi, m)| AimRow {
                level: s.level,
                code: &s.code,
                name: &s.name,
                measure: m.id(),
                aim: c.aims[si][mi].as_ref(),
            })
    });
    Ok(vec![
        write_deciles(out, t, format)?,
        write_ranks(out, t, format)?,
        write_practices(out, t, format)?,
        write_spc(out, spc, &t.settings, format)?,
        write_aims(out, aims, &t.settings, format)?,
    ])
}

/// What `opal epd` prints of the trend: the months, the comparison, the gaps, and England's
/// latest value of each measure beside the practices' median, with its chart's icons.
pub fn print_summary(t: &EpdTrend) -> Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let practices: Vec<_> = t.series.iter().filter(|s| s.level == "practice").collect();
    let compared = practices.iter().filter(|s| s.compared).count();
    let gaps = practices.iter().filter(|s| !s.gaps().is_empty()).count();
    writeln!(
        o,
        "{} month(s), {} to {}; {} practices, {} in the national comparison ({}); {} with \
         months without rows (practices.csv)",
        t.months.len(),
        t.months.first().map_or("", String::as_str),
        t.months.last().map_or("", String::as_str),
        practices.len(),
        compared,
        t.compared_by,
        gaps
    )?;
    let Some(ei) = t.series.iter().position(|s| s.level == "england") else {
        return Ok(());
    };
    let last = t.months.len().saturating_sub(1);
    let mut table = crate::write::output::table(&[
        "measure",
        "England, latest",
        "practices' median",
        "variation",
        "assurance",
    ]);
    for (mi, m) in EPD_MEASURES.into_iter().enumerate() {
        let chart = t.computed.charts[ei][mi].as_ref();
        crate::write::output::add_row(
            &mut table,
            vec![
                m.id().to_string(),
                t.series[ei]
                    .value(m, last)
                    .map(crate::values::sig3)
                    .unwrap_or_default(),
                t.comparison
                    .of("practice", last, m)
                    .and_then(|d| d.deciles)
                    .map(|d| crate::values::sig3(d[4]))
                    .unwrap_or_default(),
                chart
                    .map(|c| c.variation.replace('_', " "))
                    .unwrap_or_else(|| "no chart (fewer than 2 months)".into()),
                chart
                    .and_then(|c| c.assurance)
                    .map(|a| a.as_str().replace('_', " "))
                    .unwrap_or_default(),
            ],
        );
    }
    writeln!(o, "{table}")?;
    Ok(())
}
