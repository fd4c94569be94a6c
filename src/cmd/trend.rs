//! `opal trend`: the audit's measures at every month end, SPC charts, progress to the aim.

use std::path::PathBuf;

use anyhow::Result;

use crate::cmd::method::{Method, MethodArgs};
use crate::cmd::spinner;
use crate::engine::audit::Stage;
use crate::engine::trend::{RebaseAt, TrendRequest};
use crate::error::escape;
use crate::trend::{month_label, parse_month};
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
    /// Recalculate the limits from this month on, for every chart (YYYY-MM; several
    /// separated by commas, or the option given again), as after a known change in the
    /// process; or a CSV FILE of level (practice, ics or all), code and month, for single
    /// charts. The rules then run within each part.
    #[arg(long, value_name = "MONTH|FILE")]
    rebase: Vec<String>,
    /// A run of this many month ends on one side of the mean, to the latest, is shown as a
    /// suggested rebase (spc.csv's suggested_rebase, the charts, the report); it is never
    /// made without --rebase (0 turns suggestions off; 0 to 100).
    #[arg(long, value_name = "N", default_value_t = opal_core::spc::SUGGEST_RUN as u32,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    suggest_rebase_run: u32,
    /// The aim: a reduction of this many percent from the baseline (0 to 100).
    #[arg(long = "aim-reduction", value_name = "PERCENT", default_value_t = 50.0,
          value_parser = crate::cmd::ranges::percent)]
    aim_reduction_pct: f64,
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
        crate::error::usage_hinted(
            format!("{option} '{}' is not a month", escape(text)),
            format!("write it as YYYY-MM, e.g. {option} 2025-04"),
        )
    })
}

pub fn run(args: Args) -> Result<()> {
    let to = args.to.as_deref().map(|t| month("--to", t)).transpose()?;
    let from = args
        .from
        .as_deref()
        .map(|t| month("--from", t))
        .transpose()?;
    let baseline = match args.baseline.as_deref() {
        Some(b) => {
            let (a, z) = b.split_once("..").ok_or_else(|| {
                usage(format!(
                    "--baseline '{}': write it as FROM..TO, e.g. --baseline 2024-04..2025-03",
                    escape(b)
                ))
            })?;
            Some((month("--baseline", a)?, month("--baseline", z)?, b))
        }
        None => None,
    };
    let rebase = rebase(&args.rebase)?;
    let Method {
        config,
        read_opts,
        practice_warnings,
    } = args.method.settings(to)?;
    if let Some(out) = &args.output.out {
        crate::write::table::check_out_dir(out, args.output.force)?;
    }
    let request = TrendRequest {
        extracts: &args.extracts,
        read_opts,
        config,
        warnings: practice_warnings,
        from,
        to,
        baseline,
        aim_fraction: args.aim_reduction_pct / 100.0,
        screen_outliers: args.screen_outliers,
        rebase,
        suggest_run: args.suggest_rebase_run as usize,
    };
    let target = std::cell::OnceCell::new();
    let pb = spinner(args.output.quiet, "reading extracts");
    let run = crate::engine::trend::run(
        request,
        &|stage| match stage {
            Stage::Reading(path) => pb.set_message(format!("reading {}", path.display())),
            Stage::Completing => pb.set_message("evaluating every month end"),
        },
        &|to| {
            let dir = args.output.out.clone();
            let dir = dir.unwrap_or_else(|| format!("opal-trend-{}", month_label(to)).into());
            if args.output.out.is_none() {
                crate::write::table::check_out_dir(&dir, args.output.force)?;
            }
            let _ = target.set(dir);
            Ok(())
        },
    )?;
    let target = target.get().cloned().unwrap_or_default();
    let manifest = args.method.manifest(args.output.format);
    let what = crate::write::trend::TrendOutputs {
        format: args.output.format,
        report: args.report,
        aim_reduction_pct: args.aim_reduction_pct,
    };
    crate::write::trend::write_run(&run, what, &manifest, &target, args.output.force)?;
    pb.finish_and_clear();
    for w in &run.result.warnings {
        eprintln!("warning: {}", escape(w));
    }
    if !args.output.quiet {
        crate::write::terminal::print_trend_summary(&run, &target);
    }
    // Every output is written, synced and renamed into place; the process ends next.
    crate::cmd::leave_to_exit(run);
    Ok(())
}

/// `--rebase`: months for every chart, or files of single charts' months.
fn rebase(values: &[String]) -> Result<Vec<RebaseAt>> {
    let mut out = Vec::new();
    for v in values {
        let months: Option<Vec<Day>> = v.split(',').map(|m| parse_month(m.trim())).collect();
        match months {
            Some(months) => out.extend(months.into_iter().map(RebaseAt::All)),
            None if std::path::Path::new(v).is_file() => out.extend(
                crate::read::rebase::read_rebase(std::path::Path::new(v))?
                    .into_iter()
                    .map(RebaseAt::Series),
            ),
            None => {
                return Err(crate::error::usage_hinted(
                    format!("--rebase '{}' is neither a month nor a file", escape(v)),
                    "give the month the process changed, as YYYY-MM (e.g. --rebase 2025-04), \
                     or a CSV file of level, code and month",
                ))
            }
        }
    }
    Ok(out)
}
