//! Unit tests of `followup`.

use super::*;

fn state(current: bool, high: bool, now: bool, long: bool) -> MonthState {
    MonthState {
        month: 0,
        latest_item: 0,
        current,
        ome_mg_day: 0.0,
        window_ome_mg: 0.0,
        high_dose: high,
        high_dose_now: now,
        long_term: long,
    }
}

#[test]
fn month_ends_before_a_date() {
    let d = |y, m, dd| days_from_civil(y, m, dd).unwrap();
    assert_eq!(month_end_before(d(2026, 10, 31), 1), d(2026, 9, 30));
    assert_eq!(month_end_before(d(2026, 10, 15), 1), d(2026, 9, 30));
    assert_eq!(month_end_before(d(2026, 3, 31), 1), d(2026, 2, 28));
    assert_eq!(month_end_before(d(2026, 2, 10), 3), d(2025, 11, 30));
    assert_eq!(month_end_before(d(2026, 10, 31), 12), d(2025, 10, 31));
}

#[test]
fn status_by_hand() {
    assert_eq!(Status::of(true, false), Status::Continuing);
    assert_eq!(Status::of(true, true), Status::Continuing);
    assert_eq!(Status::of(false, true), Status::Returned);
    assert_eq!(Status::of(false, false), Status::New);
}

#[test]
fn each_why_in_its_order() {
    let high_then = state(true, true, true, false);
    let long_then = state(true, false, false, true);
    let co_only_then = state(true, false, false, false);
    let listed_now = state(true, false, false, true);
    let low_now = state(true, false, false, false);
    let stopped = state(false, false, false, false);
    let base = Change {
        listed_now: false,
        co_then: false,
        co_now: false,
        covered: true,
        excluded: false,
        same_practice: true,
    };
    let w = |then: &MonthState, now: &MonthState, c: Change| {
        why_resolved(then, now, &c).map(Why::as_str)
    };
    let listed = Change {
        listed_now: true,
        ..base
    };
    let excluded = Change {
        excluded: true,
        same_practice: false,
        ..listed
    };
    assert_eq!(w(&high_then, &listed_now, excluded), Some("excluded"));
    let moved = Change {
        same_practice: false,
        ..listed
    };
    assert_eq!(w(&high_then, &listed_now, moved), Some("moved practice"));
    assert_eq!(w(&high_then, &listed_now, listed), None);
    // Still listed (a supply running on), though nothing was issued since: not resolved.
    let quiet = Change {
        covered: false,
        ..listed
    };
    assert_eq!(w(&high_then, &listed_now, quiet), None);
    let gone = Change {
        covered: false,
        ..base
    };
    assert_eq!(
        w(&high_then, &stopped, gone),
        Some("no longer in the extract")
    );
    assert_eq!(w(&high_then, &stopped, base), Some("stopped"));
    assert_eq!(w(&high_then, &low_now, base), Some("below threshold"));
    assert_eq!(w(&long_then, &low_now, base), Some("no longer long-term"));
    let co = Change {
        co_then: true,
        ..base
    };
    assert_eq!(
        w(&co_only_then, &low_now, co),
        Some("no longer co-prescribed")
    );
    let co_still = Change { co_now: true, ..co };
    assert_eq!(
        w(&co_only_then, &low_now, co_still),
        Some("below threshold")
    );
}

#[test]
fn abrupt_stop_by_hand() {
    let s = FollowUpSettings::default();
    // 120, 120, 120, 120 then nothing: abrupt.
    assert!(abrupt_stop(&[120.0, 120.0, 120.0, 120.0], &s));
    // Last month 49.9: under 50 mg/day, not abrupt.
    assert!(!abrupt_stop(&[60.0, 55.0, 52.0, 49.9], &s));
    // 50 exactly is "at least 50".
    assert!(abrupt_stop(&[60.0, 55.0, 52.0, 50.0], &s));
    // Brought down first: 240 → 110 is below half (120) of the month before.
    assert!(!abrupt_stop(&[240.0, 110.0, 100.0, 100.0], &s));
    // Exactly half is not below half: still abrupt.
    assert!(abrupt_stop(&[240.0, 120.0, 120.0, 120.0], &s));
}

