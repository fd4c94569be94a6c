//! A patient's exposure timeline and the measures at the audit date (METHOD.md §6–§7).
//!
//! Pure: items in, measures out. Days are the continuous day axis of [`crate::values::Day`];
//! an item covers `[start, start + days_supply)` (end exclusive, days not rounded) at
//! `total OME / days_supply` a day, and the OME on a day is the rate times the part of that
//! day covered.

use crate::values::Day;

/// The one tolerance of comparisons: 120 mg must stay 120, and a day position within it of
/// another is that position (a supply ending on the start of `as_of` does not cover it).
pub const EPS: f64 = 1e-9;

/// Day positions are kept exact where they should be: a supply end within a millionth of a
/// day of a whole day is that whole day, so a chain of carried-forward supplies of
/// fractional length (three of 18.666… days) ends on the day it should, not 1e-11 past it.
const WHOLE_DAY: f64 = 1e-6;

/// A day position, snapped to the whole day it is within [`WHOLE_DAY`] of.
pub fn exact_day(position: f64) -> f64 {
    let whole = position.round();
    if (position - whole).abs() <= WHOLE_DAY {
        whole
    } else {
        position
    }
}

/// What to do with an early repeat of the same product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stockpile {
    /// The later item starts when the earlier supply ends (default).
    Carry,
    /// Every item starts on its issue date.
    Concurrent,
}

impl Stockpile {
    pub fn as_str(self) -> &'static str {
        match self {
            Stockpile::Carry => "carry",
            Stockpile::Concurrent => "concurrent",
        }
    }
}

/// The settings the timeline needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineSettings {
    pub threshold_mg_day: f64,
    pub long_term_days: i64,
    pub grace_days: f64,
    pub dose_window_days: i32,
    pub lookback_days: i32,
    pub stockpile: Stockpile,
}

impl Default for TimelineSettings {
    fn default() -> Self {
        TimelineSettings {
            threshold_mg_day: 120.0,
            long_term_days: 90,
            grace_days: 30.0,
            dose_window_days: 28,
            lookback_days: 90,
            stockpile: Stockpile::Carry,
        }
    }
}

/// One opioid item of a patient, ready for the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureItem {
    /// Generic product (dm+d VMP) key: early repeats of one key carry forward.
    pub product: u32,
    pub issue_day: Day,
    pub days_supply: f64,
    pub total_ome_mg: f64,
    /// Parsed units per day × strength × factor, when the directions were read.
    pub instructed_ome_mg_day: Option<f64>,
    /// Days of supply were the default: nothing (duration, directions, patch) said them.
    pub days_assumed: bool,
}

/// Where an item sits on the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    pub start: f64,
    pub end: f64,
    pub rate_mg_day: f64,
}

/// The measures of one patient at the audit date.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientMeasures {
    /// A current episode: `as_of − episode end ≤ grace`.
    pub current: bool,
    /// Mean daily OME over the dose window (supply-based).
    pub ome_mg_day: f64,
    /// Sum of instructed OME/day of the items covering `as_of` (`None` when none is known).
    pub instructed_ome_mg_day: Option<f64>,
    /// Today's dose: the summed supply rate of the items covering `as_of`.
    pub current_ome_mg_day: f64,
    /// Highest single-day total in the look-back.
    pub peak_ome_mg_day: f64,
    /// OME falling in the dose window.
    pub window_ome_mg: f64,
    /// Start of the current (else the latest) episode.
    pub episode_start: Option<Day>,
    /// `as_of − start of the current episode`.
    pub duration_days: Option<i64>,
    /// The current episode starts on the first issue date of the whole input.
    pub duration_censored: bool,
    pub high_dose: bool,
    /// Current, with today's dose above the threshold (`high_dose` keeps the window mean).
    pub high_dose_now: bool,
    pub long_term: bool,
    /// Products (keys) with supply in the dose window.
    pub window_products: Vec<u32>,
    /// Of those, the products with an item in the window whose days of supply were assumed.
    pub assumed_products: Vec<u32>,
    pub last_issue_day: Option<Day>,
}

/// Place items on the timeline: carry-forward per product in issue order (or concurrent).
/// Returns one coverage per item, in the input order.
pub fn coverage(items: &[ExposureItem], stockpile: Stockpile) -> Vec<Coverage> {
    let mut out = Vec::new();
    place(items, stockpile, &mut Vec::new(), &mut out);
    out
}

