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

/// What [`rewrite`] took out of a text before the steps are read.
#[derive(Debug, Clone, Copy, Default)]
struct Rewrites {
    /// "and up to two more when needed": as-needed units on top of the regular dose.
    extra_as_needed: Option<f64>,
    patches_of_two_strengths: bool,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")))
}

const NUMBER: &str = r"(\d+(?:\.\d+)?|one|two|three|four|five|six|a|an)";

/// Phrasings read by rewriting them into ones the step reader knows (issue 12.12):
/// - "2 / day", "2/day", "two a day", "one per day": N daily;
/// - "1 x2 daily", "one x 3 a day": a dose, then N times;
/// - "one in the morning and up to two more when needed": the regular dose, and up to N more;
/// - "apply a 50mcg and a 25mcg patch together": two patches at once, of two strengths.
fn rewrite(text: &str) -> (String, Rewrites) {
    static PER_DAY: OnceLock<Regex> = OnceLock::new();
    static TIMES: OnceLock<Regex> = OnceLock::new();
    static MORE: OnceLock<Regex> = OnceLock::new();
    static TWO_PATCHES: OnceLock<Regex> = OnceLock::new();
    static UP_TO_DOSE: OnceLock<Regex> = OnceLock::new();
    let mut out = Rewrites::default();
    let mut t = text.to_lowercase();
    let two = re(
        &TWO_PATCHES,
        r"\b(?:a|one|1)\s*\d+(?:\.\d+)?\s*(?:mcg|micrograms?|microgram)(?:\s*/\s*(?:hr|hour|h))?(?:\s+patch)?\s+and\s+(?:a|one|1)\s*\d+(?:\.\d+)?\s*(?:mcg|micrograms?|microgram)(?:\s*/\s*(?:hr|hour|h))?\s+patch(?:es)?(?:\s+together)?",
    );
    if two.is_match(&t) {
        t = two.replace(&t, "2 patches").into_owned();
        out.patches_of_two_strengths = true;
    }
    let more = re(
        &MORE,
        &format!(
            r"\s*(?:,|and|\+|plus)\s+(?:(?:up to|upto)\s+)?{NUMBER}(?:\s*(?:to|-|or)\s*{NUMBER})?\s+(?:more|extra|further|additional)\s*(?:tablets?|capsules?|doses?)?\s*(?:when|if|as)\s+(?:needed|required|necessary)"
        ),
    );
    if let Some(c) = more.captures(&t) {
        let most = c.get(2).or(c.get(1)).map_or("", |m| m.as_str());
        let n = match most {
            "a" | "an" => Some(1.0),
            w => w.parse::<f64>().ok().or_else(|| number_word(w)),
        };
        if let Some(n) = n {
            out.extra_as_needed = Some(n);
            t = more.replace(&t, "").into_owned();
        }
    }
    // "up to two tablets four times a day": a dose of one to two, not "up to N times".
    let up_to_dose = re(
        &UP_TO_DOSE,
        r"\bup\s*to\s+(\d+|two|three|four)\s+(tablets?|capsules?|caps?|tabs?|puffs?|sachets?|sprays?|patches|ml|mls|[a-z]+)\b",
    );
    t = up_to_dose
        .replace_all(&t, |c: &regex::Captures| {
            let next = &c[2];
            let frequency_follows = matches!(
                next,
                "times" | "time" | "x" | "a" | "per" | "daily" | "hourly" | "hours" | "hrs"
            ) || next.starts_with("every");
            if frequency_follows {
                c[0].to_string()
            } else {
                format!("1-{} {next}", &c[1])
            }
        })
        .into_owned();
    let times = re(
        &TIMES,
        r"(\d|\b(?:one|two|half|tablets?|capsules?|caps|tabs?))\s+x\s?(\d+)\s+(daily|a day|per day|/\s*day|times|day)",
    );
    t = times.replace_all(&t, "$1 $2 times $3").into_owned();
    let per_day = re(
        &PER_DAY,
        r"(^|[^a-z])(\d+(?:\.\d+)?|one|two|three|four|five|six|tablets?|capsules?|caps|tabs?|ml|mg)\s*(?:/\s*|\bper\s+|\ba\s+)day\b",
    );
    t = per_day.replace_all(&t, "$1$2 daily").into_owned();
    (t, out)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Word(String),
    Punct(char),
}

/// A number written as a word ("one", "half", "twenty"), as directions and names write them.
pub(crate) fn number_word(w: &str) -> Option<f64> {
    Some(match w {
        "zero" | "nil" => 0.0,
        "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "eleven" => 11.0,
        "twelve" => 12.0,
        "fourteen" => 14.0,
        "fifteen" => 15.0,
        "sixteen" => 16.0,
        "twenty" => 20.0,
        "thirty" => 30.0,
        "forty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "seventy" => 70.0,
        "eighty" => 80.0,
        "ninety" => 90.0,
        "hundred" => 100.0,
        "half" => 0.5,
        "quarter" => 0.25,
        "single" => 1.0,
        _ => return None,
    })
}