/// Twelve month ends and the audit date: `before` at every date up to index 10, then
/// the last two.
fn path(before: f64, last: f64, now: f64) -> [f64; 13] {
    let mut t = [before; 13];
    t[11] = last;
    t[12] = now;
    t
}

fn label(t: &[f64; 13], long_term: bool) -> &'static str {
    trajectory(t, long_term, &FollowUpSettings::default())
        .label
        .as_str()
}

#[test]
fn a_steady_dose_has_no_label() {
    let t = trajectory(&[80.0; 13], true, &FollowUpSettings::default());
    assert_eq!(t.label, DoseTrend::None);
    assert_eq!((t.ome_mg_day_3m_ago, t.ome_mg_day_12m_peak), (80.0, 80.0));
    assert_eq!(t.change_from_peak_pct, Some(0.0));
    assert_eq!(t.largest_monthly_drop_pct, Some(0.0));
    assert_eq!(t.dose_mg_day, 80.0);
}

#[test]
fn tapering_is_sustained_and_not_rising() {
    // Peak 100; 85 at the last two dates is exactly 15% below: tapering.
    assert_eq!(label(&path(100.0, 85.0, 85.0), true), "tapering");
    // 85.1 now: 14.9% below: nothing.
    assert_eq!(label(&path(100.0, 85.0, 85.1), true), "");
    // Only the audit date below (one month end is not sustained): nothing.
    assert_eq!(label(&path(100.0, 90.0, 80.0), true), "");
    // Both below, but rising from 70 to 80: not tapering.
    assert_eq!(label(&path(100.0, 70.0, 80.0), true), "");
    // A fall of exactly 40% (100 → 60) is not more than 40%: tapering.
    let t = trajectory(&path(100.0, 60.0, 60.0), true, &FollowUpSettings::default());
    assert_eq!(t.largest_monthly_drop_pct, Some(40.0));
    assert_eq!(t.change_from_peak_pct, Some(-40.0));
    assert_eq!(t.label, DoseTrend::Tapering);
    // 100 → 59.9 is 40.1%: rapid in a long-term patient, tapering in another.
    assert_eq!(label(&path(100.0, 59.9, 59.9), true), "rapid");
    assert_eq!(label(&path(100.0, 59.9, 59.9), false), "tapering");
    // Two steps of 30% (100 → 70 → 49): tapering, not rapid.
    assert_eq!(label(&path(100.0, 70.0, 49.0), true), "tapering");
    // A fall of 50% seven months back (t[5] → t[6]), then steady at half: tapering; the
    // same fall six months back (t[6] → t[7]) is rapid.
    let mut t = [100.0; 13];
    t[6..].fill(50.0);
    let r = trajectory(&t, true, &FollowUpSettings::default());
    assert_eq!(
        (r.label, r.largest_monthly_drop_pct),
        (DoseTrend::Tapering, Some(0.0))
    );
    t[6] = 100.0;
    assert_eq!(label(&t, true), "rapid");
}

#[test]
fn escalation_at_its_edges() {
    // 60 → 100 mg/day over two months: 100 is 67% above 60 (three month ends before),
    // 80 33% above 60: escalating.
    let t = path(60.0, 80.0, 100.0);
    assert_eq!(label(&t, true), "escalating");
    // 60 → 75 at the last two dates: exactly 25% above, in the same band: escalating;
    // 74.9 (24.8%): nothing.
    assert_eq!(label(&path(60.0, 75.0, 75.0), true), "escalating");
    assert_eq!(label(&path(60.0, 75.0, 74.9), true), "");
    // Only the audit date up: not sustained.
    assert_eq!(label(&path(60.0, 60.0, 80.0), true), "");
    // 45 → 50: 11% above, but across 50 into a higher band at both dates: escalating;
    // 49.9 stays in its band.
    assert_eq!(label(&path(45.0, 50.0, 50.0), true), "escalating");
    assert_eq!(label(&path(45.0, 49.9, 49.9), true), "");
    // 115 → 121: across 120 (exactly 120 is not above it).
    assert_eq!(label(&path(115.0, 121.0, 121.0), true), "escalating");
    assert_eq!(label(&path(115.0, 120.0, 120.0), true), "");
    // A start from nothing is not an escalation.
    assert_eq!(label(&path(0.0, 60.0, 100.0), false), "");
}