/// [`coverage`] into `out`, with `order` as its working space (both reused from patient to
/// patient).
fn place(
    items: &[ExposureItem],
    stockpile: Stockpile,
    order: &mut Vec<usize>,
    out: &mut Vec<Coverage>,
) {
    order.clear();
    order.extend(0..items.len());
    // The index is part of the key, so no two keys are equal and an unstable sort is the
    // stable one.
    order.sort_unstable_by_key(|&i| (items[i].product, items[i].issue_day, i));
    out.clear();
    out.resize(
        items.len(),
        Coverage {
            start: 0.0,
            end: 0.0,
            rate_mg_day: 0.0,
        },
    );
    let mut previous: Option<(u32, f64)> = None;
    for &i in order.iter() {
        let item = &items[i];
        let issue = item.issue_day.axis();
        let start = match (stockpile, previous) {
            (Stockpile::Carry, Some((p, end))) if p == item.product => issue.max(end),
            _ => issue,
        };
        let days = item.days_supply.max(EPS);
        let end = exact_day(start + days);
        out[i] = Coverage {
            start,
            end,
            rate_mg_day: item.total_ome_mg / days,
        };
        previous = Some((item.product, end));
    }
}

/// A patient's items placed on the timeline once ([`coverage`], and the spans in the order
/// [`episodes`] merges them), then measured at the audit date ([`Layout::measure`]) and at
/// other dates ([`Layout::month_states`]) from that one placing. The buffers are kept from
/// one patient to the next, so that measuring millions of patients allocates next to
/// nothing. The results are exactly those of [`measure`] and [`month_states_all`].
#[derive(Debug, Default)]
pub struct Layout {
    order: Vec<usize>,
    cover: Vec<Coverage>,
    /// Item indexes by (start, end) of their coverage.
    by_start: Vec<usize>,
    daily: Vec<f64>,
}

impl Layout {
    /// Place `items` (one patient's, in issue order) on the timeline.
    pub fn place(&mut self, items: &[ExposureItem], stockpile: Stockpile) {
        place(items, stockpile, &mut self.order, &mut self.cover);
        let cover = &self.cover;
        self.by_start.clear();
        self.by_start.extend(0..cover.len());
        self.by_start.sort_by(|&a, &b| {
            let (a, b) = (&cover[a], &cover[b]);
            a.start.total_cmp(&b.start).then(a.end.total_cmp(&b.end))
        });
    }

    /// The coverage of each item placed, in their order.
    pub fn coverage(&self) -> &[Coverage] {
        &self.cover
    }

    /// The episodes of the items placed ([`episodes`]).
    fn latest_episode(&self, grace_days: f64) -> Option<(f64, f64)> {
        let mut latest: Option<(f64, f64)> = None;
        for &i in &self.by_start {
            let (s, e) = (self.cover[i].start, self.cover[i].end);
            latest = match latest {
                Some((ls, le)) if s - le <= grace_days + EPS => Some((ls, le.max(e))),
                _ => Some((s, e)),
            };
        }
        latest
    }
}

/// Episodes: coverage merged while the gap `next_start − current_end ≤ grace`.
/// Returns (start, exclusive end) pairs in time order.
pub fn episodes(cover: &[Coverage], grace_days: f64) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = cover.iter().map(|c| (c.start, c.end)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s - last.1 <= grace_days + EPS => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn overlap(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0.0)
}

/// Measure one patient at `as_of`. `first_issue_day` is the earliest issue date of the whole
/// input (for censoring). Items dated after `as_of` must already be dropped.
pub fn measure(
    items: &[ExposureItem],
    as_of: Day,
    first_issue_day: Day,
    s: &TimelineSettings,
) -> PatientMeasures {
    let mut layout = Layout::default();
    layout.place(items, s.stockpile);
    layout.measure(items, as_of, first_issue_day, s)
}

