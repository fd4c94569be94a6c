//! The method's options, shared by the commands that audit extracts (`opal audit`, `opal
//! trend`): thresholds, windows, factor set, PRN policy, reference files, exclusions, column
//! mapping and date layout, turned into the core's settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cmd::{ranges, today};
use crate::engine::{AuditConfig, PrnPolicy};
use crate::factors::DEFAULT_SET;
use crate::read::extract::ReadOptions;
use crate::timeline::{Stockpile, TimelineSettings};
use crate::values::{self, DateFormat, Day};

/// The options of the method (METHOD.md), as `opal audit` and `opal trend` take them.
#[derive(Debug, Clone, clap::Args)]
pub struct MethodArgs {
    /// Practice to ICS mapping: practice_code,ics_code[,practice_name,ics_name], the ODS
    /// epraccur.csv, or gp-reg-pat-prac-map.csv. Without it the extract's ics_code is used,
    /// else UNKNOWN.
    #[arg(long, value_name = "FILE")]
    pub practices: Option<PathBuf>,
    /// Registered list sizes: practice_code,list_size or NHS gp-reg-pat-prac-*.csv; adds
    /// rates per 1000 patients. One file, or the option once a month: each NHS file serves
    /// the month of its EXTRACT_DATE (the audit date's month for the audit, each month end's
    /// own for the trend), a month with none the nearest earlier file.
    #[arg(long, value_name = "FILE")]
    pub list_sizes: Vec<PathBuf>,
    /// High dose: OME/day strictly above this many mg (0 to 100000).
    #[arg(long = "threshold", value_name = "MG", default_value_t = 120.0, value_parser = ranges::mg_per_day)]
    pub threshold_mg_day: f64,
    /// Long-term: a current episode longer than this many days (0 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(i64).range(0..=i64::from(ranges::MAX_DAYS)))]
    pub long_term_days: i64,
    /// Gaps of at most this many days join supplies into one episode; an episode ending at
    /// most this long before the audit date is current (0 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(ranges::MAX_DAYS)))]
    pub grace_days: u32,
    /// OME/day is the mean over this many days ending on the audit date (1 to 3660).
    #[arg(long = "dose-window", value_name = "DAYS", default_value_t = 28,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ranges::MAX_DAYS)))]
    pub dose_window_days: u32,
    /// Peak OME/day is the highest day in this many days ending on the audit date (1 to
    /// 3660).
    #[arg(long = "lookback", value_name = "DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ranges::MAX_DAYS)))]
    pub lookback_days: u32,
    /// Days of supply when neither a duration nor the directions say (1 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 28.0, value_parser = ranges::days)]
    pub default_days: f64,
    /// Reject an item whose days of supply (stated, or worked out from the quantity and the
    /// directions) is above this many days: not a plausible supply (1 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 366.0, value_parser = ranges::days)]
    pub max_days_supply: f64,
    /// Audit products for opioid dependence (BNF 0410, methadone oral solutions,
    /// buprenorphine 2mg and above sublingual, prolonged-release buprenorphine injections)
    /// instead of excluding them.
    #[arg(long)]
    pub include_dependence: bool,
    /// Which end of a PRN range sets days of supply and instructed OME.
    #[arg(long, value_enum, default_value = "max")]
    pub prn_policy: PrnArg,
    /// Early repeats of one product: carry forward (start when the last supply ends) or
    /// concurrent (start on issue).
    #[arg(long, value_enum, default_value = "carry")]
    pub stockpile: StockpileArg,
    /// Conversion factor set: uk-fpm, openprescribing, cdc-2022, or a CSV file.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_SET)]
    pub factors: String,
    /// Patients to exclude (e.g. a cancer or palliative care register): a file of patient
    /// ids, one a line, or a CSV with patient_id[,reason]. They keep their rows, marked.
    #[arg(long, value_name = "FILE")]
    pub exclude_patients: Option<PathBuf>,
    /// Disclosure control in the summaries: counts 1-7 as *, others rounded to 5.
    #[arg(long)]
    pub suppress: bool,
    /// Stop with exit code 3 at the first rejected row.
    #[arg(long)]
    pub strict: bool,
    /// The practice (ODS code) of every row, for a file with no practice column: a report run
    /// inside one practice (SystmOne, EMIS). An error when the file has one.
    #[arg(long, value_name = "CODE")]
    pub practice_code: Option<String>,
    /// Each patient's practice, for a file with no practice column whose practices are in
    /// another table (OMOP's person/care_site, a research extract's patient file): a CSV of
    /// patient_id,practice_code. A patient not in it is a rejected row.
    #[arg(long, value_name = "FILE", conflicts_with = "practice_code")]
    pub patient_practices: Option<PathBuf>,
    /// Another system's product codes (the extract's source_code column: CPRD Aurum's
    /// prodcodeid) mapped to dm+d ids or product names: CPRD's product dictionary, or any CSV
    /// of code,dmd_id or code,product_name. A code not in it is a rejected row.
    #[arg(long, value_name = "FILE")]
    pub code_map: Option<PathBuf>,
    /// Directions by a dosage code (the extract's dosage_id column: CPRD Aurum's dosageid):
    /// CPRD's common dosages (dosage_text, daily_dose), or a CSV of dosageid,dosage_text.
    #[arg(long, value_name = "FILE")]
    pub dosages: Option<PathBuf>,
    /// Map a column: --column patient_id="Patient Ref" (repeatable).
    #[arg(long = "column", value_name = "NAME=HEADER")]
    pub columns: Vec<String>,
    /// Date layout of issue_date, e.g. %d/%m/%Y or %m/%d/%Y [default: detected].
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
}

