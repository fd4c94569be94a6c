//! Field values as GP extracts write them: dates, quantities, day counts.
//!
//! Dates become days since 1970-01-01 on a continuous day axis (METHOD.md §7). Each parser
//! returns a reason on failure; the caller turns it into a rejected row (or an error under
//! `--strict`). Every parser is total: no input panics.

use std::fmt;

use crate::problem::Problem;

/// A calendar day: days since 1970-01-01. Its own type, so that a date is never taken for a
/// day count or a day count for a date: a day and a count of days make a day, two days make
/// a count of days (`Day - Day` is an `i32`), and nothing else mixes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Day(pub i32);

impl Day {
    /// The day as a point on the continuous day axis (its start), where supplies are
    /// intervals of fractional days (METHOD.md §7).
    pub fn axis(self) -> f64 {
        f64::from(self.0)
    }

    /// The day a point of the day axis falls in.
    pub fn of_axis(x: f64) -> Day {
        Day(x.floor() as i32)
    }
}

impl std::ops::Add<i32> for Day {
    type Output = Day;
    fn add(self, days: i32) -> Day {
        Day(self.0 + days)
    }
}

impl std::ops::Sub<i32> for Day {
    type Output = Day;
    fn sub(self, days: i32) -> Day {
        Day(self.0 - days)
    }
}

impl std::ops::Sub<Day> for Day {
    type Output = i32;
    /// The days from `other` to `self`.
    fn sub(self, other: Day) -> i32 {
        self.0 - other.0
    }
}

impl std::ops::AddAssign<i32> for Day {
    fn add_assign(&mut self, days: i32) {
        self.0 += days;
    }
}

impl std::ops::SubAssign<i32> for Day {
    fn sub_assign(&mut self, days: i32) {
        self.0 -= days;
    }
}

/// 1900-01-01 (-25567): a date on or before it is a placeholder ("no date": Excel's day 0, a
/// system's default), never a date of issue (issue 25.5).
pub const PLACEHOLDER_DAY: Day = Day(-25_567);

/// Days since 1970-01-01 of a valid civil date (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> Option<Day> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || !(1000..=9999).contains(&y) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(Day((era * 146097 + doe - 719468) as i32))
}

