//! The EPD's months as a trend (`opal epd`): `deciles`, `ranks`, `spc`, `aims` and
//! `practices` (which months each practice has rows in), CSV or Parquet. `spc` and `aims`
//! have the columns of `opal trend`'s (write/trend.rs declares them once).

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::deciles::DECILES;
use crate::engine::epd::EpdTrend;
use crate::epd_trend::EPD_MEASURES;
use crate::write::cells::{Cell, Kind};
use crate::write::table::Format;
use crate::write::trend::{aims_table, spc_table, AimRow, Sink, SpcRow};

/// deciles: per level compared (practices, ICSs), month and measure, how many values and the
/// 10th to 90th percentiles.
fn deciles_rows(t: &EpdTrend, format: Format) -> Sink {
    const NAMES: [&str; 9] = [
        "p10", "p20", "p30", "p40", "p50", "p60", "p70", "p80", "p90",
    ];
    debug_assert!(NAMES
        .iter()
        .zip(DECILES)
        .all(|(n, d)| n[1..] == d.to_string()));
    let mut columns: Vec<(&'static str, Kind)> = vec![
        ("level", Kind::Text),
        ("month", Kind::Text),
        ("measure", Kind::Text),
        ("organisations", Kind::Integer),
    ];
    columns.extend(NAMES.iter().map(|n| (*n, Kind::Number)));
    let mut sink = Sink::new(&columns, format);
    for d in &t.comparison.deciles {
        let mut cells = vec![
            Cell::Text(d.level),
            Cell::Text(&t.months[d.month]),
            Cell::Text(d.measure.id()),
            Cell::Number(Some(d.n as f64)),
        ];
        for k in 0..9 {
            cells.push(Cell::Number(d.deciles.map(|v| v[k])));
        }
        sink.row(&cells);
    }
    sink
}

/// ranks: each compared practice's and ICS's value and national percentile (0 to 100, as
/// OpenPrescribing shows it) per month and measure.
fn ranks_rows(t: &EpdTrend, format: Format) -> Sink {
    let mut sink = Sink::new(
        &[
            ("level", Kind::Text),
            ("code", Kind::Text),
            ("name", Kind::Text),
            ("ics_code", Kind::Text),
            ("month", Kind::Text),
            ("measure", Kind::Text),
            ("numerator", Kind::Number),
            ("denominator", Kind::Number),
            ("value", Kind::Number),
            ("percentile", Kind::Number),
        ],
        format,
    );
    for (si, s) in t.series.iter().enumerate() {
        if !(s.compared && matches!(s.level, "practice" | "ics")) {
            continue;
        }
        for (k, month) in t.months.iter().enumerate() {
            let Some(sums) = s.months[k] else {
                continue;
            };
            for (mi, m) in EPD_MEASURES.into_iter().enumerate() {
                let (n, d) = m.parts(&sums);
                sink.row(&[
                    Cell::Text(s.level),
                    Cell::Text(&s.code),
                    Cell::Text(&s.name),
                    Cell::Text(&s.ics_code),
                    Cell::Text(month),
                    Cell::Text(m.id()),
                    Cell::Number(Some(n)),
                    Cell::Number(d),
                    Cell::Number(m.value(&sums)),
                    Cell::Number(t.comparison.ranks[si][k][mi].map(|r| r * 100.0)),
                ]);
            }
        }
    }
    sink
}

/// practices: each practice's months with rows and without (a practice that opened, closed
/// or merged), and whether it is in the national comparison.
fn practices_rows(t: &EpdTrend, format: Format) -> Sink {
    let mut sink = Sink::new(
        &[
            ("practice_code", Kind::Text),
            ("practice_name", Kind::Text),
            ("ics_code", Kind::Text),
            ("pcn_code", Kind::Text),
            ("compared", Kind::Flag),
            ("first_month", Kind::Text),
            ("last_month", Kind::Text),
            ("months_with_rows", Kind::Integer),
            ("months_without_rows", Kind::Text),
        ],
        format,
    );
    for s in t.series.iter().filter(|s| s.level == "practice") {
        let present: Vec<usize> = (0..t.months.len())
            .filter(|&k| s.months[k].is_some())
            .collect();
        let gaps: Vec<&str> = s.gaps().into_iter().map(|k| t.months[k].as_str()).collect();
        sink.row(&[
            Cell::Text(&s.code),
            Cell::Text(&s.name),
            Cell::Text(&s.ics_code),
            Cell::Text(&s.pcn_code),
            Cell::Flag(Some(s.compared)),
            Cell::OptText(present.first().map(|&k| t.months[k].as_str())),
            Cell::OptText(present.last().map(|&k| t.months[k].as_str())),
            Cell::Number(Some(present.len() as f64)),
            Cell::Text(&gaps.join(";")),
        ]);
    }
    sink
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
        deciles_rows(t, format).write(out, "deciles", format)?,
        ranks_rows(t, format).write(out, "ranks", format)?,
        practices_rows(t, format).write(out, "practices", format)?,
        spc_table(spc, &t.settings, format).write(out, "spc", format)?,
        aims_table(aims, &t.settings, format).write(out, "aims", format)?,
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
