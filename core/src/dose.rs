//! UK dose instructions: free-text directions to dose units per day (METHOD.md §4).
//!
//! "1-2 QDS PRN", "TAKE ONE TWICE A DAY", "apply one patch every 72 hours",
//! "5-10ml up to four times a day max 40ml in 24 hours". The parser reads a direction as one or
//! more *steps* (split at "then", "reducing to", "increased to"...), each with doses (a number
//! or range and a unit), a frequency (times a day, Latin shorthand, times of day, every N
//! hours), an interval (every N days, weekly, monthly) and optional caps ("max 8 in 24 hours").
//!
//! - `daily_min = dose_min × freq_min / interval_max`, `daily_max = dose_max × freq_max /
//!   interval_min`;
//! - "up to N times a day" and "max N times a day" are a frequency of 0..N;
//! - "max N in 24 hours" caps `units_max` (and `units_min`) at N;
//! - PRN without "up to" keeps the stated frequency;
//! - several steps: the span of all steps, status `partial`;
//! - no dose or no frequency: no daily values, and the status says why.
//!
//! The parser is pure and total: any string gives an answer, never a panic, and
//! `units_min <= units_max` whenever both are set.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

mod step;
use step::*;

mod lex;
pub(crate) use lex::number_word;
use lex::*;

/// How far a text was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DoseStatus {
    /// Dose and frequency read; daily values set.
    Parsed,
    /// Several steps (a taper) or only a maximum: values set but not a single regimen.
    Partial,
    /// "as directed" with no frequency: no daily values.
    AsDirected,
    /// No dose or no frequency, or nothing recognisable: no daily values.
    Unparsed,
}

impl DoseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DoseStatus::Parsed => "parsed",
            DoseStatus::Partial => "partial",
            DoseStatus::AsDirected => "as_directed",
            DoseStatus::Unparsed => "unparsed",
        }
    }
}

impl fmt::Display for DoseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a dose instruction says.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseParse {
    /// Fewest dose units per day (0 when "up to").
    pub units_min: Option<f64>,
    /// Most dose units per day.
    pub units_max: Option<f64>,
    /// The dose unit as written (tablet, capsule, ml, mg, microgram, g, patch, puff, dose,
    /// sachet, spray, drop, lozenge, unit, suppository, capful...), `None` when only a number
    /// is given ("1 bd": one of whatever the product is).
    pub unit: Option<String>,
    /// Units taken at once (the first step's dose): for patches, the number worn at once.
    pub dose_min: Option<f64>,
    pub dose_max: Option<f64>,
    /// "when required", "prn", "as needed"...
    pub prn: bool,
    pub status: DoseStatus,
    /// Why the status is not `parsed`.
    pub why: Option<String>,
    /// Patches of two strengths worn together ("a 50mcg and a 25mcg patch together"): the
    /// dose counts every patch worn at once, but an item is one of the strengths.
    pub patches_of_two_strengths: bool,
}

impl DoseParse {
    /// A direction that gives no daily amount, with why.
    pub fn unparsed(why: &str) -> DoseParse {
        DoseParse {
            units_min: None,
            units_max: None,
            unit: None,
            dose_min: None,
            dose_max: None,
            prn: false,
            status: DoseStatus::Unparsed,
            why: Some(why.to_string()),
            patches_of_two_strengths: false,
        }
    }
}

/// Parse one dose instruction.
pub fn parse(text: &str) -> DoseParse {
    let (text, rewrites) = rewrite(text);
    let mut d = parse_rewritten(&text);
    if let (Some(n), Some(hi)) = (rewrites.extra_as_needed, d.units_max) {
        // The regular dose, and as many again as needed on top.
        d.units_max = Some(hi + n);
        d.prn = true;
    }
    if rewrites.patches_of_two_strengths {
        d.patches_of_two_strengths = true;
        d.unit = Some("patch".into());
    }
    d
}