/// The civil date of a day number.
pub fn civil_from_days(z: Day) -> (i32, u32, u32) {
    let z = z.0 as i64 + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// ISO text of a day number (`2026-10-31`).
pub fn format_day(day: Day) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A date layout: a strftime-like pattern of `%Y %y %m %d %b` and literal characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat(pub String);

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Layouts opal recognises, in order of preference. Slash dates are day first (UK).
pub const KNOWN_FORMATS: &[&str] = &[
    "%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y", "%Y%m%d", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%Y/%m/%d",
    "%d/%m/%y", "%d-%b-%y",
];

/// A single date in any of [`KNOWN_FORMATS`] (the first that reads it), for the short
/// reference files whose dates are not a column to detect a layout from (`--reviews`,
/// `--events`); `None` when none reads it. Every layout is day first or year first, so no
/// date reads two ways.
pub fn parse_known_date(text: &str) -> Option<Day> {
    KNOWN_FORMATS
        .iter()
        .find_map(|f| parse_date_with(text.trim(), &DateFormat((*f).into())))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Strip a trailing time: `2026-10-31 14:05`, `31/10/2026 00:00:00`, `2026-10-31T09:00:00Z`.
fn strip_time(s: &str) -> &str {
    let s = s.trim();
    let b = s.as_bytes();
    let t_sep = (1..b.len().saturating_sub(1))
        .find(|&i| b[i] == b'T' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit());
    if let Some(pos) = s.find(' ').or(t_sep) {
        let (date, rest) = s.split_at(pos);
        let rest = rest[1..].trim();
        if rest.is_empty()
            || rest.contains(':')
                && rest.chars().all(|c| {
                    c.is_ascii_digit() || ":.+-Z ".contains(c) || c == 'A' || c == 'P' || c == 'M'
                })
        {
            return date.trim();
        }
    }
    s
}

/// Parse a date with one layout. Returns `None` when it does not fit.
pub fn parse_date_with(text: &str, format: &DateFormat) -> Option<Day> {
    let s = strip_time(text);
    let s = s.as_bytes();
    let f = format.0.as_bytes();
    let (mut i, mut j) = (0usize, 0usize);
    let (mut y, mut m, mut d) = (None::<i32>, None::<u32>, None::<u32>);
    let digits = |i: &mut usize, max: usize| -> Option<u32> {
        let start = *i;
        while *i < s.len() && *i - start < max && s[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        std::str::from_utf8(&s[start..*i]).ok()?.parse().ok()
    };
    while j < f.len() {
        if f[j] == b'%' && j + 1 < f.len() {
            match f[j + 1] {
                b'Y' => {
                    let start = i;
                    y = Some(digits(&mut i, 4)? as i32);
                    if i - start != 4 {
                        return None;
                    }
                }
                b'y' => {
                    let start = i;
                    let v = digits(&mut i, 2)? as i32;
                    if i - start != 2 {
                        return None;
                    }
                    y = Some(if v < 70 { 2000 + v } else { 1900 + v });
                }
                b'm' => m = Some(digits(&mut i, 2)?),
                b'd' => d = Some(digits(&mut i, 2)?),
                b'b' => {
                    let word = s.get(i..i + 3)?;
                    let word = std::str::from_utf8(word).ok()?.to_ascii_lowercase();
                    m = Some(MONTHS.iter().position(|x| *x == word)? as u32 + 1);
                    i += 3;
                    // "Sept", "October": skip the rest of the month name.
                    while i < s.len() && s[i].is_ascii_alphabetic() {
                        i += 1;
                    }
                }
                _ => return None,
            }
            j += 2;
        } else {
            if i >= s.len() || s[i] != f[j] {
                return None;
            }
            i += 1;
            j += 1;
        }
    }
    if i != s.len() {
        return None;
    }
    days_from_civil(y?, m?, d?)
}

/// Choose the layout of a column from its distinct values: the first known layout that reads
/// every value, else the one that reads most. `Err` when none reads even half, or when the
/// values are month-first (US) — both with a hint.
pub fn detect_date_format<'a>(
    values: impl Iterator<Item = &'a str> + Clone,
) -> Result<DateFormat, Problem> {
    let total = values.clone().filter(|v| !v.trim().is_empty()).count();
    if total == 0 {
        return Ok(DateFormat(KNOWN_FORMATS[0].to_string()));
    }
    let mut best: Option<(usize, &str)> = None;
    for f in KNOWN_FORMATS {
        let fmt = DateFormat((*f).to_string());
        let ok = values
            .clone()
            .filter(|v| !v.trim().is_empty() && parse_date_with(v, &fmt).is_some())
            .count();
        if ok == total {
            return Ok(fmt);
        }
        if best.is_none_or(|(n, _)| ok > n) {
            best = Some((ok, f));
        }
    }
    let us = DateFormat("%m/%d/%Y".into());
    let us_ok = values
        .clone()
        .filter(|v| !v.trim().is_empty() && parse_date_with(v, &us).is_some())
        .count();
    if us_ok == total {
        return Err(
            Problem::new("the dates look month-first (US style, e.g. 10/31/2026)")
                .hint("if they are, pass --date-format %m/%d/%Y"),
        );
    }
    match best {
        Some((n, f)) if n * 2 >= total => Ok(DateFormat(f.to_string())),
        _ => {
            // The column may hold something else (a shifted row's patient id or name): its
            // shape is shown, never its value.
            // The smallest, so that the message is the same whatever order the values come
            // in (a file's distinct dates are kept in a hash map).
            let example: String = values
                .clone()
                .filter(|v| !v.trim().is_empty())
                .min()
                .unwrap_or_default()
                .trim()
                .chars()
                .take(30)
                .map(|c| match c {
                    '0'..='9' => '9',
                    c if c.is_alphabetic() => 'A',
                    c if c.is_ascii_punctuation() || c == ' ' => c,
                    _ => '?',
                })
                .collect();
            Err(Problem::new(format!(
                "cannot tell the date format (values shaped like '{example}': 9 a digit, A a \
                 letter)"
            ))
            .hint(
                "opal reads 2026-10-31, 31/10/2026, 31-Oct-2026 and 20261031, with or without a \
                 time; for another layout pass --date-format, e.g. --date-format %d.%m.%Y",
            ))
        }
    }
}

/// The date layout, once the dates seen so far decide it: the layout [`detect_date_format`]
/// picks reads more of them than the US month-first layout does (`03/04/2026` alone could be
/// either, `2026-04-03` or `25/04/2026` could not). `None` means keep reading: a large file
/// is read in chunks, and its layout is settled by the first dates that decide it, so that it
/// need not be held whole first. A few unreadable dates do not stop it settling: they are
/// rejected rows.
pub fn settled_date_format<'a>(
    values: impl Iterator<Item = &'a str> + Clone,
) -> Option<DateFormat> {
    let format = detect_date_format(values.clone()).ok()?;
    let reads = |f: &DateFormat| {
        values
            .clone()
            .filter(|v| !v.trim().is_empty() && parse_date_with(v, f).is_some())
            .count()
    };
    (reads(&format) > reads(&DateFormat("%m/%d/%Y".into()))).then_some(format)
}

/// A quantity as issued, in the product's units where the text says how.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub amount: f64,
    /// Unit word as written, lower case and singular (`tablet`, `ml`, `mg`, `patch`...).
    pub unit: Option<String>,
}

