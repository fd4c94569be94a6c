//! Unit tests of `spc`.

use super::*;

fn opts(direction: Direction) -> SpcOptions {
    SpcOptions {
        direction,
        baseline: None,
        screen_outliers: false,
        target: None,
        rebase: Vec::new(),
        suggest_run: SUGGEST_RUN,
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// NHSRplotthedots' test data: `set.seed(123); rnorm(20)` (R's values, to 8 digits).
const RNORM_123: [f64; 20] = [
    -0.56047565,
    -0.23017749,
    1.55870831,
    0.07050839,
    0.12928774,
    1.71506499,
    0.46091621,
    -1.26506123,
    -0.68685285,
    -0.44566197,
    1.22408180,
    0.35981383,
    0.40077145,
    0.11068272,
    -0.55584113,
    1.78691314,
    0.49785048,
    -1.96661716,
    0.70135590,
    -0.47279141,
];

#[test]
fn the_reference_example_has_the_published_mean_and_limits() {
    // tests/testthat/_snaps/ptd_spc_standard.md and ptd_spc.md: mean 0.142, limits
    // -3.01 and 3.29 (screen_outliers = TRUE, the R package's default); all 20 points
    // common cause.
    let o = SpcOptions {
        screen_outliers: true,
        ..opts(Direction::Increase)
    };
    let s = xmr(&RNORM_123, &o);
    assert_eq!(round(s.mean, 3), 0.142);
    assert_eq!(round(s.lower_process_limit, 2), -3.01);
    assert_eq!(round(s.upper_process_limit, 2), 3.29);
    assert!(s
        .points
        .iter()
        .all(|p| p.point_type == PointType::CommonCause));
    assert_eq!(s.variation, "common_cause");
    assert!(!s.trial_limits);
    // The same data in two facets of 10 (ptd_spc.md): 0.0746 (-2.60, 2.75) and 0.209
    // (-3.28, 3.70); ten points each, so their limits are trial limits.
    for (half, m, l, u) in [(0..10, 0.0746, -2.60, 2.75), (10..20, 0.209, -3.28, 3.70)] {
        let s = xmr(&RNORM_123[half], &o);
        let digits = if m < 0.1 { 4 } else { 3 };
        assert_eq!(round(s.mean, digits), m);
        assert_eq!(round(s.lower_process_limit, 2), l);
        assert_eq!(round(s.upper_process_limit, 2), u);
        assert!(s.trial_limits);
    }
}

#[test]
fn screening_outliers_narrows_the_limits_as_the_reference_does() {
    // test-ptd_spc_standard.R: y[15] <- 10; limits differ with and without screening,
    // and are wider without it.
    let mut y = RNORM_123;
    y[14] = 10.0;
    let on = xmr(
        &y,
        &SpcOptions {
            screen_outliers: true,
            ..opts(Direction::Increase)
        },
    );
    let off = xmr(&y, &opts(Direction::Increase));
    assert!(
        off.upper_process_limit - off.lower_process_limit
            > on.upper_process_limit - on.lower_process_limit
    );
    // By hand: the moving ranges into and out of 10 (10.5558 and 8.2131) are screened.
    let ranges: Vec<f64> = y.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let amr = ranges.iter().sum::<f64>() / 19.0;
    let kept: Vec<f64> = ranges
        .iter()
        .copied()
        .filter(|r| *r < 3.267 * amr)
        .collect();
    assert_eq!(kept.len(), 17);
    let amr2 = kept.iter().sum::<f64>() / 17.0;
    assert!((on.upper_process_limit - (on.mean + 2.66 * amr2)).abs() < 1e-12);
}

#[test]
fn two_close_points_on_opposite_sides_are_common_cause() {
    // test-ptd_spc_standard.R: symmetrical data, then 5.5 and -5.5 at the end.
    let mut y: Vec<f64> = (0..16)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    y[14] = 5.5;
    y[15] = -5.5;
    let s = xmr(&y, &opts(Direction::Increase));
    assert_eq!(s.points[14].point_type, PointType::CommonCause);
    assert_eq!(s.points[15].point_type, PointType::CommonCause);
}

#[test]
fn rule_helpers_match_the_reference_tests() {
    // test-ptd_calculate_point_type.R, vector for vector.
    let ones = |n: usize, v: i8| vec![v; n];
    assert_eq!(seven_one_side(&ones(6, 1)), vec![false; 6]);
    let mut v = ones(6, 1);
    v.push(-1);
    assert_eq!(seven_one_side(&v), vec![false; 7]);
    let mut v = ones(8, 1);
    v.push(-1);
    let want = [0, 0, 0, 0, 0, 0, 1, 1, 0].map(|x| x == 1).to_vec();
    assert_eq!(seven_one_side(&v), want);
    let mut v = ones(8, -1);
    v.push(1);
    assert_eq!(seven_one_side(&v), want);

    let f = |v: &[f64]| seven_trend(v);
    assert_eq!(f(&[1., 2., 3., 4., 5., 6.]), vec![0; 6]);
    assert_eq!(f(&[1., 2., 3., 3., 4., 5., 6.]), vec![0; 7]);
    assert_eq!(f(&[1., 2., 3., 4., 5., 6., 7.]), vec![0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(
        f(&[2., 1., 2., 3., 4., 5., 6., 7., 3.]),
        vec![0, 0, 0, 0, 0, 0, 0, 1, 0]
    );
    assert_eq!(f(&[7., 6., 5., 4., 3., 2., 1.]), vec![0, 0, 0, 0, 0, 0, -1]);
    assert_eq!(
        f(&[2., 7., 6., 5., 4., 3., 2., 1., 3.]),
        vec![0, 0, 0, 0, 0, 0, 0, -1, 0]
    );

    // ptd_two_in_three with every point on one side, then the part-of rule (the point
    // itself must be close).
    let b = |v: &[u8]| v.iter().map(|&x| x == 1).collect::<Vec<_>>();
    let same_side = |n: usize| vec![1i8; n];
    for (close, want) in [
        (vec![1, 0, 1], vec![1, 0, 1]),
        (vec![0, 1, 1], vec![0, 1, 1]),
        (vec![1, 1, 0], vec![1, 1, 0]),
        (vec![0, 0, 1, 0, 1, 0, 0], vec![0, 0, 1, 0, 1, 0, 0]),
        (vec![0, 0, 1, 1, 0, 0, 0], vec![0, 0, 1, 1, 0, 0, 0]),
        (vec![1, 0, 0, 1], vec![0, 0, 0, 0]),
        (vec![1, 0, 0, 1, 1], vec![0, 0, 0, 1, 1]),
    ] {
        let n = close.len();
        assert_eq!(
            two_in_three(&b(&close), &same_side(n)),
            b(&want),
            "{close:?}"
        );
    }
}

#[test]
fn assurance_matches_the_reference_tests() {
    // test-ptd_calculate_assurance_type.R: limits (1, 3), (5, 7), (1, 5), target 4.
    let chart = |lpl: f64, upl: f64, d: Direction| {
        // Two points at the limits' midpoint ± half their width / 2.66 give those limits.
        let (m, half) = ((lpl + upl) / 2.0, (upl - lpl) / 2.0 / 2.66);
        let s = xmr(
            &[m - half / 2.0, m + half / 2.0],
            &SpcOptions {
                target: Some(4.0),
                ..opts(d)
            },
        );
        assert!((s.lower_process_limit - lpl).abs() < 1e-9);
        s.assurance.map(Assurance::as_str)
    };
    let up: Vec<_> = [(1.0, 3.0), (5.0, 7.0), (1.0, 5.0)]
        .iter()
        .map(|&(l, u)| chart(l, u, Direction::Increase))
        .collect();
    assert_eq!(
        up,
        [
            Some("consistent_fail"),
            Some("consistent_pass"),
            Some("inconsistent")
        ]
    );
    let down: Vec<_> = [(1.0, 3.0), (5.0, 7.0), (1.0, 5.0)]
        .iter()
        .map(|&(l, u)| chart(l, u, Direction::Decrease))
        .collect();
    assert_eq!(
        down,
        [
            Some("consistent_pass"),
            Some("consistent_fail"),
            Some("inconsistent")
        ]
    );
    assert_eq!(chart(1.0, 5.0, Direction::Neutral), None);
}

/// Twelve points alternating 10 ± 1 (mean 10, mean moving range 2, limits 4.68 and
/// 15.32), then `tail`.
fn with_tail(tail: &[f64]) -> Spc {
    let mut y: Vec<f64> = (0..12)
        .map(|i| if i % 2 == 0 { 9.0 } else { 11.0 })
        .collect();
    y.extend_from_slice(tail);
    xmr(
        &y,
        &SpcOptions {
            baseline: Some(0..12),
            ..opts(Direction::Decrease)
        },
    )
}

#[test]
fn a_shift_needs_seven_points_and_a_point_on_the_mean_breaks_it() {
    // Limits from the first 12 points: mean 10, mean moving range 2, limits 4.68, 15.32,
    // two thirds of the way at 6.453 and 13.547.
    let s = with_tail(&[8.0, 8.5, 8.0, 8.5, 8.0, 8.5]);
    assert_eq!(s.mean, 10.0);
    assert!((s.upper_process_limit - 15.32).abs() < 1e-12);
    assert!(
        s.points.iter().all(|p| p.rules.is_empty()),
        "6 below: no shift"
    );
    let s = with_tail(&[8.0, 8.5, 8.0, 8.5, 8.0, 8.5, 8.0]);
    // The 12th point (11) is above; the 7 after it below: all 7 flagged, improvement.
    assert!(s.points[..12].iter().all(|p| p.rules.is_empty()));
    for p in &s.points[12..] {
        assert_eq!(p.rules.label(), "shift");
        assert_eq!(p.point_type, PointType::Improvement);
    }
    assert_eq!(s.variation, "improvement_low");
    let s = with_tail(&[8.0, 8.5, 8.0, 10.0, 8.0, 8.5, 8.0]);
    assert!(s.points.iter().all(|p| p.rules.is_empty()), "on the mean");
}

#[test]
fn a_trend_needs_seven_strict_steps_and_a_tie_breaks_it() {
    // 9.6 .. 12.0 rising: 7 points, all inside the limits, on both sides of the mean.
    let s = with_tail(&[9.6, 10.0, 10.4, 10.8, 11.2, 11.6, 12.0]);
    for p in &s.points[12..] {
        assert!(p.rules.has(Rule::Trend), "{}", p.rules.label());
        // Rising is a concern when down is better, whichever side of the mean.
        assert_eq!(p.point_type, PointType::Concern);
        assert_eq!(p.side, 1);
    }
    assert_eq!(s.variation, "concern_high");
    let s = with_tail(&[9.6, 10.0, 10.4, 10.4, 11.2, 11.6, 12.0]);
    assert!(s.points.iter().all(|p| !p.rules.has(Rule::Trend)), "a tie");
}

#[test]
fn two_in_three_on_one_side_only_and_labels_in_order() {
    // 14 and 14.5 are beyond 13.547 (two thirds to 15.32) and inside the limit.
    let s = with_tail(&[14.0, 10.5, 14.5]);
    assert_eq!(s.points[12].rules.label(), "two_in_three");
    assert_eq!(s.points[13].rules.label(), "none", "not close itself");
    assert_eq!(s.points[14].rules.label(), "two_in_three");
    assert_eq!(s.points[14].point_type, PointType::Concern);
    // The middle point below the mean: the three are not on one side.
    let s = with_tail(&[14.0, 9.5, 14.5]);
    assert!(s.points.iter().all(|p| p.rules.is_empty()));
    // Opposite sides: 14 above, 6 below.
    let s = with_tail(&[14.0, 6.0]);
    assert!(s.points.iter().all(|p| p.rules.is_empty()));
    // Outside the limits and part of a shift at once: both named, outside first.
    let s = with_tail(&[8.0, 8.5, 8.0, 8.5, 8.0, 8.5, 4.0]);
    assert_eq!(s.points[18].rules.label(), "outside_limits+shift");
    assert_eq!(s.points[18].point_type, PointType::Improvement);
}

#[test]
fn a_neutral_measure_has_neutral_special_causes_and_no_assurance() {
    let mut y: Vec<f64> = (0..12)
        .map(|i| if i % 2 == 0 { 9.0 } else { 11.0 })
        .collect();
    y.push(20.0);
    let s = xmr(
        &y,
        &SpcOptions {
            target: Some(5.0),
            ..opts(Direction::Neutral)
        },
    );
    assert_eq!(s.points[12].point_type, PointType::Neutral);
    assert_eq!(s.variation, "neutral_high");
    assert_eq!(s.assurance, None);
}

/// Rebasing as NHSRplotthedots does (`ptd_spc_standard`: the mean, moving ranges and limits
/// grouped by rebase group; `ptd_calculate_point_type`: the rules within each group), worked
/// by hand. Six points around 1.83, then six around 10.83, rebased at the seventh.
#[test]
fn a_rebase_starts_new_limits_and_the_rules_run_within_each_part() {
    let v = [
        1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 10.0, 11.0, 12.0, 11.0, 10.0, 11.0,
    ];
    let whole = xmr(&v, &opts(Direction::Decrease));
    // One process: mean 76/12 = 6.333, moving ranges 1,1,1,1,1,8,1,1,1,1,1 → 18/11, limits
    // 6.333 ± 2.66 × 1.636: the first and last points are outside.
    assert_eq!(round(whole.mean, 3), 6.333);
    assert_eq!(round(whole.upper_process_limit, 3), 10.686);
    assert_eq!(whole.segments.len(), 1);
    assert!(whole.points[0].rules.has(Rule::OutsideLimits));
    let o = SpcOptions {
        rebase: vec![6],
        ..opts(Direction::Decrease)
    };
    let c = xmr(&v, &o);
    assert_eq!(c.segments.len(), 2);
    // Part 1: mean 11/6 = 1.833, moving ranges all 1 (the jump 2 → 10 is in neither part):
    // limits 1.833 ± 2.66 = −0.827 and 4.493.
    let (a, b) = (&c.segments[0], &c.segments[1]);
    assert_eq!(a.points, 0..6);
    assert_eq!(
        (
            round(a.mean, 3),
            round(a.lower_process_limit, 3),
            round(a.upper_process_limit, 3)
        ),
        (1.833, -0.827, 4.493)
    );
    // Part 2: mean 65/6 = 10.833, limits 8.173 and 13.493; the chart's own lines are the
    // latest part's.
    assert_eq!(b.points, 6..12);
    assert_eq!(
        (
            round(b.mean, 3),
            round(b.lower_process_limit, 3),
            round(b.upper_process_limit, 3)
        ),
        (10.833, 8.173, 13.493)
    );
    assert_eq!(
        (c.mean, c.upper_process_limit),
        (b.mean, b.upper_process_limit)
    );
    // Six points a part: no run of seven, nothing outside: all common cause.
    assert!(c
        .points
        .iter()
        .all(|p| p.point_type == PointType::CommonCause));
    assert_eq!(c.variation, "common_cause");
    assert!(c.rebased_at(6) && !c.rebased_at(5) && !c.rebased_at(0));
    assert_eq!(c.segment(5).points, 0..6);
    assert_eq!(c.segment(6).points, 6..12);
    // Both parts have fewer than 12 points: trial limits.
    assert!(a.trial_limits && c.trial_limits);
    // The package's own test: 20 points rebased at the 11th make groups 0 (10) and 1 (10);
    // a rebase at 0 or past the end changes nothing.
    let twenty: Vec<f64> = (0..20).map(|i| (i % 3) as f64).collect();
    let groups = xmr(
        &twenty,
        &SpcOptions {
            rebase: vec![10, 0, 25],
            ..opts(Direction::Decrease)
        },
    );
    let parts: Vec<_> = groups.segments.iter().map(|s| s.points.clone()).collect();
    assert_eq!(parts, [0..10, 10..20]);
}

/// Seven points below the mean to the latest suggest a rebase at the first of them; the
/// suggestion is only a suggestion (the limits are unchanged), and is gone once the chart is
/// rebased there.
#[test]
fn a_run_to_the_latest_point_suggests_a_rebase_and_does_not_make_it() {
    let v = [
        5.0, 5.0, 6.0, 5.0, 4.0, 5.0, 6.0, 5.0, 4.0, 5.0, 2.0, 2.0, 1.0, 2.0, 2.0, 1.0, 2.0,
    ];
    // Mean 62/17 = 3.647: the first ten above, the last seven below.
    let c = xmr(&v, &opts(Direction::Decrease));
    assert_eq!(round(c.mean, 3), 3.647);
    assert_eq!(c.suggested_rebase, Some(10));
    assert_eq!(c.segments.len(), 1);
    // The first ten are a run too, but it does not reach the latest point.
    let run8 = xmr(
        &v,
        &SpcOptions {
            suggest_run: 8,
            ..opts(Direction::Decrease)
        },
    );
    assert_eq!(run8.suggested_rebase, None);
    let off = xmr(
        &v,
        &SpcOptions {
            suggest_run: 0,
            ..opts(Direction::Decrease)
        },
    );
    assert_eq!(off.suggested_rebase, None);
    // Rebased at 10: the new part's mean is 12/7 = 1.714, the latest point (2) is above it
    // and the one before (1) below: no run, no suggestion.
    let rebased = xmr(
        &v,
        &SpcOptions {
            rebase: vec![10],
            ..opts(Direction::Decrease)
        },
    );
    assert_eq!(round(rebased.mean, 3), 1.714);
    assert_eq!(rebased.suggested_rebase, None);
}

/// Suppressed months are gaps (issue 27.5): the chart runs over the months shown, each placed
/// at its month, and the baseline and rebases, given as months, become the points within
/// and after them. By hand: 2, _, 4, 2, _, 4: the points 2, 4, 2, 4 at months 0, 2, 3, 5;
/// mean 3, moving ranges 2, 2, 2, limits 3 ± 5.32.
#[test]
fn suppressed_months_are_gaps_and_months_become_points() {
    let v = [Some(2.0), None, Some(4.0), Some(2.0), None, Some(4.0)];
    let c = xmr_with_gaps(&v, &opts(Direction::Decrease));
    assert_eq!(c.at, [0, 2, 3, 5]);
    assert_eq!(c.points.len(), 4);
    assert_eq!(
        (
            c.mean,
            round(c.lower_process_limit, 2),
            round(c.upper_process_limit, 2)
        ),
        (3.0, -2.32, 8.32)
    );
    // A baseline of months 0 to 2 is the points at months 0 and 2: mean 3, one range of 2.
    let b = xmr_with_gaps(
        &v,
        &SpcOptions {
            baseline: Some(0..3),
            ..opts(Direction::Decrease)
        },
    );
    assert_eq!((b.mean, round(b.upper_process_limit, 2)), (3.0, 8.32));
    // A rebase at month 4 (hidden) starts the part at the next point shown, month 5.
    let r = xmr_with_gaps(
        &v,
        &SpcOptions {
            rebase: vec![4],
            ..opts(Direction::Decrease)
        },
    );
    let parts: Vec<_> = r.segments.iter().map(|s| s.points.clone()).collect();
    assert_eq!(parts, [0..3, 3..4]);
    // Without gaps, every point is at its own month.
    assert_eq!(
        xmr(&[1.0, 2.0, 3.0], &opts(Direction::Decrease)).at,
        [0, 1, 2]
    );
}
