//! Statistical process control as NHS England's *Making Data Count* draws it: an XmR chart
//! (individuals and moving ranges), its special-cause rules, point types, the variation icon
//! and the assurance icon — following the reference implementation, the R package
//! NHSRplotthedots (0.2.x: `ptd_spc_standard`, `ptd_calculate_point_type`,
//! `ptd_calculate_assurance_type`), rule for rule. METHOD.md §10 states the rules.
//!
//! - Centre line: the mean of the points the limits are computed from (the baseline, else all).
//! - Moving ranges between consecutive baseline points; their mean, optionally after screening
//!   out moving ranges of at least 3.267 × their mean (off by default, as in NHS England's
//!   Excel tool; on by default in the R package).
//! - Process limits: mean ± 2.66 × mean moving range, not clipped at zero.
//! - Special causes: a point outside the limits (strictly); a *trend*, 7 points each strictly
//!   above (or below) the one before (a tie breaks it); *two in three*, two of three
//!   consecutive points beyond two thirds of the way to a limit (and not outside it), all
//!   three on the same side of the mean; a *shift*, 7 points on one side of the mean (a point
//!   on the mean breaks it). Every point of a run is flagged.
//! - A point's type comes from the first rule that flags it, in the order outside limits,
//!   trend, two in three, shift: its side (above or below; for a trend, the direction it runs)
//!   against the improvement direction.

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Increase,
    Decrease,
    Neutral,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Increase => "up",
            Direction::Decrease => "down",
            Direction::Neutral => "neutral",
        }
    }

    fn sign(self) -> i8 {
        match self {
            Direction::Increase => 1,
            Direction::Decrease => -1,
            Direction::Neutral => 0,
        }
    }
}

/// The special-cause rules, in the order their labels are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    OutsideLimits,
    Trend,
    TwoInThree,
    Shift,
}

impl Rule {
    pub const ALL: [Rule; 4] = [
        Rule::OutsideLimits,
        Rule::Trend,
        Rule::TwoInThree,
        Rule::Shift,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::OutsideLimits => "outside_limits",
            Rule::Trend => "trend",
            Rule::TwoInThree => "two_in_three",
            Rule::Shift => "shift",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The rules that flag a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rules(u8);

impl Rules {
    pub fn has(self, r: Rule) -> bool {
        self.0 & r.bit() != 0
    }

    fn add(&mut self, r: Rule) {
        self.0 |= r.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `none`, or the rules joined with `+` in their order (`outside_limits+shift`).
    pub fn label(self) -> String {
        if self.is_empty() {
            return "none".into();
        }
        let names: Vec<&str> = Rule::ALL
            .iter()
            .filter(|r| self.has(**r))
            .map(|r| r.as_str())
            .collect();
        names.join("+")
    }
}

/// What a point means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointType {
    CommonCause,
    Improvement,
    Concern,
    /// Special cause where neither direction is better.
    Neutral,
}

impl PointType {
    pub fn as_str(self) -> &'static str {
        match self {
            PointType::CommonCause => "common_cause",
            PointType::Improvement => "improvement",
            PointType::Concern => "concern",
            PointType::Neutral => "neutral",
        }
    }
}

/// The assurance icon: whether the process will meet its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    /// The target is beyond the limits on the side of improvement: met every time.
    ConsistentPass,
    /// The target is beyond the limits on the side of concern: missed every time.
    ConsistentFail,
    /// The target lies between the limits: met some months and not others.
    Inconsistent,
}

impl Assurance {
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::ConsistentPass => "consistent_pass",
            Assurance::ConsistentFail => "consistent_fail",
            Assurance::Inconsistent => "inconsistent",
        }
    }
}

/// The options of one chart.
#[derive(Debug, Clone, PartialEq)]
pub struct SpcOptions {
    pub direction: Direction,
    /// The points the mean and limits are computed from (fixed after them); `None`: all.
    /// Within each part of a rebased chart, the part's points among them (all of the part's
    /// when none is).
    pub baseline: Option<std::ops::Range<usize>>,
    pub screen_outliers: bool,
    pub target: Option<f64>,
    /// The points where the process is taken to have changed (NHSRplotthedots' `rebase`):
    /// from each, the mean and limits are computed afresh, and the rules run within each part
    /// alone. Points out of range, and 0, are ignored.
    pub rebase: Vec<usize>,
    /// A run of this many points or more on one side of the mean, reaching the latest point,
    /// suggests a rebase at its first point ([`Spc::suggested_rebase`]); 0: never.
    pub suggest_run: usize,
}