fn unit_of(word: &str) -> Option<&'static str> {
    let w = word.trim();
    let w = w.strip_suffix("(s)").unwrap_or(w);
    let w = w.trim_matches(|c: char| !c.is_alphanumeric());
    Some(match w {
        "tablet" | "tablets" | "tab" | "tabs" | "caplet" | "caplets" => "tablet",
        "capsule" | "capsules" | "cap" | "caps" => "capsule",
        "ml" | "mls" | "millilitre" | "millilitres" | "mililitre" | "mililitres" | "milliliter"
        | "milliliters" => "ml",
        "l" | "litre" | "litres" => "litre",
        "mg" => "mg",
        "microgram" | "micrograms" | "mcg" => "microgram",
        "patch" | "patches" => "patch",
        "sachet" | "sachets" => "sachet",
        "suppository" | "suppositories" => "suppository",
        "ampoule" | "ampoules" | "amp" | "amps" => "ampoule",
        "vial" | "vials" => "vial",
        "lozenge" | "lozenges" => "lozenge",
        "film" | "films" => "film",
        "dose" | "doses" | "spray" | "sprays" => "dose",
        "pack" | "packs" | "box" | "boxes" | "carton" | "cartons" => "pack",
        "syringe" | "syringes" | "pre-filled" => "syringe",
        "unit" | "units" | "item" | "items" | "each" => "unit",
        _ => return None,
    })
}