fn parse_rewritten(text: &str) -> DoseParse {
    let toks = tokenize(text);
    if toks.is_empty() {
        return DoseParse::unparsed("empty");
    }
    let steps: Vec<Step> = split_steps(&toks).into_iter().map(parse_step).collect();
    let prn = steps.iter().any(|s| s.prn);
    let as_directed = steps.iter().any(|s| s.as_directed);
    let cap = steps.iter().filter_map(|s| s.cap).reduce(f64::min);

    // Steps inherit a missing dose or frequency from the step before ("1 bd then tds").
    let mut results: Vec<(Range, Option<&'static str>, Range)> = Vec::new();
    let mut first_why: Option<&'static str> = None;
    let mut previous: Option<Step> = None;
    for step in &steps {
        let mut s = step.clone();
        if let Some(prev) = &previous {
            let has_freq =
                s.freq.is_some() || !s.times_of_day.is_empty() || s.interval_days.is_some();
            if !s.doses.is_empty() && !has_freq {
                s.freq = prev.freq;
                s.times_of_day = prev
                    .times_of_day
                    .iter()
                    .map(|(n, _)| (*n, usize::MAX - 1))
                    .collect();
                s.interval_days = prev.interval_days;
            }
            if s.doses.is_empty() && has_freq {
                if let Some(d) = prev.doses.first() {
                    s.doses.push((d.0, d.1, 0));
                }
            }
        }
        // No opioid patch is worn longer than 7 days: "replace every fortnight" names no
        // amount of one.
        let patch_interval = s.interval_days.is_none_or(|i| i.max <= 7.0);
        if s.doses.is_empty()
            && s.implied_patch
            && patch_interval
            && (s.freq.is_some() || s.interval_days.is_some())
        {
            // "change twice a week", "replace every 72 hours": one patch at a time.
            s.doses.push((Range::one(1.0), Some("patch"), 0));
        }
        match step_daily(&s) {
            Ok(r) => results.push(r),
            Err(why) => {
                first_why.get_or_insert(why);
            }
        }
        previous = Some(s);
    }

    if results.is_empty() {
        let why = first_why.unwrap_or("not understood");
        let dose = steps.iter().find_map(|s| s.doses.first().copied());
        let mut out = DoseParse::unparsed(why);
        out.prn = prn;
        out.unit = dose.and_then(|d| d.1).map(str::to_string);
        out.dose_min = dose.map(|d| d.0.min);
        out.dose_max = dose.map(|d| d.0.max);
        if as_directed {
            out.status = DoseStatus::AsDirected;
            out.why = Some(format!("as directed ({why})"));
        } else if let (Some(c), "no dose") = (cap, why) {
            // "take morning, noon and night, max 8 in 24h": only the maximum is known.
            out.units_max = Some(c);
            out.status = DoseStatus::Partial;
            out.why = Some("no dose; maximum only".into());
        } else if let (Some(c), "no frequency", Some(d)) = (cap, why, dose) {
            // "1-2 when required, max 8 in 24 hours": a maximum without a minimum. As
            // needed, none at all is within the directions; otherwise at least one dose.
            out.units_min = Some(if prn { 0.0 } else { d.0.min.min(c) });
            out.units_max = Some(c);
            out.status = DoseStatus::Partial;
            out.why = Some("no frequency; maximum only".into());
        }
        return out;
    }

    let mut min = results
        .iter()
        .map(|r| r.0.min)
        .fold(f64::INFINITY, f64::min);
    let mut max = results
        .iter()
        .map(|r| r.0.max)
        .fold(f64::NEG_INFINITY, f64::max);
    if let Some(c) = cap {
        max = max.min(c);
        min = min.min(max);
    }
    let unit = results.iter().find_map(|r| r.1).map(str::to_string);
    let (status, why) = if results.len() > 1 || steps.len() > 1 {
        (
            DoseStatus::Partial,
            Some("several steps: the span of all of them".to_string()),
        )
    } else {
        (DoseStatus::Parsed, None)
    };
    let clean = |v: f64| {
        if v.is_finite() {
            Some(v.max(0.0))
        } else {
            None
        }
    };
    let (units_min, units_max) = match (clean(min), clean(max)) {
        (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
        _ => (None, None),
    };
    if units_min.is_none() {
        return DoseParse::unparsed("not understood");
    }
    DoseParse {
        units_min,
        units_max,
        unit,
        dose_min: Some(results[0].2.min),
        dose_max: Some(results[0].2.max),
        prn,
        status,
        why,
        patches_of_two_strengths: false,
    }
}

/// Parses each distinct text once: real extracts repeat a few thousand distinct directions
/// across millions of rows.
#[derive(Debug, Default)]
pub struct DoseCache {
    parsed: HashMap<String, DoseParse>,
}

impl DoseCache {
    pub fn new() -> DoseCache {
        DoseCache::default()
    }

    pub fn get(&mut self, text: &str) -> &DoseParse {
        if !self.parsed.contains_key(text) {
            self.parsed.insert(text.to_string(), parse(text));
        }
        &self.parsed[text]
    }

    /// How many distinct texts were parsed.
    pub fn len(&self) -> usize {
        self.parsed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parsed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, min: Option<f64>, max: Option<f64>) {
        let p = parse(text);
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => (x - y).abs() < 0.001,
            (None, None) => true,
            _ => false,
        };
        assert!(
            close(p.units_min, min) && close(p.units_max, max),
            "{text:?}: got {:?}..{:?} ({:?} {:?}), want {min:?}..{max:?}",
            p.units_min,
            p.units_max,
            p.status,
            p.why
        );
    }

    #[test]
    fn tokenizer() {
        assert_eq!(
            tokenize("take 10mls q.d.s. p.r.n."),
            vec![
                Tok::Word("take".into()),
                Tok::Num(10.0),
                Tok::Word("mls".into()),
                Tok::Word("qds".into()),
                Tok::Punct('.'),
                Tok::Word("prn".into()),
                Tok::Punct('.'),
            ]
        );
        assert_eq!(tokenize("twenty eight")[0], Tok::Num(28.0));
        assert_eq!(tokenize("one and a half")[0], Tok::Num(1.5));
        assert_eq!(tokenize("1 1/2 tabs")[0], Tok::Num(1.5));
    }

    /// Issue 12.5: a maximum without a frequency. As needed, none a day is within the
    /// directions, so 0..8; under the `max` PRN policy 8 a day.
    #[test]
    fn a_maximum_without_a_minimum() {
        for text in [
            "1-2 when required, max 8 in 24 hours",
            "one or two when needed maximum 8 in 24 hours",
            "1-2 prn max 8/24h",
        ] {
            let d = parse(text);
            assert_eq!(
                (d.units_min, d.units_max),
                (Some(0.0), Some(8.0)),
                "{text}: {d:?}"
            );
            assert!(d.prn, "{text}");
            assert_eq!(d.status, DoseStatus::Partial, "{text}");
        }
        // Not as needed: at least the one dose.
        let d = parse("2 tablets, max 8 in 24 hours");
        assert_eq!((d.units_min, d.units_max), (Some(2.0), Some(8.0)), "{d:?}");
    }

    #[test]
    fn basics() {
        check("1 bd", Some(2.0), Some(2.0));
        check("1-2 qds prn", Some(4.0), Some(8.0));
        check(
            "apply one patch every 72 hours",
            Some(1.0 / 3.0),
            Some(1.0 / 3.0),
        );
        check(
            "5-10ml up to four times a day max 40ml in 24 hours",
            Some(0.0),
            Some(40.0),
        );
        check("", None, None);
        assert_eq!(parse("take as directed").status, DoseStatus::AsDirected);
    }
}