/// Split a text into numbers, words and punctuation; number words become numbers.
fn tokenize(text: &str) -> Vec<Tok> {
    let lower = text
        .to_lowercase()
        .replace('½', " 0.5 ")
        .replace('¼', " 0.25 ");
    let chars: Vec<char> = lower.chars().collect();
    let mut raw: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            let mut seen_dot = false;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (chars[i] == '.'
                        && !seen_dot
                        && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                if chars[i] == '.' {
                    seen_dot = true;
                }
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => raw.push(Tok::Num(v)),
                _ => {}
            }
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            // Dotted abbreviations: q.d.s. p.r.n. b.d.
            let mut word: String = chars[start..i].iter().collect();
            while i + 1 < chars.len()
                && chars[i] == '.'
                && chars[i + 1].is_alphabetic()
                && word.chars().count() <= 3
                && (i + 2 >= chars.len() || !chars[i + 2].is_alphabetic() || word.len() == 1)
            {
                word.push(chars[i + 1]);
                i += 2;
            }
            // A unit glued to the frequency: "2puffsbd", "2tabsqds".
            let glued = ["bd", "tds", "qds", "od", "nocte", "mane"]
                .iter()
                .find_map(|f| {
                    let unit = word.strip_suffix(f)?;
                    unit_word(unit).map(|_| (unit.to_string(), f.to_string()))
                });
            match glued {
                Some((unit, freq)) => {
                    raw.push(Tok::Word(unit));
                    raw.push(Tok::Word(freq));
                }
                None => raw.push(Tok::Word(word)),
            }
        } else if c.is_whitespace() {
            i += 1;
        } else {
            let p = match c {
                '–' | '—' => '-',
                other => other,
            };
            raw.push(Tok::Punct(p));
            i += 1;
        }
    }
    // Fractions 1/2, 1/4, 3/4 and "1 1/2".
    let mut toks: Vec<Tok> = Vec::new();
    let mut j = 0;
    while j < raw.len() {
        if let (Some(Tok::Num(a)), Some(Tok::Punct('/')), Some(Tok::Num(b))) =
            (raw.get(j), raw.get(j + 1), raw.get(j + 2))
        {
            if *b >= 2.0 && *b <= 4.0 && *a < *b && a.fract() == 0.0 {
                let frac = a / b;
                if let Some(Tok::Num(whole)) = toks.last_mut() {
                    *whole += frac;
                } else {
                    toks.push(Tok::Num(frac));
                }
                j += 3;
                continue;
            }
        }
        toks.push(raw[j].clone());
        j += 1;
    }
    // Number words: "twenty eight" = 28, "two and a half" = 2.5, "a half" = 0.5.
    let mut out: Vec<Tok> = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        let word_num = |t: &Tok| match t {
            Tok::Word(w) => number_word(w),
            _ => None,
        };
        if let Some(v) = word_num(&toks[k]) {
            let mut value = v;
            let mut next = k + 1;
            if (20.0..=90.0).contains(&v) && v % 10.0 == 0.0 {
                if let Some(u) = toks.get(next).and_then(word_num) {
                    if (1.0..=9.0).contains(&u) {
                        value += u;
                        next += 1;
                    }
                }
            }
            // "and a half"
            if matches!(toks.get(next), Some(Tok::Word(w)) if w == "and")
                && matches!(toks.get(next + 1), Some(Tok::Word(w)) if w == "a")
                && matches!(toks.get(next + 2), Some(Tok::Word(w)) if w == "half")
            {
                value += 0.5;
                next += 3;
            }
            // "a half" written before: handled by "half" alone.
            out.push(Tok::Num(value));
            k = next;
            continue;
        }
        // "1 and a half"
        if let Tok::Num(v) = toks[k] {
            if matches!(toks.get(k + 1), Some(Tok::Word(w)) if w == "and")
                && matches!(toks.get(k + 2), Some(Tok::Word(w)) if w == "a")
                && matches!(toks.get(k + 3), Some(Tok::Word(w)) if w == "half")
            {
                out.push(Tok::Num(v + 0.5));
                k += 4;
                continue;
            }
        }
        out.push(toks[k].clone());
        k += 1;
    }
    out
}

/// Dose unit words, as the canonical unit.
fn unit_word(w: &str) -> Option<&'static str> {
    Some(match w {
        "tablet" | "tablets" | "tab" | "tabs" | "tabl" | "caplet" | "caplets" | "tablt" => "tablet",
        "capsule" | "capsules" | "cap" | "caps" => "capsule",
        "ml" | "mls" | "millilitre" | "millilitres" | "milliliter" | "milliliters"
        | "mililitres" | "mililitre" => "ml",
        "mg" | "mgs" | "milligram" | "milligrams" => "mg",
        "microgram" | "micrograms" | "mcg" | "mcgs" | "ug" => "microgram",
        "g" | "gram" | "grams" | "gm" | "gms" => "g",
        "patch" | "patches" => "patch",
        "puff" | "puffs" => "puff",
        "dose" | "doses" => "dose",
        "sachet" | "sachets" => "sachet",
        "spray" | "sprays" => "spray",
        "drop" | "drops" => "drop",
        "lozenge" | "lozenges" => "lozenge",
        "unit" | "units" => "unit",
        "suppository" | "suppositories" | "supp" | "supps" => "suppository",
        "capful" | "capfuls" | "cappful" | "cappfuls" => "capful",
        "film" | "films" => "film",
        "vial" | "vials" => "vial",
        "ampoule" | "ampoules" | "amp" | "amps" => "ampoule",
        "pastille" | "pastilles" => "pastille",
        "spoonful" | "spoonfuls" | "spoonsful" | "spoon" | "spoons" | "teaspoon" | "teaspoons"
        | "teaspoonful" | "teaspoonfuls" | "teaspoonsful" | "tsp" => "spoonful",
        _ => return None,
    })
}