/// Parse a quantity: `56`, `56 tablet`, `21 tablet(s) - 400mg`, `1 pack of 28 capsule(s)`,
/// `2 x 28`, `100 mililitres`, `56.0`. A separate unit column (`quantity_unit`) may add a unit
/// or a pack size (`pack of 28`).
pub fn parse_quantity(text: &str, unit_column: &str) -> Result<Quantity, String> {
    let raw = text.trim();
    if raw.is_empty() {
        return Err("quantity is empty".into());
    }
    let lower = raw.to_lowercase().replace(',', "");
    let mut numbers: Vec<(f64, usize)> = Vec::new();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let negative = c == b'-'
            && bytes.get(i + 1).is_some_and(|d| d.is_ascii_digit())
            && numbers.is_empty()
            && lower[..i].trim().is_empty();
        if c.is_ascii_digit()
            || negative
            || (c == b'.' && bytes.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            // 4.07e+13 is a mangled code, not a quantity; 1e3 is not how anyone writes one.
            if i < bytes.len()
                && bytes[i] == b'e'
                && bytes
                    .get(i + 1)
                    .is_some_and(|b| *b == b'+' || *b == b'-' || b.is_ascii_digit())
            {
                return Err(format!("quantity '{raw}' is in scientific notation"));
            }
            match lower[start..i].parse::<f64>() {
                Ok(v) => numbers.push((v, start)),
                Err(_) => return Err(format!("quantity '{raw}' is not a number")),
            }
        } else {
            i += 1;
        }
    }
    let Some(&(first, first_at)) = numbers.first() else {
        return Err(format!("quantity '{raw}' is not a number"));
    };
    if !lower[..first_at].trim().is_empty() {
        return Err(format!("quantity '{raw}' does not start with a number"));
    }
    let words: Vec<&str> = lower
        .split(char::is_whitespace)
        .filter(|w| !w.is_empty())
        .collect();
    let mut amount = first;
    let mut unit: Option<&'static str> = None;
    // "1 pack of 28 capsule(s)", "2 x 28"
    let pack_of = lower.contains(" of ") && words.iter().any(|w| unit_of(w) == Some("pack"));
    let times = words.get(1).is_some_and(|w| *w == "x")
        || lower[first_at..].starts_with(|c: char| c.is_ascii_digit())
            && lower.contains('x')
            && numbers.len() == 2
            && !lower.contains("mg");
    if (pack_of || times) && numbers.len() >= 2 {
        amount = first * numbers[1].0;
    }
    // The unit: the first unit word after the counted number (not "400mg" of "21 tablet(s) -
    // 400mg", which is the strength).
    for w in words.iter().skip(1) {
        let w = w.trim_end_matches(|c: char| !c.is_alphanumeric() && c != ')');
        let bare = w.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        if let Some(u) = unit_of(bare) {
            if u == "pack" {
                continue;
            }
            unit = Some(u);
            break;
        }
        if w == "-" {
            break;
        }
    }
    if unit.is_none() {
        // "56tablets", "100ml"
        let bare = words[0].trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        unit = unit_of(bare);
    }
    let col = unit_column.trim().to_lowercase();
    if !col.is_empty() {
        if let Some(size) = col
            .strip_prefix("pack of ")
            .or_else(|| col.strip_prefix("packs of "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
        {
            amount *= size;
        } else if unit.is_none() {
            unit = col.split_whitespace().find_map(unit_of);
        }
    }
    if unit == Some("litre") {
        amount *= 1000.0;
        unit = Some("ml");
    }
    if !amount.is_finite() {
        return Err(format!("quantity '{raw}' is not a number"));
    }
    if amount <= 0.0 {
        return Err(format!("quantity {raw} must be above zero"));
    }
    Ok(Quantity {
        amount,
        unit: unit.map(str::to_string),
    })
}

/// Days of supply from an explicit duration column: a positive number of days.
pub fn parse_days(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim().to_lowercase();
    if t.is_empty() {
        return Ok(None);
    }
    let t = t
        .trim_end_matches("days")
        .trim_end_matches("day")
        .trim_end_matches('d')
        .trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(Some(v)),
        // CPRD (and some practice systems) write 0 for a duration not recorded: not stated,
        // so the days come from the directions or the default (METHOD.md §5).
        Ok(0.0) => Ok(None),
        Ok(_) => Err(format!("days supply '{}' must be above zero", text.trim())),
        Err(_) => Err(format!("days supply '{}' is not a number", text.trim())),
    }
}

