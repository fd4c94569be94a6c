//! The trend (METHOD.md §10): every patient at every month end in one pass over their
//! timeline (the core's [`crate::timeline::month_states`]), half of the patients on each of
//! two threads, counted per practice and month; then the core's sums per ICS and for all.

use std::collections::BTreeMap;

use super::patients::{by_patient, exposure_of};
use super::{AuditConfig, AuditResult};
use crate::timeline::{ExposureItem, Layout, MonthState};
use crate::trend::{
    compute, series, Computed, Counts, Series, TrendSettings, DEFAULT_AIM_FRACTION,
};
use crate::values::Day;

/// Every practice of the input, in code order: (code, name, ICS, list size at each month
/// end).
pub type PracticeRow = (String, String, String, Vec<Option<f64>>);

/// The practices of the input (every practice with a dated row, as in the audit's
/// summaries) and, per interned practice id, its place among them.
pub fn practices(
    r: &AuditResult,
    config: &AuditConfig,
    month_ends: &[Day],
) -> (Vec<PracticeRow>, Vec<usize>) {
    // Each month end's list sizes (its own file, else the nearest earlier: METHOD.md §9.5).
    let sizes: Vec<Option<&BTreeMap<String, f64>>> = month_ends
        .iter()
        .map(|&d| config.list_sizes_for(d).map(|(s, _)| s))
        .collect();
    let mut by_code: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    for (id, code) in r.practice_codes.iter().enumerate() {
        // A practice with an item always has a dated row; UNKNOWN guards the impossible.
        let ics = match r.practice_ics_seen[id] {
            Some(seen) => config.ics_of(code, &r.ics_codes[seen as usize]),
            None if r.items.iter().any(|i| i.practice as usize == id) => "UNKNOWN".into(),
            None => continue,
        };
        by_code.insert(code, (id, ics));
    }
    let mut place = vec![usize::MAX; r.practice_codes.len()];
    let rows = by_code
        .into_iter()
        .enumerate()
        .map(|(k, (code, (id, ics)))| {
            place[id] = k;
            let info = config.practices.as_ref().and_then(|m| m.get(code));
            (
                code.to_string(),
                info.map(|i| i.practice_name.clone()).unwrap_or_default(),
                ics,
                sizes
                    .iter()
                    .map(|s| s.and_then(|l| l.get(code).copied()))
                    .collect(),
            )
        })
        .collect();
    (rows, place)
}

/// The counts of each practice (in [`practices`] order) at each month end.
pub fn month_counts(
    r: &AuditResult,
    config: &AuditConfig,
    month_ends: &[Day],
    place: &[usize],
    npractices: usize,
) -> Vec<Vec<Counts>> {
    let work = |first: usize, end: usize, starts: &[usize], order: &mut [u32]| {
        let mut counts = vec![vec![Counts::default(); month_ends.len()]; npractices];
        let base = starts[first];
        let mut exposure: Vec<ExposureItem> = Vec::new();
        let mut states: Vec<MonthState> = Vec::new();
        let mut layout = Layout::default();
        for patient in first..end {
            let group = &mut order[starts[patient] - base..starts[patient + 1] - base];
            if group.is_empty() {
                continue;
            }
            exposure_of(r, config, group, &mut exposure);
            states.clear();
            layout.place(&exposure, config.timeline.stockpile);
            layout.month_states(&exposure, month_ends, &config.timeline, false, &mut states);
            if states.is_empty() {
                continue;
            }
            let excluded = config
                .excluded_patients
                .contains_key(&r.patient_ids[patient]);
            for st in &states {
                let latest = &r.items[group[st.latest_item] as usize];
                let p = place[latest.practice as usize];
                counts[p][st.month].add_patient(st, excluded);
            }
        }
        counts
    };
    let (mut counts, upper) = by_patient(r, work);
    for (mine, theirs) in counts.iter_mut().zip(&upper) {
        for (m, t) in mine.iter_mut().zip(theirs) {
            m.add(t);
        }
    }
    counts
}

/// The trend ends at `to`: items issued after it are counted as after it, as `opal audit
/// --as-of <to>` counts them (with `--to` they were read so already; without, `to` is the
/// last complete month and the rows of the month after move from used to after_as_of).
pub fn end_at(r: &mut AuditResult, to: Day) {
    let before = r.items.len();
    r.items.retain(|i| i.issue_day <= to);
    let moved = (before - r.items.len()) as u64;
    r.accounting.used -= moved;
    r.accounting.after_as_of += moved;
    r.as_of = to;
}