#[test]
fn a_rise_after_a_taper_is_re_escalating() {
    // MST 30 mg bd (60 mg/day), then 15 mg bd (30) at two month ends, then 30 mg bd
    // again: 60 at the last two dates is 100% above the taper's 30.
    let mut t = [60.0; 13];
    t[9] = 30.0;
    t[10] = 30.0;
    let r = trajectory(&t, true, &FollowUpSettings::default());
    assert_eq!(r.label, DoseTrend::ReEscalating);
    assert_eq!(r.ome_mg_day_3m_ago, 30.0);
    // A one-month dip is not a taper: nothing.
    let mut t = [60.0; 13];
    t[10] = 30.0;
    assert_eq!(label(&t, true), "");
    // Back up by less than 25% of the taper's lowest (30 → 37): still a taper, and a
    // rapid one (60 → 30 in a month is a fall of 50%); 37.5: re-escalating.
    let mut t = [60.0; 13];
    t[9] = 30.0;
    t[10] = 30.0;
    t[11] = 37.0;
    t[12] = 37.0;
    assert_eq!(label(&t, true), "rapid");
    assert_eq!(label(&t, false), "tapering");
    t[11] = 37.5;
    t[12] = 37.5;
    assert_eq!(label(&t, true), "re-escalating");
}

#[test]
fn priority_tiers_at_their_edges() {
    let base = PriorityFacts {
        above_threshold: false,
        ome_mg_day: 40.0,
        co_prescribed: false,
        trend: DoseTrend::None,
        dose_mg_day: 40.0,
        stopped_abruptly_from: None,
    };
    let tier = |f: PriorityFacts| priority(&f, 120.0).0;
    assert_eq!(tier(base), 4);
    let high = PriorityFacts {
        above_threshold: true,
        ome_mg_day: 130.0,
        dose_mg_day: 130.0,
        ..base
    };
    assert_eq!(tier(high), 2);
    assert_eq!(
        priority(
            &PriorityFacts {
                co_prescribed: true,
                ..high
            },
            120.0
        ),
        (
            1,
            "above 120 mg/day with a gabapentinoid, benzodiazepine or Z-drug".to_string()
        )
    );
    // Rising: above 90 is tier 1, exactly 90 tier 3.
    let rising = PriorityFacts {
        trend: DoseTrend::Escalating,
        dose_mg_day: 90.1,
        ..base
    };
    assert_eq!(tier(rising), 1);
    assert_eq!(
        tier(PriorityFacts {
            dose_mg_day: 90.0,
            ..rising
        }),
        3
    );
    let re = PriorityFacts {
        trend: DoseTrend::ReEscalating,
        ..rising
    };
    assert_eq!(tier(re), 1);
    // A CNS depressant at 50 mg/day (28-day mean) is tier 3; at 49.9 tier 4.
    let co = PriorityFacts {
        co_prescribed: true,
        ome_mg_day: 50.0,
        ..base
    };
    assert_eq!(tier(co), 3);
    assert_eq!(
        tier(PriorityFacts {
            ome_mg_day: 49.9,
            ..co
        }),
        4
    );
    // An abrupt stop comes first.
    let (t, why) = priority(
        &PriorityFacts {
            stopped_abruptly_from: Some(64.29),
            ..base
        },
        120.0,
    );
    assert_eq!(t, 1);
    assert!(
        why.starts_with("stopped abruptly from 64.3 mg/day"),
        "{why}"
    );
}