impl Layout {
    /// [`measure`] of the items last placed (the same `items`).
    pub fn measure(
        &mut self,
        items: &[ExposureItem],
        as_of: Day,
        first_issue_day: Day,
        s: &TimelineSettings,
    ) -> PatientMeasures {
        let cover = &self.cover;
        let as_of_f = as_of.axis();
        let latest = self.latest_episode(s.grace_days);
        let current = latest.is_some_and(|(_, end)| as_of_f - end <= s.grace_days + EPS);

        let window = (
            (as_of - (s.dose_window_days - 1)).axis(),
            (as_of + 1).axis(),
        );
        let mut window_ome = 0.0;
        let mut window_products: Vec<u32> = Vec::new();
        let mut assumed_products: Vec<u32> = Vec::new();
        for (c, item) in cover.iter().zip(items) {
            let o = overlap((c.start, c.end), window);
            if o > EPS {
                window_ome += c.rate_mg_day * o;
                if !window_products.contains(&item.product) {
                    window_products.push(item.product);
                }
                if item.days_assumed && !assumed_products.contains(&item.product) {
                    assumed_products.push(item.product);
                }
            }
        }
        let ome_mg_day = window_ome / s.dose_window_days as f64;

        // Peak: each day of the look-back.
        let lb_start = as_of - (s.lookback_days - 1);
        let daily = &mut self.daily;
        daily.clear();
        daily.resize(s.lookback_days.max(0) as usize, 0.0);
        for c in cover {
            let first = (c.start.floor() as i64).max(lb_start.0 as i64);
            let last = (c.end.ceil() as i64 - 1).min(as_of.0 as i64);
            for d in first..=last {
                let part = overlap((c.start, c.end), (d as f64, d as f64 + 1.0));
                daily[(d - lb_start.0 as i64) as usize] += c.rate_mg_day * part;
            }
        }
        let peak = daily.iter().copied().fold(0.0, f64::max);

        let today = (as_of_f, as_of_f + 1.0);
        let mut instructed: Option<f64> = None;
        let mut current_ome = 0.0;
        for (c, item) in cover.iter().zip(items) {
            if overlap((c.start, c.end), today) > EPS {
                current_ome += c.rate_mg_day;
                if let Some(v) = item.instructed_ome_mg_day {
                    *instructed.get_or_insert(0.0) += v;
                }
            }
        }

        let episode_start = latest.map(|(start, _)| Day::of_axis(start));
        let duration_days = if current {
            episode_start.map(|start| (as_of - start) as i64)
        } else {
            None
        };
        let duration_censored = current && episode_start == Some(first_issue_day);
        let high_dose = current && ome_mg_day > s.threshold_mg_day + EPS;
        let high_dose_now = current && current_ome > s.threshold_mg_day + EPS;
        let long_term = duration_days.is_some_and(|d| d > s.long_term_days);
        PatientMeasures {
            current,
            ome_mg_day,
            instructed_ome_mg_day: instructed,
            current_ome_mg_day: current_ome,
            peak_ome_mg_day: peak,
            window_ome_mg: window_ome,
            episode_start,
            duration_days,
            duration_censored,
            high_dose,
            high_dose_now,
            long_term,
            window_products,
            assumed_products,
            last_issue_day: items.iter().map(|i| i.issue_day).max(),
        }
    }
}

/// A patient at one date (a month end of the trend, the previous audit date...): what the
/// trend counts and the follow-up needs (METHOD.md §10, §11), exactly as [`measure`] finds it
/// at that date from the items issued on or before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthState {
    /// Index into the dates.
    pub month: usize,
    /// Index of the latest item on or before the date (its practice is the patient's);
    /// `usize::MAX` when there is none.
    pub latest_item: usize,
    /// A current episode at the date.
    pub current: bool,
    /// The window mean (0 when nothing was supplied in the window).
    pub ome_mg_day: f64,
    pub window_ome_mg: f64,
    pub high_dose: bool,
    /// Today's dose (the supply rate on the date) above the threshold.
    pub high_dose_now: bool,
    pub long_term: bool,
}

impl MonthState {
    /// On the review list at that date by the measures (the exclusion list aside).
    pub fn listed(&self) -> bool {
        self.current && (self.high_dose || self.long_term || self.high_dose_now)
    }
}

/// The patient at each of `dates` (ascending), in one pass: the items (in issue order) are
/// placed on the timeline once, since an item's place depends only on the items before it;
/// each date then takes the items issued on or before it. With `all` every date gets a state;
/// without, only those where the patient is current, and a date where they are not (no item
/// yet, or the last supply ended more than the grace period before it) costs a comparison.
/// Pushes onto `out`.
pub fn month_states_all(
    items: &[ExposureItem],
    dates: &[Day],
    s: &TimelineSettings,
    all: bool,
    out: &mut Vec<MonthState>,
) {
    let mut layout = Layout::default();
    layout.place(items, s.stockpile);
    layout.month_states(items, dates, s, all, out)
}