/// The series of every practice, ICS and all practices at the month ends.
pub fn trend(r: &AuditResult, config: &AuditConfig, month_ends: &[Day]) -> Vec<Series> {
    let (rows, place) = practices(r, config, month_ends);
    let counts = month_counts(r, config, month_ends, &place, rows.len());
    crate::timing::lap("month ends");
    // An ICS's name is its first practice's (in code order) from --practices, as in the
    // audit's summaries.
    let mut ics_names: BTreeMap<String, String> = BTreeMap::new();
    for (code, _, ics, _) in &rows {
        let info = config.practices.as_ref().and_then(|m| m.get(code));
        if let Some(info) = info {
            let name = ics_names.entry(ics.clone()).or_default();
            if name.is_empty() {
                *name = info.ics_name.clone();
            }
        }
    }
    series(&rows, &counts, &ics_names)
}

/// The trend of an audit's month ends (the first a look-back after the earliest issue, to
/// the last complete month), for its report and practice packs.
pub fn audit_trend(
    r: &AuditResult,
    config: &AuditConfig,
) -> (Vec<Series>, Option<Computed>, TrendSettings) {
    use crate::trend::{last_complete_month, month_end, month_ends};
    let first = r.first_issue_day.unwrap_or(r.as_of);
    let ends = month_ends(
        month_end(first + config.timeline.lookback_days),
        last_complete_month(r.as_of),
    );
    let settings = TrendSettings {
        month_ends: ends.clone(),
        baseline: None,
        // The audit's report shows the trend with the default aim: half the baseline
        // (METHOD.md §10).
        aim_fraction: DEFAULT_AIM_FRACTION,
        screen_outliers: false,
        suppress: config.suppress,
        rates: config.list_size_files.is_some(),
        complete_from: crate::trend::first_complete(&ends, first, &config.timeline),
        rebase: Default::default(),
        suggest_run: crate::spc::SUGGEST_RUN,
    };
    if ends.is_empty() {
        return (Vec::new(), None, settings);
    }
    let series = trend(r, config, &ends);
    let computed = compute(&series, &settings);
    (series, Some(computed), settings)
}

/// What `opal trend` is asked to do, once its options are read.
pub struct TrendRequest<'a> {
    pub extracts: &'a [std::path::PathBuf],
    pub read_opts: crate::read::extract::ReadOptions,
    pub config: AuditConfig,
    /// Warnings known before reading (the practices file's), first in the run's list.
    pub warnings: Vec<String>,
    /// `--from` and `--to`: the first and last month ends.
    pub from: Option<Day>,
    pub to: Option<Day>,
    /// `--baseline`: its first and last month ends, and the text given (for its error).
    pub baseline: Option<(Day, Day, &'a str)>,
    pub aim_fraction: f64,
    pub screen_outliers: bool,
    /// `--rebase`: where charts are rebased.
    pub rebase: Vec<RebaseAt>,
    /// `--suggest-rebase-run`.
    pub suggest_run: usize,
}

/// A `--rebase`: a month for every chart, or one chart's.
#[derive(Debug, Clone, PartialEq)]
pub enum RebaseAt {
    All(Day),
    Series(crate::read::rebase::SeriesRebase),
}

/// A rebase by month-end index: for every chart (`None`), or one chart's (level, code).
type RebaseMonth = (Option<(String, String)>, usize);

/// `--rebase` as month-end indices, checked before the month ends are evaluated: a month
/// outside the trend's is a usage error.
fn rebase_months(at: &[RebaseAt], ends: &[Day]) -> anyhow::Result<Vec<RebaseMonth>> {
    use crate::trend::month_label;
    let index = |m: Day| {
        ends.iter().position(|&e| e == m).ok_or_else(|| {
            crate::error::usage_hinted(
                format!(
                    "--rebase {}: not one of the trend's months, {} to {}",
                    month_label(m),
                    month_label(ends[0]),
                    month_label(*ends.last().unwrap_or(&m))
                ),
                "rebase at a month within --from and --to",
            )
        })
    };
    at.iter()
        .map(|r| match r {
            RebaseAt::All(m) => Ok((None, index(*m)?)),
            RebaseAt::Series(s) => Ok((Some((s.level.clone(), s.code.clone())), index(s.month)?)),
        })
        .collect()
}

