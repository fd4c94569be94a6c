//! Unit tests of `timeline`.

use super::*;

/// [`super::measure`] with days as plain numbers, as the hand-worked cases give them.
fn measure(
    items: &[ExposureItem],
    as_of: i32,
    first: i32,
    s: &TimelineSettings,
) -> PatientMeasures {
    super::measure(items, Day(as_of), Day(first), s)
}

fn item(product: u32, day: i32, days: f64, ome: f64) -> ExposureItem {
    ExposureItem {
        product,
        issue_day: Day(day),
        days_supply: days,
        total_ome_mg: ome,
        instructed_ome_mg_day: None,
        days_assumed: false,
    }
}

#[test]
fn carry_forward_and_concurrent() {
    // Two 28-day issues of one product, the second 14 days early.
    let items = [item(1, 0, 28.0, 2800.0), item(1, 14, 28.0, 2800.0)];
    let c = coverage(&items, Stockpile::Carry);
    assert_eq!((c[1].start, c[1].end), (28.0, 56.0));
    let c = coverage(&items, Stockpile::Concurrent);
    assert_eq!((c[1].start, c[1].end), (14.0, 42.0));
    // Different products are concurrent.
    let items = [item(1, 0, 28.0, 2800.0), item(2, 14, 28.0, 2800.0)];
    assert_eq!(coverage(&items, Stockpile::Carry)[1].start, 14.0);
}

#[test]
fn episodes_merge_within_grace() {
    let c = |s: f64, e: f64| Coverage {
        start: s,
        end: e,
        rate_mg_day: 1.0,
    };
    // Gap of exactly 30 days merges; 31 does not.
    assert_eq!(episodes(&[c(0.0, 28.0), c(58.0, 86.0)], 30.0).len(), 1);
    assert_eq!(episodes(&[c(0.0, 28.0), c(59.0, 87.0)], 30.0).len(), 2);
    // Issued the day the supply runs out: gap 0.
    assert_eq!(episodes(&[c(0.0, 28.0), c(28.0, 56.0)], 0.0).len(), 1);
}

/// The layout's latest episode is [`episodes`]' last, on spans in every order: ties,
/// overlaps, gaps of exactly the grace period and more (a fixed pseudo-random walk).
#[test]
fn layout_latest_episode_is_episodes_last() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _ in 0..2000 {
        let len = 1 + next(9) as usize;
        let items: Vec<ExposureItem> = (0..len)
            .map(|_| {
                let days = [7.0, 28.0, 30.0, 56.0 / 3.0, 0.0][next(5) as usize];
                item(next(3) as u32, next(200) as i32, days, 100.0)
            })
            .collect();
        let mut items = items;
        items.sort_by_key(|i| i.issue_day);
        for stockpile in [Stockpile::Carry, Stockpile::Concurrent] {
            for grace in [0.0, 30.0] {
                let mut layout = Layout::default();
                layout.place(&items, stockpile);
                let cover = coverage(&items, stockpile);
                assert_eq!(layout.coverage(), &cover[..]);
                assert_eq!(
                    layout.latest_episode(grace),
                    episodes(&cover, grace).last().copied(),
                    "{items:?}"
                );
            }
        }
    }
}

/// Issue 12.13: three carried-forward supplies of 56/3 days from day 0 end exactly on
/// day 56 (in floating point the sum is 56.00000000000001). At `as_of` 56 none of them
/// covers the day: no current dose, no instructed dose, and the window ends with them.
#[test]
fn a_fractional_chain_ends_on_the_day() {
    let days = 56.0 / 3.0;
    let mut items = vec![item(1, 0, days, 280.0); 3];
    for i in &mut items {
        i.instructed_ome_mg_day = Some(15.0);
    }
    let c = coverage(&items, Stockpile::Carry);
    assert_eq!(c[2].end, 56.0);
    let m = measure(&items, 56, 0, &TimelineSettings::default());
    assert_eq!(m.current_ome_mg_day, 0.0);
    assert_eq!(m.instructed_ome_mg_day, None);
    // Window days 29..=56: days 29..56 are covered at 15 mg/day (280 / 18.67): 27 days.
    assert!(
        (m.window_ome_mg - 27.0 * 15.0).abs() < 1e-9,
        "{}",
        m.window_ome_mg
    );
    // One day earlier, the third supply covers as_of.
    let m = measure(&items, 55, 0, &TimelineSettings::default());
    assert!((m.current_ome_mg_day - 15.0).abs() < 1e-9);
    assert_eq!(m.instructed_ome_mg_day, Some(15.0));
}