impl Default for SpcOptions {
    fn default() -> SpcOptions {
        SpcOptions {
            direction: Direction::Neutral,
            baseline: None,
            screen_outliers: false,
            target: None,
            rebase: Vec::new(),
            suggest_run: SUGGEST_RUN,
        }
    }
}

/// The run on one side of the mean that suggests a rebase, by default: 7, the shift rule's.
pub const SUGGEST_RUN: usize = 7;

/// One point of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct SpcPoint {
    pub value: f64,
    pub rules: Rules,
    pub point_type: PointType,
    /// +1 above the mean (or a rising trend), −1 below (or a falling one), 0 common cause.
    pub side: i8,
}

/// One part of a chart, from its start (0, or a rebase) to the next: its centre line and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The points of the part.
    pub points: std::ops::Range<usize>,
    pub mean: f64,
    pub lower_process_limit: f64,
    pub upper_process_limit: f64,
    /// Fewer than 12 points behind the limits: they are trial limits.
    pub trial_limits: bool,
}

/// A chart: its points, centre line and limits, and its icons.
#[derive(Debug, Clone, PartialEq)]
pub struct Spc {
    pub points: Vec<SpcPoint>,
    /// The parts of the chart: one, or one more for each rebase.
    pub segments: Vec<Segment>,
    /// The latest part's centre line and limits (the ones the assurance icon is read from).
    pub mean: f64,
    pub lower_process_limit: f64,
    pub upper_process_limit: f64,
    /// Fewer than 12 points behind the latest part's limits: they are trial limits.
    pub trial_limits: bool,
    /// The first point of a run of [`SpcOptions::suggest_run`] or more on one side of the
    /// mean that reaches the latest point: the process may have changed there. Only
    /// suggested: *Making Data Count* recalculates limits for a known change, not for a run
    /// alone.
    pub suggested_rebase: Option<usize>,
    /// The month (index into the series' months) of each point: 0, 1, 2... unless months
    /// are missing (suppressed counts: [`xmr_with_gaps`]), which are then gaps.
    pub at: Vec<usize>,
    /// The variation icon, from the last point: `common_cause`, `improvement_high`,
    /// `improvement_low`, `concern_high`, `concern_low`, `neutral_high`, `neutral_low`.
    pub variation: &'static str,
    /// Against the target, when there is one and a direction of improvement.
    pub assurance: Option<Assurance>,
}

/// The limits are trial limits when fewer points than this are behind them.
pub const MIN_POINTS_FOR_LIMITS: usize = 12;
/// Process limits: mean ± this many mean moving ranges (3 / d2, d2 = 1.128).
pub const LIMIT: f64 = 2.66;
/// Moving ranges at or above this many times their mean are screened out, when asked.
pub const OUTLIER_MR: f64 = 3.267;

