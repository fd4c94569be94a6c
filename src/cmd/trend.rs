//! `opal trend`: the audit's measures at every month end, SPC charts, progress to the aim.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cmd::method::{Method, MethodArgs};
use crate::cmd::spinner;
use crate::dictionary::Dictionary;
use crate::error::escape;
use crate::trend::{aim_of, chart_of, TrendSettings};
use crate::trend::{last_complete_month, month_end, month_ends, month_label, parse_month, Measure};
use crate::values::Day;

/// Month by month: the audit's measures at every month end, SPC charts as NHS England draws
/// them, and progress against the aim of halving high-dose prescribing.
///
/// For every month end from --from to --to, the audit's measures exactly as `opal audit
/// --as-of <month end>` finds them, from the issues dated on or before it, in one pass over
/// each patient's timeline. Writes to --out: measures, spc and aims (CSV or Parquet), charts/
/// (an SVG XmR chart per ICS and per practice) and manifest.json. No patient identifier is
/// written anywhere.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    opal trend data/sample/extract.csv --practices data/sample/practices.csv --list-sizes data/sample/list_sizes.csv\n  \
    opal trend 2024-*.csv.gz 2025-*.csv.gz --from 2024-04 --baseline 2024-04..2025-03 --out trend\n\n\
    Exit codes: 0 done; 1 error; 2 usage; 3 --strict stopped at a rejected row; 4 --strict \
    stopped as the input gave little to audit; 130 interrupted.")]
pub struct Args {
    /// Extract files (CSV, .csv.gz or Parquet).
    #[arg(value_name = "EXTRACT", required = true)]
    extracts: Vec<PathBuf>,
    /// First month (YYYY-MM) [default: the first month end at least --lookback days after
    /// the earliest issue].
    #[arg(long, value_name = "YYYY-MM")]
    from: Option<String>,
    /// Last month (YYYY-MM) [default: the last complete month: the last month whose last day
    /// is on or before the latest issue]. Issues after it are counted and not used.
    #[arg(long, value_name = "YYYY-MM")]
    to: Option<String>,
    /// Months the SPC limits are computed from, fixed after them (YYYY-MM..YYYY-MM), and the
    /// aims' baseline [default: limits from every month; the aims' baseline the first 12].
    #[arg(long, value_name = "FROM..TO")]
    baseline: Option<String>,
    /// The aim: a reduction of this many percent from the baseline (0 to 100).
    #[arg(long, value_name = "PERCENT", default_value_t = 50.0,
          value_parser = crate::cmd::ranges::percent)]
    aim_reduction: f64,
    /// Screen out moving ranges of at least 3.267 times their mean before setting the limits
    /// (the R package NHSRplotthedots does by default; NHS England's Excel tool does not).
    #[arg(long)]
    screen_outliers: bool,
    #[command(flatten)]
    output: crate::cmd::OutputArgs,
    /// Also write report.html: the XmR charts, the aims and the row accounting on one
    /// self-contained page (no patient identifier; counts suppressed with --suppress).
    #[arg(long)]
    report: bool,
    #[command(flatten)]
    pub method: MethodArgs,
}

use crate::error::usage;

fn month(option: &str, text: &str) -> Result<Day> {
    parse_month(text).ok_or_else(|| {
        usage(format!(
            "{option} '{}' is not a month\nhint: write it as YYYY-MM, e.g. {option} 2025-04",
            escape(text)
        ))
    })
}

