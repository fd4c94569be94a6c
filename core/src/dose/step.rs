//! One step of a direction: its doses, frequency, interval, caps and as-needed words, read from
//! its tokens, and its dose units per day.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Range {
    pub(super) min: f64,
    pub(super) max: f64,
}

impl Range {
    pub(super) fn one(v: f64) -> Range {
        Range { min: v, max: v }
    }

    pub(super) fn new(a: f64, b: f64) -> Range {
        Range {
            min: a.min(b),
            max: a.max(b),
        }
    }

    pub(super) fn scale(self, k: f64) -> Range {
        Range::new(self.min * k, self.max * k)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Step {
    pub(super) doses: Vec<(Range, Option<&'static str>, usize)>,
    pub(super) times_of_day: Vec<(f64, usize)>,
    /// Administrations per day.
    pub(super) freq: Option<Range>,
    /// Days between administrations cycles ("every 3 days", "weekly").
    pub(super) interval_days: Option<Range>,
    /// "max N in 24 hours"
    pub(super) cap: Option<f64>,
    pub(super) prn: bool,
    pub(super) as_directed: bool,
    pub(super) implied_patch: bool,
}

pub(super) fn word(toks: &[Tok], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some(Tok::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

pub(super) fn num(toks: &[Tok], i: usize) -> Option<f64> {
    match toks.get(i) {
        Some(Tok::Num(v)) => Some(*v),
        _ => None,
    }
}

pub(super) fn is_punct(toks: &[Tok], i: usize, c: char) -> bool {
    matches!(toks.get(i), Some(Tok::Punct(p)) if *p == c)
}

/// A number or a range "1-2", "1 to 2", "1 or 2"; returns the range and the next index.
pub(super) fn num_range(toks: &[Tok], i: usize) -> Option<(Range, usize)> {
    let a = num(toks, i)?;
    let joined = is_punct(toks, i + 1, '-')
        || matches!(word(toks, i + 1), Some("to" | "or"))
        || is_punct(toks, i + 1, '/') && num(toks, i + 2).is_some_and(|b| b > a);
    if joined {
        if let Some(b) = num(toks, i + 2) {
            // "1 or 2 4 times": "or" joins; "take 1 to be taken": no number after "to".
            return Some((Range::new(a, b), i + 3));
        }
    }
    Some((Range::one(a), i + 1))
}

/// A shorthand or once/twice word, optionally a range "once or twice", "bid-tid".
pub(super) fn shorthand_range(toks: &[Tok], i: usize) -> Option<(Range, usize)> {
    let a = shorthand(word(toks, i)?)?;
    let joined = is_punct(toks, i + 1, '-') || matches!(word(toks, i + 1), Some("or" | "to"));
    if joined {
        if let Some(b) = word(toks, i + 2).and_then(shorthand) {
            return Some((Range::new(a, b), i + 3));
        }
    }
    Some((Range::one(a), i + 1))
}

/// After a frequency count: "a day", "daily", "per day", "/day", "in 24 hours", "a week"...
/// Returns (days in the period, next index).
pub(super) fn period(toks: &[Tok], mut i: usize) -> Option<(f64, usize)> {
    let start = i;
    while matches!(
        word(toks, i),
        Some("a" | "per" | "each" | "every" | "in" | "an" | "the")
    ) || is_punct(toks, i, '/')
    {
        i += 1;
    }
    if let Some(h) = num(toks, i) {
        if matches!(
            word(toks, i + 1),
            Some("hours" | "hour" | "hrs" | "hr" | "h")
        ) {
            return Some((h / 24.0, i + 2));
        }
    }
    let days = match word(toks, i)? {
        "day" | "days" | "daily" | "d" | "diem" => 1.0,
        "week" | "weekly" | "wk" | "wks" | "weeks" => 7.0,
        "fortnight" | "fortnightly" => 14.0,
        "month" | "monthly" | "months" => 30.0,
        "hour" | "hr" | "h" => 1.0 / 24.0,
        _ => {
            let _ = start;
            return None;
        }
    };
    Some((days, i + 1))
}

pub(super) const TAPER_WORDS: &[&[&str]] = &[
    &["then"],
    &["reducing", "to"],
    &["reduce", "to"],
    &["reduced", "to"],
    &["reduce", "down", "to"],
    &["reducing", "down", "to"],
    &["increased", "to"],
    &["increasing", "to"],
    &["increase", "to"],
    &["increase", "up", "to"],
    &["building", "gradually", "to"],
    &["building", "up", "to"],
    &["build", "up", "to"],
    &["followed", "by"],
];

pub(super) fn split_steps(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut steps = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < toks.len() {
        let matched = TAPER_WORDS.iter().find(|phrase| {
            phrase
                .iter()
                .enumerate()
                .all(|(k, w)| word(toks, i + k) == Some(*w))
        });
        if let Some(phrase) = matched {
            steps.push(&toks[start..i]);
            i += phrase.len();
            start = i;
        } else {
            i += 1;
        }
    }
    steps.push(&toks[start..]);
    steps.into_iter().filter(|s| !s.is_empty()).collect()
}

pub(super) const PRN_PHRASES: &[&[&str]] = &[
    &["prn"],
    &["when", "required"],
    &["as", "required"],
    &["if", "required"],
    &["when", "needed"],
    &["as", "needed"],
    &["if", "needed"],
    &["when", "necessary"],
    &["as", "necessary"],
    &["if", "necessary"],
    &["when", "reqd"],
    &["as", "reqd"],
    &["as", "req"],
    &["when", "req"],
    &["as", "and", "when"],
    &["pain", "relief"],
];

pub(super) const AS_DIRECTED: &[&[&str]] = &[
    &["as", "directed"],
    &["as", "dir"],
    &["ud"],
    &["as", "instructed"],
    &["as", "advised"],
    &["as", "per", "instructions"],
    &["as", "prescribed"],
];

pub(super) fn phrase_at(toks: &[Tok], i: usize, phrases: &[&[&str]]) -> Option<usize> {
    phrases
        .iter()
        .find(|p| {
            p.iter()
                .enumerate()
                .all(|(k, w)| word(toks, i + k) == Some(*w))
        })
        .map(|p| p.len())
}

/// Cap: "max 8 in 24 hours", "maximum of 8 tablets a day", "not more than 40ml in 24 hours".
pub(super) fn cap_at(toks: &[Tok], i: usize) -> Option<(f64, usize)> {
    let mut j = match (word(toks, i), word(toks, i + 1), word(toks, i + 2)) {
        (Some("max" | "maximum" | "mx"), _, _) => i + 1,
        (Some("not" | "no"), Some("more"), Some("than")) => i + 3,
        (Some("up"), Some("to"), _) => i + 2,
        (Some("not"), Some("to"), Some("exceed")) => i + 3,
        _ => return None,
    };
    if is_punct(toks, j, '.') || is_punct(toks, j, ':') {
        j += 1;
    }
    while matches!(word(toks, j), Some("of" | "dose" | "daily" | "total")) {
        j += 1;
    }
    let n = num(toks, j)?;
    j += 1;
    while word(toks, j).is_some_and(|w| unit_word(w).is_some() || w == "doses") {
        j += 1;
    }
    if matches!(word(toks, j), Some("times" | "time" | "x")) {
        return None; // a frequency, not a cap
    }
    let (days, next) = period(toks, j).or_else(|| {
        // "max 8 in twenty four hours" reads as number words already; "in any 24 hours".
        if word(toks, j) == Some("in") && word(toks, j + 1) == Some("any") {
            period(toks, j + 2)
        } else {
            None
        }
    })?;
    if (days - 1.0).abs() > 1e-9 {
        return None;
    }
    Some((n, next))
}

/// "up to 4 times a day", "max 4 times daily": a frequency of 0..N.
pub(super) fn up_to_freq_at(toks: &[Tok], i: usize) -> Option<(Range, f64, usize)> {
    let j = match (word(toks, i), word(toks, i + 1)) {
        (Some("up"), Some("to")) => i + 2,
        (Some("max" | "maximum"), _) => i + 1,
        _ => return None,
    };
    let (r, j) = num_range(toks, j).or_else(|| shorthand_range(toks, j))?;
    let j = if matches!(word(toks, j), Some("times" | "time" | "x")) {
        j + 1
    } else if matches!(word(toks, j - 1), Some("once" | "twice" | "thrice")) {
        j
    } else {
        return None;
    };
    let (days, next) = period(toks, j).unwrap_or((1.0, j));
    Some((Range::new(0.0, r.max), days, next))
}

/// "4 times a day", "2-3 times daily", "3x a day", "5 times a week".
pub(super) fn freq_at(toks: &[Tok], i: usize) -> Option<(Range, f64, usize)> {
    let (r, j) = num_range(toks, i)?;
    let times = match word(toks, j) {
        Some("times" | "time") => true,
        // "3x a day", but not "2x5ml" or "1 x 200 dose" (amounts).
        Some("x") => num(toks, j + 1).is_none(),
        _ => false,
    };
    if !times {
        return None;
    }
    let (days, next) = period(toks, j + 1).unwrap_or((1.0, j + 1));
    Some((r, days, next))
}

/// "every 4-6 hours", "every 72 hours", "every 3 days", "every other day", "every week",
/// "every night", "every morning", "each day".
pub(super) fn every_at(step: &mut Step, toks: &[Tok], i: usize) -> Option<usize> {
    if !matches!(word(toks, i), Some("every" | "each" | "evry" | "q")) {
        return None;
    }
    let mut j = i + 1;
    let ordinal = match word(toks, j) {
        Some("other" | "alternate" | "second") => Some(2.0),
        Some("third") => Some(3.0),
        Some("fourth") => Some(4.0),
        Some("seventh") => Some(7.0),
        _ => None,
    };
    if let Some(n) = ordinal {
        let (days, next) = period(toks, j + 1).unwrap_or((1.0, j + 1));
        step.interval_days.get_or_insert(Range::one(n * days));
        return Some(next);
    }
    let (r, after) = match num_range(toks, j) {
        Some(x) => x,
        None => (Range::one(1.0), j),
    };
    j = after;
    let unit = word(toks, j)?;
    match unit {
        "hours" | "hour" | "hrs" | "hr" | "h" | "hrly" | "hourly" => {
            if r.min <= 0.0 {
                return None;
            }
            step.freq = Some(Range::new(24.0 / r.max, 24.0 / r.min));
            Some(j + 1)
        }
        "minutes" | "mins" => None,
        "day" | "days" | "d" => {
            if r.min <= 0.0 {
                return None;
            }
            if r.max == 1.0 {
                step.freq.get_or_insert(Range::one(1.0));
            } else {
                set_interval(&mut step.interval_days, r);
            }
            Some(j + 1)
        }
        "week" | "weeks" | "wk" | "wks" => {
            if r.min <= 0.0 {
                return None;
            }
            set_interval(&mut step.interval_days, r.scale(7.0));
            Some(j + 1)
        }
        "fortnight" | "fortnights" => {
            set_interval(&mut step.interval_days, r.scale(14.0));
            Some(j + 1)
        }
        "month" | "months" => {
            if r.min <= 0.0 {
                return None;
            }
            set_interval(&mut step.interval_days, r.scale(30.0));
            Some(j + 1)
        }
        w if is_weekday(w) => {
            set_interval(&mut step.interval_days, Range::one(7.0));
            Some(j + 1)
        }
        w => {
            let n = time_of_day(w)?;
            step.times_of_day.push((n, i));
            Some(j + 1)
        }
    }
}

/// The first interval stated in a step wins: "twice weekly (every 3-4 days)" is twice weekly.
pub(super) fn set_interval(slot: &mut Option<Range>, r: Range) {
    slot.get_or_insert(r);
}

pub(super) fn parse_step(toks: &[Tok]) -> Step {
    let mut step = Step::default();
    let mut i = 0;
    while i < toks.len() {
        if let Some(n) = phrase_at(toks, i, PRN_PHRASES) {
            step.prn = true;
            i += n;
            continue;
        }
        if let Some(n) = phrase_at(toks, i, AS_DIRECTED) {
            step.as_directed = true;
            i += n;
            continue;
        }
        if let Some((n, next)) = cap_at(toks, i) {
            step.cap = Some(step.cap.map_or(n, |c: f64| c.min(n)));
            i = next;
            continue;
        }
        if let Some((r, days, next)) = up_to_freq_at(toks, i) {
            step.freq.get_or_insert(r);
            if days > 1.0 {
                set_interval(&mut step.interval_days, Range::one(days));
            }
            i = next;
            continue;
        }
        if let Some((r, days, next)) = freq_at(toks, i) {
            if days < 1.0 {
                // "2 times in 12 hours"
                step.freq.get_or_insert(r.scale(1.0 / days));
            } else {
                step.freq.get_or_insert(r);
                if days > 1.0 {
                    set_interval(&mut step.interval_days, Range::one(days));
                }
            }
            i = next;
            continue;
        }
        if let Some(next) = every_at(&mut step, toks, i) {
            i = next;
            continue;
        }
        // "q4h", "q 4 h", "q4-6h"
        if word(toks, i) == Some("q") {
            if let Some((r, j)) = num_range(toks, i + 1) {
                if matches!(word(toks, j), Some("h" | "hr" | "hrs" | "hourly")) && r.min > 0.0 {
                    step.freq = Some(Range::new(24.0 / r.max, 24.0 / r.min));
                    i = j + 1;
                    continue;
                }
            }
        }
        // "4 hrly", "6-8 hourly", "4 hourly"
        if let Some((r, j)) = num_range(toks, i) {
            if matches!(word(toks, j), Some("hrly" | "hourly" | "hly")) && r.min > 0.0 {
                step.freq = Some(Range::new(24.0 / r.max, 24.0 / r.min));
                i = j + 1;
                continue;
            }
        }
        // Durations: "for 3 weeks", "for 7 nights", "for one week", "x 5 days".
        if let Some(prefix) =
            word(toks, i).filter(|w| matches!(*w, "for" | "over" | "after" | "in" | "within" | "x"))
        {
            if let Some((_, j)) = num_range(toks, i + 1) {
                let long = matches!(
                    word(toks, j),
                    Some(
                        "day"
                            | "days"
                            | "week"
                            | "weeks"
                            | "night"
                            | "nights"
                            | "month"
                            | "months"
                            | "wk"
                            | "wks"
                            | "year"
                            | "years"
                    )
                );
                let short = matches!(prefix, "for" | "over")
                    && matches!(word(toks, j), Some("doses" | "hours"));
                if long || short {
                    i = j + 1;
                    continue;
                }
            }
        }
        if let Some(w) = word(toks, i) {
            if let Some((r, next)) = shorthand_range(toks, i) {
                // "once or twice a day", "twice weekly", "bd", "daily"
                let (days, after) = period(toks, next).unwrap_or((1.0, next));
                let r = if w == "daily" { Range::one(1.0) } else { r };
                // "daily 2 caps", "75mg daily": "daily" alone is once a day.
                if step.freq.is_none() || w != "daily" {
                    step.freq = Some(if days < 1.0 { r.scale(1.0 / days) } else { r });
                }
                if days > 1.0 {
                    set_interval(&mut step.interval_days, Range::one(days));
                }
                i = after;
                continue;
            }
            match w {
                "weekly" | "fortnightly" | "monthly" => {
                    set_interval(
                        &mut step.interval_days,
                        Range::one(match w {
                            "weekly" => 7.0,
                            "fortnightly" => 14.0,
                            _ => 30.0,
                        }),
                    );
                    i += 1;
                    continue;
                }
                "hourly" => {
                    step.freq = Some(Range::one(24.0));
                    i += 1;
                    continue;
                }
                "on" => {
                    // "on mondays" is weekly; "1 on" (omni nocte) is at night.
                    if word(toks, i + 1).is_some_and(is_weekday) {
                        set_interval(&mut step.interval_days, Range::one(7.0));
                        i += 2;
                        continue;
                    }
                    let ends = i + 1 >= toks.len()
                        || matches!(toks.get(i + 1), Some(Tok::Punct(_)))
                        || matches!(word(toks, i + 1), Some("prn" | "when" | "as" | "for"));
                    if ends && i > 0 {
                        step.times_of_day.push((1.0, i));
                    }
                    i += 1;
                    continue;
                }
                "change" | "changed" | "replace" | "replaced" | "patch" | "patches" => {
                    step.implied_patch = true;
                }
                _ => {}
            }
            if is_weekday(w) && step.interval_days.is_none() {
                set_interval(&mut step.interval_days, Range::one(7.0));
                i += 1;
                continue;
            }
            if let Some(n) = time_of_day(w) {
                // "night time" counts once; "morning and night" twice.
                let already = step.times_of_day.last().is_some_and(|(_, p)| {
                    *p + 1 == i
                        && time_of_day(word(toks, *p).unwrap_or("")).is_some()
                        && w == "time"
                });
                if !already {
                    step.times_of_day.push((n, i));
                }
                i += 1;
                continue;
            }
        }
        // Doses: "2", "1-2", "1 or 2", "2.5ml", "2x5ml", "2 - 3 5 ml spoonfuls".
        if let Some((r, mut j)) = num_range(toks, i) {
            let mut r = r;
            let mut unit: Option<&'static str> = None;
            // "2 x 5ml", "2x5ml"
            if word(toks, j) == Some("x") {
                if let Some(m) = num(toks, j + 1) {
                    if let Some(u) = word(toks, j + 2).and_then(unit_word) {
                        r = r.scale(m);
                        unit = Some(u);
                        j += 3;
                    }
                }
            } else if let Some(m) = num(toks, j) {
                // "2 - 3 5 ml spoonfuls", "1 5 ml spoonful"
                if word(toks, j + 1).and_then(unit_word) == Some("ml")
                    && word(toks, j + 2).is_some_and(is_spoon)
                {
                    r = r.scale(m);
                    unit = Some("ml");
                    j += 3;
                }
            }
            if unit.is_none() {
                if let Some(u) = word(toks, j).and_then(unit_word) {
                    unit = Some(u);
                    j += 1;
                    // "2.5ml-5ml", "5mg to 10mg": a range written with the unit twice.
                    let joined =
                        is_punct(toks, j, '-') || matches!(word(toks, j), Some("to" | "or"));
                    if joined && word(toks, j + 2).and_then(unit_word) == Some(u) {
                        if let Some(b) = num(toks, j + 1) {
                            r = Range::new(r.min.min(b), r.max.max(b));
                            j += 3;
                        }
                    }
                    // "5ml spoonful": the ml is the dose.
                    if u == "ml" && word(toks, j).is_some_and(is_spoon) {
                        j += 1;
                    } else if u == "spoonful" {
                        r = r.scale(5.0);
                        unit = Some("ml");
                    }
                }
            }
            step.doses.push((r, unit, i));
            i = j;
            continue;
        }
        i += 1;
    }
    step
}

/// Dose units per day of one step: (range, unit, dose) or why not.
pub(super) fn step_daily(
    step: &Step,
) -> Result<(Range, Option<&'static str>, Range), &'static str> {
    let Some(&(first, unit, _)) = step.doses.first() else {
        return Err("no dose");
    };
    let interval = step.interval_days.unwrap_or(Range::one(1.0));
    let per_cycle: Range = if let Some(f) = step.freq {
        Range::new(first.min * f.min, first.max * f.max)
    } else if !step.times_of_day.is_empty() {
        // Pair each dose with the times of day that follow it: "one in the morning and two
        // at night" is 1 + 2.
        let mut total = Range::one(0.0);
        let mut paired_any = false;
        for (k, &(d, _, pos)) in step.doses.iter().enumerate() {
            let next_pos = step.doses.get(k + 1).map_or(usize::MAX, |x| x.2);
            let count: f64 = step
                .times_of_day
                .iter()
                .filter(|(_, p)| *p > pos && *p < next_pos)
                .map(|(n, _)| n)
                .sum();
            if count > 0.0 {
                total = Range::new(total.min + d.min * count, total.max + d.max * count);
                paired_any = true;
            }
        }
        if !paired_any {
            // "at night take one": times before the dose.
            let count: f64 = step.times_of_day.iter().map(|(n, _)| n).sum();
            total = first.scale(count);
        }
        total
    } else if step.interval_days.is_some() {
        first
    } else {
        return Err("no frequency");
    };
    if interval.min <= 0.0 {
        return Err("no frequency");
    }
    let daily = Range::new(per_cycle.min / interval.max, per_cycle.max / interval.min);
    Ok((daily, unit, first))
}