/// Issue 12.4: today's dose. A fentanyl 75 micrograms/hour patch (180 mg/day) started ten
/// days before `as_of`: the 28-day mean is 10 × 180 / 28 = 64.29, not high dose; today's
/// dose is 180, so `high_dose_now`. With a 20 mg/day item alongside, today's rate adds.
#[test]
fn current_dose_on_the_audit_date() {
    let s = TimelineSettings::default();
    // 4 patches × 3 days = 12 days at 180 mg/day, issued on day 91 (as_of 100).
    let patch = item(1, 91, 12.0, 12.0 * 180.0);
    let m = measure(std::slice::from_ref(&patch), 100, 0, &s);
    assert!(
        (m.ome_mg_day - 10.0 * 180.0 / 28.0).abs() < 1e-9,
        "{}",
        m.ome_mg_day
    );
    assert!(!m.high_dose);
    assert!((m.current_ome_mg_day - 180.0).abs() < 1e-9);
    assert!(m.high_dose_now);
    let m = measure(&[patch, item(2, 80, 28.0, 560.0)], 100, 0, &s);
    assert!((m.current_ome_mg_day - 200.0).abs() < 1e-9);
    // Exactly at the threshold is not above it.
    let m = measure(&[item(1, 91, 28.0, 28.0 * 120.0)], 100, 0, &s);
    assert!((m.current_ome_mg_day - 120.0).abs() < 1e-9);
    assert!(!m.high_dose_now);
}

#[test]
fn window_mean_and_partial_days() {
    // 12.5 days at 10 mg/day from day 100, all inside the window ending on day 115:
    // 125 mg over 28 days; the 13th day (112) is half covered.
    let s = TimelineSettings::default();
    let m = measure(&[item(1, 100, 12.5, 125.0)], 115, 0, &s);
    assert!((m.window_ome_mg - 125.0).abs() < 1e-9);
    assert!((m.ome_mg_day - 125.0 / 28.0).abs() < 1e-9);
    assert!((m.peak_ome_mg_day - 10.0).abs() < 1e-9);
    assert_eq!(DoseBand::of(120.0), DoseBand::From90To120);
    assert_eq!(DoseBand::of(120.000001), DoseBand::Above120);
    assert_eq!(DoseBand::of(90.0), DoseBand::From90To120);
    assert_eq!(DoseBand::of(89.99), DoseBand::From50To90);
    assert_eq!(DoseBand::of(50.0), DoseBand::From50To90);
    assert_eq!(DoseBand::of(49.99), DoseBand::Below50);
    let names: Vec<&str> = DoseBand::ALL.iter().map(|b| b.as_str()).collect();
    assert_eq!(names, ["<50", "50-<90", "90-120", ">120"]);
}

#[test]
fn month_states_equal_measure_at_each_month_end() {
    // Two products, a gap, a restart, an early repeat: at every day over a year, the month
    // state (when current) is measure()'s at that date from the items up to it.
    let items = vec![
        item(1, 0, 28.0, 28.0 * 60.0),
        item(1, 20, 28.0, 28.0 * 60.0),
        item(2, 30, 14.0, 14.0 * 200.0),
        item(1, 60, 28.0, 28.0 * 90.0),
        item(1, 150, 10.5, 10.5 * 40.0),
        item(2, 151, 30.0, 30.0 * 130.0),
        item(1, 300, 28.0, 28.0 * 20.0),
    ];
    let s = TimelineSettings::default();
    let days: Vec<Day> = (0..400).map(Day).collect();
    let mut states = Vec::new();
    month_states(&items, &days, &s, &mut states);
    let mut next = states.iter().peekable();
    let mut current_days = 0;
    for &d in &days {
        let upto: Vec<ExposureItem> = items.iter().filter(|i| i.issue_day <= d).cloned().collect();
        let m = measure(&upto, d.0, 0, &s);
        if !m.current {
            assert!(
                next.peek().is_none_or(|st| st.month != d.0 as usize),
                "day {}",
                d.0
            );
            continue;
        }
        current_days += 1;
        let st = next.next().expect("a state for a current day");
        assert_eq!(st.month, d.0 as usize);
        assert_eq!(st.latest_item, upto.len() - 1);
        assert_eq!(st.ome_mg_day, m.ome_mg_day, "day {}", d.0);
        assert_eq!(st.window_ome_mg, m.window_ome_mg);
        assert_eq!(st.high_dose, m.high_dose, "day {}", d.0);
        assert_eq!(st.long_term, m.long_term, "day {}", d.0);
        assert_eq!(st.high_dose_now, m.high_dose_now, "day {}", d.0);
        assert!(st.current);
    }
    assert!(next.next().is_none());
    // Current on most days, not all (the gaps are longer than the grace period).
    assert!((200..400).contains(&current_days), "{current_days}");
    // With `all`, a state for every day, and the window mean measure()'s when not current.
    let mut every = Vec::new();
    month_states_all(&items, &days, &s, true, &mut every);
    assert_eq!(every.len(), days.len());
    for (st, &d) in every.iter().zip(&days) {
        let upto: Vec<ExposureItem> = items.iter().filter(|i| i.issue_day <= d).cloned().collect();
        let m = measure(&upto, d.0, 0, &s);
        assert_eq!(
            (st.current, st.ome_mg_day),
            (m.current, m.ome_mg_day),
            "day {}",
            d.0
        );
        assert_eq!(st.listed(), m.high_dose || m.long_term || m.high_dose_now);
    }
}