pub fn run(args: Args) -> Result<()> {
    let to_arg = args.to.as_deref().map(|t| month("--to", t)).transpose()?;
    let from_arg = args
        .from
        .as_deref()
        .map(|t| month("--from", t))
        .transpose()?;
    let baseline_arg = match args.baseline.as_deref() {
        Some(b) => {
            let (a, z) = b.split_once("..").ok_or_else(|| {
                usage(format!(
                    "--baseline '{}': write it as FROM..TO, e.g. --baseline 2024-04..2025-03",
                    escape(b)
                ))
            })?;
            Some((month("--baseline", a)?, month("--baseline", z)?))
        }
        None => None,
    };
    let Method {
        config,
        read_opts,
        practice_warnings,
    } = args.method.settings(to_arg)?;
    if let Some(out) = &args.output.out {
        crate::write::table::check_out_dir(out, args.output.force)?;
    }
    let lap = crate::timing::lap;
    lap("start");
    let pb = spinner(args.output.quiet, "reading extracts");
    let (files, mut result) = crate::engine::read_files(
        &args.extracts,
        &read_opts,
        &config,
        Dictionary::builtin(),
        &mut crate::engine::NoSink,
        |path: &Path| pb.set_message(format!("reading {}", path.display())),
    )?;
    pb.finish_and_clear();
    result.warnings.splice(0..0, practice_warnings);
    crate::engine::check_findings(&mut result, &config)?;
    // The last month: given, else the last complete one. Without --to the rows were read as
    // the audit reads them without --as-of; items after the last month end are then counted
    // as after it, as `opal audit --as-of <last month end>` counts them.
    let to = to_arg.unwrap_or_else(|| last_complete_month(result.as_of));
    crate::engine::trend::end_at(&mut result, to);
    let first_issue = result.first_issue_day.unwrap_or(to);
    let from = match from_arg {
        Some(f) => f,
        None => month_end(first_issue + config.timeline.lookback_days),
    };
    let ends = month_ends(from, to);
    if ends.is_empty() {
        return Err(usage(format!(
            "no month end from {} to {}\nhint: the first month is at least --lookback ({}) days \
             after the earliest issue ({}); give --from and --to within the extract's dates",
            month_label(from),
            month_label(to),
            config.timeline.lookback_days,
            crate::engine::day_text(first_issue)
        )));
    }
    let baseline = match baseline_arg {
        Some((a, z)) => {
            let i = ends.iter().position(|&d| d == a);
            let j = ends.iter().position(|&d| d == z);
            match (i, j) {
                (Some(i), Some(j)) if i <= j => Some(i..j + 1),
                _ => {
                    return Err(usage(format!(
                        "--baseline {}: its months must lie within the trend's, {} to {}, first \
                         before last",
                        escape(args.baseline.as_deref().unwrap_or("")),
                        month_label(ends[0]),
                        month_label(*ends.last().unwrap_or(&to))
                    )))
                }
            }
        }
        None => None,
    };
    if !result.accounting.balanced() {
        anyhow::bail!(
            "internal error: row accounting does not add up ({:?})",
            result.accounting
        );
    }
    let pb = spinner(args.output.quiet, "evaluating every month end");
    let series = crate::engine::trend::trend(&result, &config, &ends);
    let settings = TrendSettings {
        month_ends: ends.clone(),
        baseline,
        aim_fraction: args.aim_reduction / 100.0,
        screen_outliers: args.screen_outliers,
        suppress: config.suppress,
        rates: config.list_sizes.is_some(),
        complete_from: crate::trend::first_complete(&ends, first_issue, &config.timeline),
    };
    let target = args
        .output
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("opal-trend-{}", month_label(to))));
    if args.output.out.is_none() {
        crate::write::table::check_out_dir(&target, args.output.force)?;
    }
    // Written all or nothing (write/outdir.rs).
    let staging = crate::write::outdir::Staging::create(&target)?;
    let out = staging.path().to_path_buf();
    let computed = crate::trend::compute(&series, &settings);
    let mut written =
        crate::write::trend::write_all(&out, &series, &computed, &settings, args.output.format)?;
    if args.report {
        let report = crate::write::report::Report {
            command: "opal trend",
            as_of: to,
            config: &config,
            summaries: None,
            trend: Some((&series, &computed, &settings)),
            accounting: &result.accounting,
            unresolved: crate::write::report::tally(
                result.unresolved.iter().map(|u| u.reason.as_str()),
            ),
            rejected: crate::write::report::tally(
                result.rejected.iter().map(|x| x.column.as_str()),
            ),
            days_assumed: None,
        };
        written.push(crate::write::report::write_report(&out, &report)?);
    }
    lap("measures, spc, aims and charts written");
    let refs = crate::write::manifest::Settings {
        practices: args.method.practices.as_deref(),
        list_sizes: args.method.list_sizes.as_deref(),
        exclude_patients: args.method.exclude_patients.as_deref(),
        format: args.output.format.extension(),
        date_format: args.method.date_format.as_deref(),
        practice_code: args.method.practice_code.as_deref(),
        patient_practices: args.method.patient_practices.as_deref(),
        code_map: args.method.code_map.as_deref(),
        dosages: args.method.dosages.as_deref(),
        reviews: None,
        events: None,
        practice_packs: &[],
    };
    let trend = crate::write::manifest::trend_entry(
        &series,
        &settings,
        args.aim_reduction,
        computed.left_out,
    );
    crate::write::manifest::write_trend_manifest(
        &out, &refs, &files, &result, &config, &written, trend,
    )?;
    staging.commit(&target, args.output.force)?;
    pb.finish_and_clear();
    for w in &result.warnings {
        eprintln!("warning: {}", escape(w));
    }
    if !args.output.quiet {
        print_summary(&series, &settings, &target, result.accounting.read);
    }
    // Every output is written, synced and renamed into place; the process ends next.
    crate::cmd::leave_to_exit(result);
    Ok(())
}

/// The ICSs and all practices: high-dose patients now, the baseline and target, and the
/// chart's icons. No patient identifier.
fn print_summary(series: &[crate::trend::Series], t: &TrendSettings, out: &Path, rows: u64) {
    let (first, last) = (
        month_label(t.month_ends[0]),
        month_label(*t.month_ends.last().unwrap_or(&0)),
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
    for s in series.iter().filter(|s| s.level != "practice") {
        let a = aim_of(s, Measure::HighDose, t);
        let chart = chart_of(s, Measure::HighDose, t);
        let fmt = |v: f64| crate::values::fmt_num((v * 10.0).round() / 10.0);
        table.add_row(vec![
            escape(&s.code),
            escape(&s.name),
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
    println!("written to {}", out.display());
}