impl Layout {
    /// [`month_states_all`] of the items last placed (the same `items`).
    pub fn month_states(
        &self,
        items: &[ExposureItem],
        dates: &[Day],
        s: &TimelineSettings,
        all: bool,
        out: &mut Vec<MonthState>,
    ) {
        let (cover, by_start) = (&self.cover, &self.by_start);
        // Each date takes the spans of the items issued up to it, in `by_start`'s order (a
        // subsequence of a sorted list is sorted).
        let mut k = 0;
        let mut max_end = f64::NEG_INFINITY;
        for (month, &as_of) in dates.iter().enumerate() {
            while k < items.len() && items[k].issue_day <= as_of {
                max_end = max_end.max(cover[k].end);
                k += 1;
            }
            let as_of_f = as_of.axis();
            // The latest episode ends at the latest end of any supply (earlier episodes end
            // before it starts), so this is `measure`'s test of a current episode.
            let current = k > 0 && as_of_f - max_end <= s.grace_days + EPS;
            if !current && !all {
                continue;
            }
            let window = (
                (as_of - (s.dose_window_days - 1)).axis(),
                (as_of + 1).axis(),
            );
            let today = (as_of_f, as_of_f + 1.0);
            let (mut window_ome, mut current_ome) = (0.0, 0.0);
            for c in &cover[..k] {
                let o = overlap((c.start, c.end), window);
                if o > EPS {
                    window_ome += c.rate_mg_day * o;
                }
                if overlap((c.start, c.end), today) > EPS {
                    current_ome += c.rate_mg_day;
                }
            }
            let ome_mg_day = window_ome / s.dose_window_days as f64;
            let mut long_term = false;
            if current {
                // The latest episode's start, merged as `episodes` merges.
                let mut latest: Option<(f64, f64)> = None;
                for &i in by_start.iter().filter(|&&i| i < k) {
                    let (start, end) = (cover[i].start, cover[i].end);
                    latest = match latest {
                        Some((ls, le)) if start - le <= s.grace_days + EPS => {
                            Some((ls, le.max(end)))
                        }
                        _ => Some((start, end)),
                    };
                }
                if let Some((start, _)) = latest {
                    long_term = (as_of - Day::of_axis(start)) as i64 > s.long_term_days;
                }
            }
            out.push(MonthState {
                month,
                latest_item: k.wrapping_sub(1),
                current,
                ome_mg_day,
                window_ome_mg: window_ome,
                high_dose: current && ome_mg_day > s.threshold_mg_day + EPS,
                high_dose_now: current && current_ome > s.threshold_mg_day + EPS,
                long_term,
            });
        }
    }
}

/// [`month_states_all`] at the dates where the patient is current (the trend's counts).
pub fn month_states(
    items: &[ExposureItem],
    month_ends: &[Day],
    s: &TimelineSettings,
    out: &mut Vec<MonthState>,
) {
    month_states_all(items, month_ends, s, false, out)
}

/// The dose bands of METHOD.md §7: `<50`, `50-<90`, `90-120`, `>120` (exactly 120 is not
/// above, exactly 90 is in the ≥90 band of the 2025 Opioids Aware threshold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DoseBand {
    Below50,
    From50To90,
    From90To120,
    Above120,
}

impl DoseBand {
    /// Every band, lowest first (the order of the summaries' columns).
    pub const ALL: [DoseBand; 4] = [
        DoseBand::Below50,
        DoseBand::From50To90,
        DoseBand::From90To120,
        DoseBand::Above120,
    ];

    /// The band of a daily OME.
    pub fn of(ome_mg_day: f64) -> DoseBand {
        if ome_mg_day < 50.0 - EPS {
            DoseBand::Below50
        } else if ome_mg_day < 90.0 - EPS {
            DoseBand::From50To90
        } else if ome_mg_day <= 120.0 + EPS {
            DoseBand::From90To120
        } else {
            DoseBand::Above120
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DoseBand::Below50 => "<50",
            DoseBand::From50To90 => "50-<90",
            DoseBand::From90To120 => "90-120",
            DoseBand::Above120 => ">120",
        }
    }

    /// Position in [`DoseBand::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Whether instructed and supply-based OME/day disagree by more than 50% of the supply-based
/// figure (or one is zero and the other is not).
pub fn doses_disagree(supply: f64, instructed: Option<f64>) -> Option<bool> {
    let i = instructed?;
    if supply <= EPS {
        return Some(i > EPS);
    }
    Some((i - supply).abs() > 0.5 * supply + EPS)
}

#[cfg(test)]
mod tests;