/// The rebases by chart; a chart the trend does not have is a warning (its code hidden if it
/// looks like an NHS number).
fn rebase_plan(
    months: Vec<RebaseMonth>,
    series: &[Series],
    warnings: &mut Vec<String>,
) -> crate::trend::Rebase {
    let mut plan = crate::trend::Rebase::default();
    let mut unknown = std::collections::BTreeSet::new();
    for (chart, k) in months {
        match chart {
            None => plan.all.push(k),
            Some((level, code)) => {
                if !series.iter().any(|x| x.level == level && x.code == code) {
                    let shown = if crate::item::looks_like_nhs_number(&code) {
                        "<value>".to_string()
                    } else {
                        crate::error::escape(&code)
                    };
                    unknown.insert(format!("{level} {shown}"));
                    continue;
                }
                plan.series.entry((level, code)).or_default().push(k);
            }
        }
    }
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.into_iter().collect();
        warnings.push(format!(
            "--rebase: {} chart(s) not in the trend were not rebased: {}",
            list.len(),
            list.join(", ")
        ));
    }
    plan
}

/// A trend worked out: the rows read, every series, the settings and the SPC and aims.
pub struct TrendRun {
    pub files: Vec<crate::read::extract::FileInfo>,
    pub result: AuditResult,
    pub config: AuditConfig,
    pub series: Vec<Series>,
    pub settings: TrendSettings,
    pub computed: Computed,
}

/// Run a trend: read the extracts, choose the month ends, evaluate every patient at each and
/// compute the charts and aims. `progress` is told each stage; `ready` is told the last
/// month end before the month ends are evaluated (a default output folder is named by it).
pub fn run(
    req: TrendRequest<'_>,
    progress: &dyn Fn(super::audit::Stage<'_>),
    ready: &dyn Fn(Day) -> anyhow::Result<()>,
) -> anyhow::Result<TrendRun> {
    use crate::error::{escape, usage};
    use crate::trend::{first_complete, last_complete_month, month_end, month_ends, month_label};
    let TrendRequest {
        extracts,
        read_opts,
        config,
        warnings,
        from,
        to,
        baseline,
        aim_fraction,
        screen_outliers,
        rebase,
        suggest_run,
    } = req;
    crate::timing::lap("start");
    let (files, mut result) = super::read_files(
        extracts,
        &read_opts,
        &config,
        crate::dictionary::Dictionary::builtin(),
        &mut super::NoSink,
        |path| progress(super::audit::Stage::Reading(path)),
    )?;
    result.warnings.splice(0..0, warnings);
    super::check_findings(&mut result, &config)?;
    // The last month: given, else the last complete one. Without --to the rows were read as
    // the audit reads them without --as-of; items after the last month end are then counted
    // as after it, as `opal audit --as-of <last month end>` counts them.
    let to = to.unwrap_or_else(|| last_complete_month(result.as_of));
    end_at(&mut result, to);
    let first_issue = result.first_issue_day.unwrap_or(to);
    let from = from.unwrap_or_else(|| month_end(first_issue + config.timeline.lookback_days));
    let ends = month_ends(from, to);
    if ends.is_empty() {
        return Err(crate::error::usage_hinted(
            format!(
                "no month end from {} to {}",
                month_label(from),
                month_label(to)
            ),
            format!(
                "the first month is at least --lookback ({}) days \
             after the earliest issue ({}); give --from and --to within the extract's dates",
                config.timeline.lookback_days,
                super::day_text(first_issue)
            ),
        ));
    }
    let baseline = match baseline {
        Some((a, z, text)) => {
            let i = ends.iter().position(|&d| d == a);
            let j = ends.iter().position(|&d| d == z);
            match (i, j) {
                (Some(i), Some(j)) if i <= j => Some(i..j + 1),
                _ => {
                    return Err(usage(format!(
                        "--baseline {}: its months must lie within the trend's, {} to {}, first \
                         before last",
                        escape(text),
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
    let rebase = rebase_months(&rebase, &ends)?;
    progress(super::audit::Stage::Completing);
    let series = trend(&result, &config, &ends);
    let rebase = rebase_plan(rebase, &series, &mut result.warnings);
    let settings = TrendSettings {
        month_ends: ends.clone(),
        baseline,
        aim_fraction,
        screen_outliers,
        suppress: config.suppress,
        rates: config.list_size_files.is_some(),
        complete_from: first_complete(&ends, first_issue, &config.timeline),
        rebase,
        suggest_run,
    };
    ready(to)?;
    let computed = compute(&series, &settings);
    Ok(TrendRun {
        files,
        result,
        config,
        series,
        settings,
        computed,
    })
}