/// A code or number cell without the guard a spreadsheet puts on text it must not turn into
/// a number (issue 25.5): a leading `'` (`'38754011000001109`) or a formula of a string
/// (`="38754011000001109"`). Anything else is returned as it is.
pub fn excel_guard(text: &str) -> &str {
    if let Some(inner) = text
        .strip_prefix("=\"")
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.contains('"'))
    {
        return inner.trim();
    }
    match text.strip_prefix('\'') {
        Some(rest) if !rest.is_empty() && !rest.contains('\'') => rest.trim(),
        _ => text,
    }
}

/// Whether a date cell is a system's "no date" in a year no layout reads (`0001-01-01`,
/// `01/01/0001`, `0000-00-00`, with or without a time): read as the placeholder day, so that
/// its row is rejected as no date rather than as a date in the wrong layout.
pub fn is_placeholder_date_text(text: &str) -> bool {
    let date = text.trim().split(['T', ' ']).next().unwrap_or("");
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .iter()
            .any(|p| p.len() == 4 && p.parse::<u32>().is_ok_and(|y| y <= 1))
}

/// Whether a duration cell says 0 (read as not stated by [`parse_days`]), for the count of
/// such rows in the manifest.
pub fn is_zero_days(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.bytes().next().is_some_and(|b| b == b'0' || b == b'.')
        && parse_days(t) == Ok(None)
}

/// A number as opal writes it: at most 6 decimals, no trailing zeros, no `-0`.
/// A figure for people to read: three significant figures (0.0312, 0.312, 3.12, 31.2), whole
/// numbers from 100 up (312, 3120), 0 as `0` (issue 27.7: a target of 0.01 and one of 0.02
/// were both shown as "0.01"/"0.02" at two decimals, and 0.0049 as "0.00").
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = v.abs().log10().floor() as i32;
    if digits >= 2 {
        return format!("{v:.0}");
    }
    let decimals = (2 - digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    // 9.996 rounds to "10.00": one digit too many.
    match s.trim_start_matches('-').split_once('.') {
        Some((whole, _)) if whole.len() > 1 && decimals > 0 && whole != "0" => {
            let d = decimals.saturating_sub(whole.len() - (digits.max(0) as usize + 1));
            format!("{v:.d$}")
        }
        _ => s,
    }
}

pub fn fmt_num(v: f64) -> String {
    let mut out = String::new();
    push_num(&mut out, v);
    out
}

/// [`fmt_num`] into a buffer, without allocating: the hot path of large outputs (items.csv
/// writes six numbers an item), so neither `f64::round` (a libm call on baseline x86-64) nor
/// the formatting machinery is used.
pub fn push_num(out: &mut String, v: f64) {
    if !v.is_finite() {
        return;
    }
    // Exact integer arithmetic on micro-units for ordinary magnitudes.
    if v.abs() < 9.0e12 {
        let micro = round_half_away(v * 1e6);
        if micro == 0 {
            out.push('0');
            return;
        }
        if micro < 0 {
            out.push('-');
        }
        let m = micro.unsigned_abs();
        let (int, frac) = (m / 1_000_000, m % 1_000_000);
        let mut digits = [0; 20];
        out.extend(uint_digits(int, &mut digits).iter().map(|&d| d as char));
        if frac != 0 {
            // Six digits, trailing zeros dropped.
            let mut digits = [b'0'; 6];
            let mut f = frac;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (f % 10) as u8;
                f /= 10;
            }
            let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
            out.push('.');
            out.extend(digits[..end].iter().map(|&d| d as char));
        }
        return;
    }
    out.push_str(&fmt_num_slow(v));
}

/// The decimal digits of `v`, written into the end of `digits`.
pub fn uint_digits(mut v: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &digits[i..]
}

/// `x.round() as i64` (halves away from zero) for |x| < 2^63, without libm: the cast truncates,
/// and the fraction left is exact below 2^53 (above it every float is an integer).
fn round_half_away(x: f64) -> i64 {
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

fn fmt_num_slow(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests;
