//! The text of a direction to tokens: phrasings rewritten into ones the step reader knows,
//! numbers written as words, units, times of day and Latin shorthand.

use super::*;

/// What [`rewrite`] took out of a text before the steps are read.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Rewrites {
    /// "and up to two more when needed": as-needed units on top of the regular dose.
    pub(super) extra_as_needed: Option<f64>,
    pub(super) patches_of_two_strengths: bool,
}

pub(super) fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")))
}

pub(super) const NUMBER: &str = r"(\d+(?:\.\d+)?|one|two|three|four|five|six|a|an)";

/// Phrasings read by rewriting them into ones the step reader knows (issue 12.12):
/// - "2 / day", "2/day", "two a day", "one per day": N daily;
/// - "1 x2 daily", "one x 3 a day": a dose, then N times;
/// - "one in the morning and up to two more when needed": the regular dose, and up to N more;
/// - "apply a 50mcg and a 25mcg patch together": two patches at once, of two strengths.
pub(super) fn rewrite(text: &str) -> (String, Rewrites) {
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
pub(super) enum Tok {
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
pub(super) fn tokenize(text: &str) -> Vec<Tok> {
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
pub(super) fn unit_word(w: &str) -> Option<&'static str> {
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

pub(super) fn is_spoon(w: &str) -> bool {
    unit_word(w) == Some("spoonful")
}

/// Times of day and meals: how many administrations a phrase stands for.
pub(super) fn time_of_day(w: &str) -> Option<f64> {
    Some(match w {
        "morning" | "mornings" | "mane" | "om" | "breakfast" => 1.0,
        "noon" | "midday" | "lunchtime" | "lunch" => 1.0,
        "evening" | "evenings" | "teatime" | "tea" | "supper" => 1.0,
        "night" | "nights" | "nightly" | "nocte" | "bedtime" | "bed" | "nite" => 1.0,
        "meals" | "meal" | "mealtimes" => 3.0,
        _ => return None,
    })
}

pub(super) fn is_weekday(w: &str) -> bool {
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
pub(super) fn shorthand(w: &str) -> Option<f64> {
    Some(match w {
        "od" | "qd" | "daily" | "od." | "stat" | "once" => 1.0,
        "bd" | "bid" | "bds" | "twice" => 2.0,
        "tds" | "tid" | "tdd" | "thrice" => 3.0,
        "qds" | "qid" | "qqd" => 4.0,
        _ => return None,
    })
}
