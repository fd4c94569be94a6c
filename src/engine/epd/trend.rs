//! The EPD months as series: every practice, PCN, ICS and England's measures month by month,
//! their XmR charts and aims (the core's `epd_trend`), the national deciles and each
//! practice's and ICS's rank; and the ICS codes `--ics-map` did not map.

use super::*;

/// The ICS codes of a run that `--ics-map` did not map (neither a key nor one of its ICSs).
pub fn unmapped_ics(r: &EpdResult, map: &BTreeMap<String, (String, String)>) -> Vec<String> {
    let known: std::collections::BTreeSet<&str> = map.values().map(|v| v.0.as_str()).collect();
    let mut out: Vec<String> = r
        .ics
        .iter()
        .map(|m| m.code.clone())
        .filter(|c| !known.contains(c.as_str()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The options of the EPD's months as a trend: the trend's (METHOD.md §10).
#[derive(Debug, Clone, Default)]
pub struct EpdTrendOptions {
    /// `--baseline FROM..TO` (`YYYY-MM`): the months of the limits and the aims' baseline.
    pub baseline: Option<(String, String)>,
    /// The aim as a fraction (0.5 halves the baseline).
    pub aim_fraction: f64,
    pub screen_outliers: bool,
    /// `--rebase` (`YYYY-MM`): months from which every chart's limits are recalculated.
    pub rebase: Vec<String>,
}

/// The EPD month by month: every practice's, PCN's, ICS's and England's series, the national
/// deciles and ranks, and the XmR charts and aims.
pub struct EpdTrend {
    /// `YYYY-MM`, ascending.
    pub months: Vec<String>,
    pub series: Vec<EpdSeries>,
    pub comparison: Comparison,
    pub computed: EpdComputed,
    pub settings: TrendSettings,
    /// Which practices the national comparison holds, in words (METHOD.md §9.4).
    pub compared_by: &'static str,
}

/// The trend of an EPD run's months.
pub fn trend(r: &EpdResult, config: &EpdConfig, o: &EpdTrendOptions) -> Result<EpdTrend> {
    let months: Vec<String> = r.months.iter().map(|(m, _)| m.clone()).collect();
    let month_ends: Vec<crate::values::Day> = months
        .iter()
        .filter_map(|m| crate::trend::parse_month(m))
        .collect();
    let baseline = match &o.baseline {
        Some((a, z)) => {
            let i = months.iter().position(|m| m == a);
            let j = months.iter().position(|m| m == z);
            match (i, j) {
                (Some(i), Some(j)) if i <= j => Some(i..j + 1),
                _ => {
                    return Err(crate::error::usage_hinted(
                        format!(
                            "--baseline {a}..{z} is not within the months read ({} to {})",
                            months.first().map_or("", String::as_str),
                            months.last().map_or("", String::as_str)
                        ),
                        "\
                         give two months of the files, the first not after the second",
                    ))
                }
            }
        }
        None => None,
    };
    let mut rebase = crate::trend::Rebase::default();
    for m in &o.rebase {
        let Some(k) = months.iter().position(|x| x == m) else {
            return Err(crate::error::usage_hinted(
                format!(
                    "--rebase {m}: not one of the months read ({} to {})",
                    months.first().map_or("", String::as_str),
                    months.last().map_or("", String::as_str)
                ),
                "rebase at a month of the files",
            ));
        };
        rebase.all.push(k);
    }
    let by_setting = config
        .practices
        .as_ref()
        .is_some_and(|p| p.values().any(|i| !i.setting.is_empty()));
    let compared_by = if by_setting {
        "GP practices (prescribing setting 4 in the practices file), as OpenPrescribing"
    } else if config.list_sizes.is_some() {
        "practices with a registered list size that month (no prescribing setting given)"
    } else {
        "every practice (no prescribing setting or list sizes given)"
    };
    let practices = config.practices.as_ref();
    let pcn = |code: &str| {
        practices
            .and_then(|p| p.get(code))
            .filter(|i| !i.pcn_code.is_empty())
            .map(|i| (i.pcn_code.clone(), i.pcn_name.clone()))
    };
    let compared = |m: &Measures| {
        if by_setting {
            practices
                .and_then(|p| p.get(&m.code))
                .is_some_and(|i| i.setting == "4")
        } else if config.list_sizes.is_some() {
            m.list_size.is_some()
        } else {
            true
        }
    };
    // An ICS's name: the first its practices' rows give (the practices file's, else the
    // EPD's own ICB or PCO name).
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for m in &r.practices {
        if !m.ics_name.is_empty() {
            names
                .entry(m.ics_code.as_str())
                .or_insert(m.ics_name.as_str());
        }
    }
    let ics_name = |code: &str| names.get(code).map(|n| n.to_string()).unwrap_or_default();
    let series = crate::epd_trend::series(
        &r.practices,
        &months,
        &Membership {
            pcn: &pcn,
            compared: &compared,
            ics_name: &ics_name,
        },
    );
    let settings = TrendSettings {
        month_ends,
        baseline,
        aim_fraction: o.aim_fraction,
        screen_outliers: o.screen_outliers,
        suppress: false,
        rates: config.list_sizes.is_some(),
        complete_from: 0,
        rebase,
        suggest_run: crate::spc::SUGGEST_RUN,
    };
    let comparison = compare(&series, months.len());
    let computed = compute(&series, &settings);
    Ok(EpdTrend {
        months,
        series,
        comparison,
        computed,
        settings,
        compared_by,
    })
}