/// `--prn-policy` (the method's [`PrnPolicy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrnArg {
    /// The most units a day the directions allow (default).
    Max,
    /// The midpoint of the range.
    Mean,
    /// The fewest units a day, where above zero (else the most).
    Min,
}

impl From<PrnArg> for PrnPolicy {
    fn from(a: PrnArg) -> PrnPolicy {
        match a {
            PrnArg::Max => PrnPolicy::Max,
            PrnArg::Mean => PrnPolicy::Mean,
            PrnArg::Min => PrnPolicy::Min,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StockpileArg {
    Carry,
    Concurrent,
}

/// The settings of a run, from the options.
pub struct Method {
    pub config: AuditConfig,
    pub read_opts: ReadOptions,
    /// Warnings about the practices file (duplicate codes), for the run's warnings.
    pub practice_warnings: Vec<String>,
}

use crate::error::usage;

/// `--as-of`: a date written YYYY-MM-DD, else a usage error.
pub fn parse_as_of(s: &str) -> Result<Day> {
    parse_date_option("--as-of", s)
}

/// A date option written YYYY-MM-DD, else a usage error.
pub fn parse_date_option(option: &str, s: &str) -> Result<Day> {
    values::parse_date_with(s, &DateFormat("%Y-%m-%d".into())).ok_or_else(|| {
        crate::error::usage_hinted(
            format!("{option} '{}' is not a date", crate::error::escape(s)),
            format!("write it as YYYY-MM-DD, e.g. {option} 2026-10-31"),
        )
    })
}

impl MethodArgs {
    /// What the manifest records of these options (no reviews, events or packs: the audit
    /// adds its own).
    pub fn manifest(
        &self,
        format: crate::write::table::Format,
    ) -> crate::write::manifest::Settings<'_> {
        crate::write::manifest::Settings {
            practices: self.practices.as_deref(),
            list_sizes: &self.list_sizes,
            exclude_patients: self.exclude_patients.as_deref(),
            format: format.extension(),
            date_format: self.date_format.as_deref(),
            practice_code: self.practice_code.as_deref(),
            patient_practices: self.patient_practices.as_deref(),
            code_map: self.code_map.as_deref(),
            dosages: self.dosages.as_deref(),
            reviews: None,
            events: None,
            practice_packs: &[],
        }
    }

    /// The settings: reference files read, ranges already checked by clap; what is left is
    /// how the options relate.
    pub fn settings(&self, as_of: Option<Day>) -> Result<Method> {
        let args = self;
        if args.max_days_supply < args.default_days {
            return Err(usage("--max-days-supply must be at least --default-days"));
        }
        let mut column_map = BTreeMap::new();
        for c in &args.columns {
            let Some((k, v)) = c.split_once('=') else {
                bail!(
                "--column {c}: write it as NAME=HEADER, e.g. --column patient_id=\"Patient Ref\""
            );
            };
            column_map.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
        let practice_code = match args.practice_code.as_deref().map(str::trim) {
            Some("") => {
                return Err(usage(
                    "--practice-code is empty: give the practice's ODS code",
                ))
            }
            Some(code) if crate::item::looks_like_nhs_number(code) => {
                return Err(crate::error::usage_hinted(
                    "--practice-code looks like an NHS number; the value is not shown",
                    "give the practice's ODS code, such as Y90001",
                ))
            }
            Some(code) => Some(code.to_string()),
            None => None,
        };
        let factors = crate::read::factors::load(&args.factors)?;
        let practices = args
            .practices
            .as_deref()
            .map(crate::read::reference::read_practices)
            .transpose()?;
        let mut practice_warnings = Vec::new();
        let mut config = AuditConfig {
            as_of,
            timeline: TimelineSettings {
                threshold_mg_day: args.threshold_mg_day,
                long_term_days: args.long_term_days,
                grace_days: f64::from(args.grace_days),
                // Within 1..=3660 (clap), so these cannot fail.
                dose_window_days: i32::try_from(args.dose_window_days)?,
                lookback_days: i32::try_from(args.lookback_days)?,
                stockpile: match args.stockpile {
                    StockpileArg::Carry => Stockpile::Carry,
                    StockpileArg::Concurrent => Stockpile::Concurrent,
                },
            },
            default_days: args.default_days,
            prn_policy: args.prn_policy.into(),
            factors,
            date_format: args.date_format.clone().map(DateFormat),
            strict: args.strict,
            suppress: args.suppress,
            excluded_patients: match &args.exclude_patients {
                Some(p) => crate::read::reference::read_exclusions(p)?,
                None => BTreeMap::new(),
            },
            practices: match practices {
                Some((map, warnings)) => {
                    practice_warnings = warnings;
                    Some(map)
                }
                None => None,
            },
            list_sizes: None,
            list_size_files: if args.list_sizes.is_empty() {
                None
            } else {
                Some(crate::read::reference::read_list_size_files(
                    &args.list_sizes,
                )?)
            },
            today: today(),
            include_dependence: args.include_dependence,
            max_days_supply: args.max_days_supply,
            previous_as_of: None,
            followup: crate::followup::FollowUpSettings::default(),
            reviews: BTreeMap::new(),
            medication_reviews: BTreeMap::new(),
        };
        // With the audit date given, its month's list sizes now; else once it is known.
        if let Some(day) = as_of {
            config.use_list_sizes_of(day);
        }
        Ok(Method {
            config,
            read_opts: ReadOptions {
                column_map,
                chunk_bytes: 0,
                practice_code,
                patient_practices: args
                    .patient_practices
                    .as_deref()
                    .map(crate::read::reference::read_patient_practices)
                    .transpose()?
                    .map(std::sync::Arc::new),
                code_map: args
                    .code_map
                    .as_deref()
                    .map(crate::read::reference::read_code_map)
                    .transpose()?
                    .map(std::sync::Arc::new),
                dosages: args
                    .dosages
                    .as_deref()
                    .map(crate::read::reference::read_dosages)
                    .transpose()?
                    .map(std::sync::Arc::new),
            },
            practice_warnings,
        })
    }
}