fn sign(v: f64) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values {
        sum += v;
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// 1 at a point ending 7 on one side of the mean (`relative`: the signs of value − mean).
fn seven_one_side(relative: &[i8]) -> Vec<bool> {
    (0..relative.len())
        .map(|i| i >= 6 && relative[i] != 0 && relative[i - 6..i].iter().all(|&r| r == relative[i]))
        .collect()
}

/// +1 / −1 at a point ending 7 strictly rising / falling points, else 0.
fn seven_trend(values: &[f64]) -> Vec<i8> {
    (0..values.len())
        .map(|i| {
            if i < 6 {
                return 0;
            }
            let d: Vec<i8> = (i - 6..i)
                .map(|j| sign(values[j + 1] - values[j]))
                .collect();
            if d.iter().all(|&s| s == 1) {
                1
            } else if d.iter().all(|&s| s == -1) {
                -1
            } else {
                0
            }
        })
        .collect()
}

/// Every point of a run of 7: a point whose own or one of the next 6 points ends one.
fn part_of_seven(ends: &[bool]) -> Vec<bool> {
    (0..ends.len())
        .map(|i| ends[i..(i + 7).min(ends.len())].iter().any(|&e| e))
        .collect()
}

/// Two in three: the point is beyond two thirds of the way to a limit (`close`) and, in one of
/// the three windows of three consecutive points it belongs to, at least two are close and all
/// three are on the same side of the mean.
fn two_in_three(close: &[bool], relative: &[i8]) -> Vec<bool> {
    let n = close.len() as isize;
    let at = |j: isize| -> (u8, i8) {
        if j < 0 || j >= n {
            (0, 0)
        } else {
            (close[j as usize] as u8, relative[j as usize])
        }
    };
    (0..n)
        .map(|i| {
            let window = |a: isize| {
                let (mut c, mut r) = (0u8, 0i8);
                for j in a..a + 3 {
                    let (cj, rj) = at(j);
                    c += cj;
                    r += rj;
                }
                c >= 2 && r.abs() == 3
            };
            close[i as usize] && (window(i - 2) || window(i - 1) || window(i))
        })
        .collect()
}

/// One part of a chart: `values` are the part's, `base` the points its limits come from.
fn part(values: &[f64], base: std::ops::Range<usize>, o: &SpcOptions) -> (Vec<SpcPoint>, Segment) {
    let n = values.len();
    let fixed = &values[base.clone()];
    let centre = mean(fixed.iter().copied());
    let ranges: Vec<f64> = fixed.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mut amr = mean(ranges.iter().copied());
    if o.screen_outliers {
        amr = mean(ranges.iter().copied().filter(|&r| r < OUTLIER_MR * amr));
    }
    let (lpl, upl) = (centre - LIMIT * amr, centre + LIMIT * amr);
    let close_by = 2.0 * (LIMIT / 3.0);
    let (nlpl, nupl) = (centre - close_by * amr, centre + close_by * amr);

    let outside: Vec<bool> = values.iter().map(|&y| y > upl || y < lpl).collect();
    let relative: Vec<i8> = values.iter().map(|&y| sign(y - centre)).collect();
    let close: Vec<bool> = values
        .iter()
        .zip(&outside)
        .map(|(&y, &out)| !out && (y < nlpl || y > nupl))
        .collect();
    let trend_ends = seven_trend(values);
    let trend = part_of_seven(&trend_ends.iter().map(|&t| t != 0).collect::<Vec<_>>());
    let two = two_in_three(&close, &relative);
    let shift = part_of_seven(&seven_one_side(&relative));

    let steps: Vec<i8> = values.windows(2).map(|w| sign(w[1] - w[0])).collect();
    let points: Vec<SpcPoint> = (0..n)
        .map(|i| {
            let mut rules = Rules::default();
            for (rule, on) in [
                (Rule::OutsideLimits, outside[i]),
                (Rule::Trend, trend[i]),
                (Rule::TwoInThree, two[i]),
                (Rule::Shift, shift[i]),
            ] {
                if on {
                    rules.add(rule);
                }
            }
            let above_or_below = if relative[i] > 0 { 1 } else { -1 };
            let side = if rules.has(Rule::OutsideLimits) {
                if relative[i] == 1 {
                    1
                } else {
                    -1
                }
            } else if rules.has(Rule::Trend) {
                // The direction the trend runs: the step to the next point when that one is
                // in the trend too, else the step from the previous one.
                let right = trend.get(i + 1).copied().unwrap_or(false);
                let step = if right {
                    steps.get(i).or(steps.last()).copied().unwrap_or(0)
                } else if i == 0 {
                    0
                } else {
                    steps[i - 1]
                };
                if step == 1 {
                    1
                } else {
                    -1
                }
            } else if rules.is_empty() {
                0
            } else {
                above_or_below
            };
            let point_type = match (side, o.direction.sign()) {
                (0, _) => PointType::CommonCause,
                (_, 0) => PointType::Neutral,
                (s, d) if s == d => PointType::Improvement,
                _ => PointType::Concern,
            };
            SpcPoint {
                value: values[i],
                rules,
                point_type,
                side,
            }
        })
        .collect();
    let segment = Segment {
        points: 0..n,
        mean: centre,
        lower_process_limit: lpl,
        upper_process_limit: upl,
        trial_limits: fixed.len() < MIN_POINTS_FOR_LIMITS,
    };
    (points, segment)
}

/// The XmR chart of `values` (in time order, no gaps), in parts when it is rebased.
pub fn xmr(values: &[f64], o: &SpcOptions) -> Spc {
    let n = values.len();
    let mut starts: Vec<usize> = o
        .rebase
        .iter()
        .copied()
        .filter(|&r| r > 0 && r < n)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts.insert(0, 0);
    let mut points = Vec::with_capacity(n);
    let mut segments = Vec::with_capacity(starts.len());
    for (k, &a) in starts.iter().enumerate() {
        let z = starts.get(k + 1).copied().unwrap_or(n);
        // The part's own points among the baseline; all of the part's when none is.
        let base = match &o.baseline {
            Some(b) if b.start.max(a) < b.end.min(z) => b.start.max(a) - a..b.end.min(z) - a,
            _ => 0..z - a,
        };
        let (p, mut segment) = part(&values[a..z], base, o);
        segment.points = a..z;
        points.extend(p);
        segments.push(segment);
    }
    let last = segments.last().cloned().unwrap_or(Segment {
        points: 0..0,
        mean: f64::NAN,
        lower_process_limit: f64::NAN,
        upper_process_limit: f64::NAN,
        trial_limits: true,
    });
    let (centre, lpl, upl) = (
        last.mean,
        last.lower_process_limit,
        last.upper_process_limit,
    );
    // The run on one side of its part's mean that reaches the latest point.
    let suggested_rebase = (o.suggest_run > 0 && n > 0)
        .then(|| {
            let side = |i: usize| sign(values[i] - segment_of(&segments, i).mean);
            let s = side(n - 1);
            let mut first = n - 1;
            while s != 0 && first > last.points.start && side(first - 1) == s {
                first -= 1;
            }
            (s != 0 && n - first >= o.suggest_run && first > last.points.start).then_some(first)
        })
        .flatten();

    let variation = match points.last() {
        None => "common_cause",
        Some(p) => match (p.point_type, p.side > 0) {
            (PointType::CommonCause, _) => "common_cause",
            (PointType::Improvement, true) => "improvement_high",
            (PointType::Improvement, false) => "improvement_low",
            (PointType::Concern, true) => "concern_high",
            (PointType::Concern, false) => "concern_low",
            (PointType::Neutral, true) => "neutral_high",
            (PointType::Neutral, false) => "neutral_low",
        },
    };
    let assurance = match (o.target, o.direction) {
        (None, _) | (_, Direction::Neutral) => None,
        (Some(t), d) => Some(if t > upl {
            if d == Direction::Increase {
                Assurance::ConsistentFail
            } else {
                Assurance::ConsistentPass
            }
        } else if t < lpl {
            if d == Direction::Increase {
                Assurance::ConsistentPass
            } else {
                Assurance::ConsistentFail
            }
        } else {
            Assurance::Inconsistent
        }),
    };
    Spc {
        points,
        mean: centre,
        lower_process_limit: lpl,
        upper_process_limit: upl,
        trial_limits: last.trial_limits,
        segments,
        suggested_rebase,
        at: (0..n).collect(),
        variation,
        assurance,
    }
}

/// The XmR chart of the months whose value is known, in order, where others are hidden (a
/// suppressed count): the rules and limits run over the points shown, as if the gaps were
/// not there, and [`Spc::at`] places each point at its month. `o`'s baseline and rebases are
/// months; each becomes the points within or after it.
pub fn xmr_with_gaps(values: &[Option<f64>], o: &SpcOptions) -> Spc {
    let at: Vec<usize> = (0..values.len()).filter(|&k| values[k].is_some()).collect();
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    // The first point at or after month `m`.
    let point = |m: usize| at.partition_point(|&k| k < m);
    let options = SpcOptions {
        baseline: o
            .baseline
            .as_ref()
            .map(|b| point(b.start)..point(b.end))
            .filter(|b| !b.is_empty()),
        rebase: o.rebase.iter().map(|&m| point(m)).collect(),
        ..o.clone()
    };
    let mut spc = xmr(&known, &options);
    spc.at = at;
    spc
}

fn segment_of(segments: &[Segment], i: usize) -> &Segment {
    let k = segments.partition_point(|s| s.points.start <= i);
    &segments[k.saturating_sub(1)]
}

impl Spc {
    /// The part of the chart point `i` is in: its centre line and limits.
    pub fn segment(&self, i: usize) -> &Segment {
        segment_of(&self.segments, i)
    }

    /// The month (index into the series' months) of point `i`: `i` itself unless months are
    /// gaps ([`xmr_with_gaps`]).
    pub fn month_of(&self, i: usize) -> usize {
        self.at.get(i).copied().unwrap_or(i)
    }

    /// Point `i` starts a part of its own (a rebase).
    pub fn rebased_at(&self, i: usize) -> bool {
        i > 0 && self.segments.iter().any(|s| s.points.start == i)
    }
}

#[cfg(test)]
mod tests;