fn is_spoon(w: &str) -> bool {
    unit_word(w) == Some("spoonful")
}

/// Times of day and meals: how many administrations a phrase stands for.
fn time_of_day(w: &str) -> Option<f64> {
    Some(match w {
        "morning" | "mornings" | "mane" | "om" | "breakfast" => 1.0,
        "noon" | "midday" | "lunchtime" | "lunch" => 1.0,
        "evening" | "evenings" | "teatime" | "tea" | "supper" => 1.0,
        "night" | "nights" | "nightly" | "nocte" | "bedtime" | "bed" | "nite" => 1.0,
        "meals" | "meal" | "mealtimes" => 3.0,
        _ => return None,
    })
}

fn is_weekday(w: &str) -> bool {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mondays",
        "tuesdays",
        "wednesdays",
        "thursdays",
        "fridays",
        "saturdays",
        "sundays",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
    .contains(&w)
}

/// Latin and UK shorthand for a number of administrations a day.
fn shorthand(w: &str) -> Option<f64> {
    Some(match w {
        "od" | "qd" | "daily" | "od." | "stat" | "once" => 1.0,
        "bd" | "bid" | "bds" | "twice" => 2.0,
        "tds" | "tid" | "tdd" | "thrice" => 3.0,
        "qds" | "qid" | "qqd" => 4.0,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    min: f64,
    max: f64,
}

impl Range {
    fn one(v: f64) -> Range {
        Range { min: v, max: v }
    }

    fn new(a: f64, b: f64) -> Range {
        Range {
            min: a.min(b),
            max: a.max(b),
        }
    }

    fn scale(self, k: f64) -> Range {
        Range::new(self.min * k, self.max * k)
    }
}

#[derive(Debug, Clone, Default)]
struct Step {
    doses: Vec<(Range, Option<&'static str>, usize)>,
    times_of_day: Vec<(f64, usize)>,
    /// Administrations per day.
    freq: Option<Range>,
    /// Days between administrations cycles ("every 3 days", "weekly").
    interval_days: Option<Range>,
    /// "max N in 24 hours"
    cap: Option<f64>,
    prn: bool,
    as_directed: bool,
    implied_patch: bool,
}

fn word(toks: &[Tok], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some(Tok::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

fn num(toks: &[Tok], i: usize) -> Option<f64> {
    match toks.get(i) {
        Some(Tok::Num(v)) => Some(*v),
        _ => None,
    }
}

fn is_punct(toks: &[Tok], i: usize, c: char) -> bool {
    matches!(toks.get(i), Some(Tok::Punct(p)) if *p == c)
}

/// A number or a range "1-2", "1 to 2", "1 or 2"; returns the range and the next index.
fn num_range(toks: &[Tok], i: usize) -> Option<(Range, usize)> {
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
fn shorthand_range(toks: &[Tok], i: usize) -> Option<(Range, usize)> {
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
fn period(toks: &[Tok], mut i: usize) -> Option<(f64, usize)> {
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

const TAPER_WORDS: &[&[&str]] = &[
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

fn split_steps(toks: &[Tok]) -> Vec<&[Tok]> {
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

const PRN_PHRASES: &[&[&str]] = &[
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

const AS_DIRECTED: &[&[&str]] = &[
    &["as", "directed"],
    &["as", "dir"],
    &["ud"],
    &["as", "instructed"],
    &["as", "advised"],
    &["as", "per", "instructions"],
    &["as", "prescribed"],
];

fn phrase_at(toks: &[Tok], i: usize, phrases: &[&[&str]]) -> Option<usize> {
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
fn cap_at(toks: &[Tok], i: usize) -> Option<(f64, usize)> {
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
fn up_to_freq_at(toks: &[Tok], i: usize) -> Option<(Range, f64, usize)> {
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
fn freq_at(toks: &[Tok], i: usize) -> Option<(Range, f64, usize)> {
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
fn every_at(step: &mut Step, toks: &[Tok], i: usize) -> Option<usize> {
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
fn set_interval(slot: &mut Option<Range>, r: Range) {
    slot.get_or_insert(r);
}

fn parse_step(toks: &[Tok]) -> Step {
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
fn step_daily(step: &Step) -> Result<(Range, Option<&'static str>, Range), &'static str> {
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
