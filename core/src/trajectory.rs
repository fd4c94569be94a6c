//! A patient's dose at a month end as they take it, not as supplies happened to be collected
//! (METHOD.md §11, "The dose trajectory"): the measure under the taper and escalation labels
//! and the 12-month peak. The 28-day mean stays the measure of the audit (§7); this one is
//! robust to the timing of supplies:
//! - each product counts at the instructed dose of its latest issue, where the directions
//!   were read, else at its supply rate across the episode (its OME over its days of supply,
//!   so a gap between supplies is not a fall);
//! - a product counts until its supply, carried forward, ended more than the grace period
//!   before the date (a gap shorter than the grace days is not a fall);
//! - a product is superseded once another product of the same ingredient, route and release
//!   (a switch: MST Continus → Zomorph, fentanyl 25 → 50 micrograms/hour) has been issued
//!   after its latest issue, unless the two have been issued alternately (an issue of the
//!   other between two of its own: taken together). A superseded product's remaining supply
//!   is not added on top: until its next issue was due (after the days between its last two
//!   issues, or its latest's days of supply, the longer), the group counts the larger of it
//!   and the products that replaced it, so a switch down shows once it is confirmed, and an
//!   add-on first issued after the regular product is not mistaken for a fall.

use crate::timeline::{Coverage, ExposureItem, EPS};
use crate::values::Day;

/// Products of one ingredient, route and release: a new one issued after another is a
/// switch ([`switch_group`]).
pub type SwitchGroup = u64;

/// The switch group of a product: equal for products of one ingredient, route and release,
/// within a run.
pub fn switch_group(p: &crate::product::Product) -> SwitchGroup {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    (&p.ingredient, p.route.as_str(), p.release.as_str()).hash(&mut h);
    h.finish()
}

/// The dose trajectory (mg OME a day) at `date` from a patient's items issued on or before it
/// (`items` in issue order, `groups` their switch groups, `cover` their places on the
/// timeline). 0 when no episode is current at the date.
pub fn dose_at(
    items: &[ExposureItem],
    groups: &[SwitchGroup],
    cover: &[Coverage],
    date: Day,
    grace_days: f64,
) -> f64 {
    let mut scratch = Scratch::default();
    scratch.place(cover);
    scratch.dose_at(items, groups, cover, date, grace_days)
}

/// [`dose_at`]'s working space, kept from one date and one patient to the next (millions of
/// patients at 13 dates each allocate next to nothing).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Item indexes by (start, end) of their coverage.
    by_start: Vec<usize>,
    in_episode: Vec<usize>,
    products: Vec<ProductAt>,
    /// Per switch group: the products taken now, summed; the largest superseded product not
    /// yet due.
    by_group: Vec<(SwitchGroup, f64, f64)>,
}

/// One product of the episode at a date.
#[derive(Debug, Clone, Copy)]
struct ProductAt {
    product: u32,
    first_day: Day,
    /// Its latest issue (the last in issue order).
    latest: usize,
    /// The issue date before the latest one's.
    previous_day: Option<Day>,
    /// The end of its supply, carried forward.
    end: f64,
    ome: f64,
    days: f64,
}

impl Scratch {
    /// Order a patient's items by their coverage, once for all their dates.
    pub fn place(&mut self, cover: &[Coverage]) {
        self.by_start.clear();
        self.by_start.extend(0..cover.len());
        self.by_start.sort_by(|&a, &b| {
            let (a, b) = (&cover[a], &cover[b]);
            a.start.total_cmp(&b.start).then(a.end.total_cmp(&b.end))
        });
    }

    /// [`dose_at`] of the items last placed.
    pub fn dose_at(
        &mut self,
        items: &[ExposureItem],
        groups: &[SwitchGroup],
        cover: &[Coverage],
        date: Day,
        grace_days: f64,
    ) -> f64 {
        let k = items.partition_point(|it| it.issue_day <= date);
        if k == 0 {
            return 0.0;
        }
        let d = date.axis();
        // The current episode at the date: spans merged while the gap is within the grace period
        // (as `timeline::episodes`), the latest kept.
        let mut episode: Option<(f64, f64)> = None;
        for &i in self.by_start.iter().filter(|&&i| i < k) {
            let (s, e) = (cover[i].start, cover[i].end);
            episode = match episode {
                Some((ls, le)) if s - le <= grace_days + EPS => Some((ls, le.max(e))),
                _ => Some((s, e)),
            };
        }
        let Some((episode_start, episode_end)) = episode else {
            return 0.0;
        };
        if d - episode_end > grace_days + EPS {
            return 0.0;
        }
        // Each product of the episode in one pass over its issues (in issue order).
        let (in_episode, products) = (&mut self.in_episode, &mut self.products);
        in_episode.clear();
        in_episode.extend((0..k).filter(|&i| cover[i].start >= episode_start - EPS));
        products.clear();
        for &i in in_episode.iter() {
            let it = &items[i];
            let slot = match products.iter().position(|p| p.product == it.product) {
                Some(s) => s,
                None => {
                    products.push(ProductAt {
                        product: it.product,
                        first_day: it.issue_day,
                        latest: i,
                        previous_day: None,
                        end: f64::NEG_INFINITY,
                        ome: 0.0,
                        days: 0.0,
                    });
                    products.len() - 1
                }
            };
            let p = &mut products[slot];
            if it.issue_day > items[p.latest].issue_day {
                p.previous_day = Some(items[p.latest].issue_day);
            }
            p.latest = i;
            p.end = p.end.max(cover[i].end);
            p.ome += it.total_ome_mg;
            p.days += it.days_supply;
        }
        let (in_episode, products) = (&*in_episode, &*products);
        // Per switch group: the products taken now, summed, and the largest superseded product
        // whose next issue is not yet due.
        let by_group = &mut self.by_group;
        by_group.clear();
        for p in products {
            if d - p.end > grace_days + EPS {
                continue;
            }
            let latest_day = items[p.latest].issue_day;
            let group = groups[p.latest];
            let superseded = products.iter().any(|q| {
                q.product != p.product
                    && groups[q.latest] == group
                    && items[q.latest].issue_day > latest_day
                    && !in_episode.iter().any(|&i| {
                        items[i].product == q.product
                            && items[i].issue_day > p.first_day
                            && items[i].issue_day < latest_day
                    })
            });
            let rate = match items[p.latest].instructed_ome_mg_day {
                Some(instructed) => instructed,
                None if p.days > EPS => p.ome / p.days,
                None => 0.0,
            };
            let slot = match by_group.iter().position(|g| g.0 == group) {
                Some(k) => k,
                None => {
                    by_group.push((group, 0.0, 0.0));
                    by_group.len() - 1
                }
            };
            // A superseded product's next issue was due after its usual interval (the days
            // between its last two issues, or the days of supply of its latest, the longer):
            // until then the switch is not confirmed.
            let interval = p.previous_day.map_or(0.0, |day| (latest_day - day) as f64);
            let due = latest_day.axis() + interval.max(items[p.latest].days_supply);
            if !superseded {
                by_group[slot].1 += rate;
            } else if d < due - EPS {
                by_group[slot].2 = by_group[slot].2.max(rate);
            }
        }
        by_group.iter().map(|g| g.1.max(g.2)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{coverage, Stockpile};

    /// An item: product, issue day, days of supply, OME/day (instructed when `read`).
    fn item(product: u32, day: i32, days: f64, mg_day: f64, read: bool) -> ExposureItem {
        ExposureItem {
            product,
            issue_day: Day(day),
            days_supply: days,
            total_ome_mg: mg_day * days,
            instructed_ome_mg_day: read.then_some(mg_day),
            days_assumed: false,
        }
    }

    fn at(items: &[ExposureItem], groups: &[SwitchGroup], date: i32) -> f64 {
        let date = Day(date);
        let cover = coverage(items, Stockpile::Carry);
        dose_at(items, groups, &cover, date, 30.0)
    }

    #[test]
    fn a_gap_shorter_than_the_grace_days_is_not_a_fall() {
        // Palexia SR 100 mg twice a day (tapentadol × 0.4: 80 mg OME/day), 56 tablets every
        // 28 days, the fourth collected 22 days late. At day 106 (the 22nd day of the gap)
        // the 28-day mean is 80 × 6 / 28 = 17.1; the trajectory is 80, read or not.
        for read in [true, false] {
            let items: Vec<ExposureItem> = [0, 28, 56, 106, 134]
                .iter()
                .map(|&d| item(1, d, 28.0, 80.0, read))
                .collect();
            let groups = vec![7; items.len()];
            for date in [27, 83, 100, 105, 120, 150] {
                assert_eq!(at(&items, &groups, date), 80.0, "day {date}, read {read}");
            }
            // After the last supply (days 134–162) the grace period runs to day 192.
            assert_eq!(at(&items, &groups, 192), 80.0);
            assert_eq!(at(&items, &groups, 193), 0.0);
        }
    }

    #[test]
    fn unread_directions_take_the_supply_rate_across_the_episode() {
        // 60 mg/day for 28 days, then 40 mg/day for 28: 2800 mg over 56 days = 50.
        let items = vec![
            item(1, 0, 28.0, 60.0, false),
            item(1, 28, 28.0, 40.0, false),
        ];
        assert_eq!(at(&items, &[1, 1], 40), 50.0);
        // The first alone: 60.
        assert_eq!(at(&items, &[1, 1], 20), 60.0);
    }

    #[test]
    fn a_switch_at_the_same_dose_makes_no_peak() {
        // MST Continus 30 mg twice a day (product 1, 60 mg/day) on days 0, 28, 56; Zomorph
        // 30 mg twice a day (product 2, the same ingredient, route and release) from day 70,
        // while 14 days of MST are left. The 28-day mean at day 80 adds the two (MST runs on
        // to day 84): (60 × 28 + 60 × 11) / 28 = 83.6. The trajectory is 60.
        let items = vec![
            item(1, 0, 28.0, 60.0, true),
            item(1, 28, 28.0, 60.0, true),
            item(1, 56, 28.0, 60.0, true),
            item(2, 70, 28.0, 60.0, true),
            item(2, 98, 28.0, 60.0, true),
        ];
        let groups = [5; 5];
        for date in [60, 70, 80, 84, 100, 120] {
            assert_eq!(at(&items, &groups, date), 60.0, "day {date}");
        }
        // A product of another group (an immediate-release liquid beside the MST, here also
        // 60 mg/day) is not a switch: 60 + 60 while the MST runs on.
        let mut groups = groups;
        groups[3] = 6;
        groups[4] = 6;
        assert_eq!(at(&items, &groups, 80), 120.0);
    }

    #[test]
    fn products_issued_alternately_are_taken_together() {
        // Fentanyl 50 (product 1, 120 mg/day) and 25 (product 2, 60) micrograms/hour
        // patches, issued on different days: 50 on days 0, 30, 60; 25 on days 10, 40, 70.
        let items = vec![
            item(1, 0, 30.0, 120.0, true),
            item(2, 10, 30.0, 60.0, true),
            item(1, 30, 30.0, 120.0, true),
            item(2, 40, 30.0, 60.0, true),
            item(1, 60, 30.0, 120.0, true),
            item(2, 70, 30.0, 60.0, true),
        ];
        let groups = [3; 6];
        // From the second issue of each, a 25 lies between two 50s and a 50 between two
        // 25s: 180.
        assert_eq!(at(&items, &groups, 45), 180.0);
        assert_eq!(at(&items, &groups, 75), 180.0);
        // Before that (day 20) the 25 issued after the only 50 reads as a switch from it;
        // the 50's supply still runs, so the group counts the larger: 120. A month end like
        // this one is why each label needs two month ends.
        assert_eq!(at(&items, &groups, 20), 120.0);
        // Issued on the same day, neither is after the other: 180 from the start.
        let same_day = vec![item(1, 0, 30.0, 120.0, true), item(2, 0, 30.0, 60.0, true)];
        assert_eq!(at(&same_day, &[3, 3], 5), 180.0);
    }

    #[test]
    fn back_to_the_first_product_after_a_switch() {
        // MST 30 mg bd (product 1, 60) on days 0, 28, 56; MST 15 mg bd (product 2, 30) on
        // days 84, 112; MST 30 mg bd again on days 140, 168.
        let items = vec![
            item(1, 0, 28.0, 60.0, true),
            item(1, 28, 28.0, 60.0, true),
            item(1, 56, 28.0, 60.0, true),
            item(2, 84, 28.0, 30.0, true),
            item(2, 112, 28.0, 30.0, true),
            item(1, 140, 28.0, 60.0, true),
            item(1, 168, 28.0, 60.0, true),
        ];
        let groups = [2; 7];
        assert_eq!(at(&items, &groups, 80), 60.0);
        // The 30 mg tablets' next issue was due on day 84 (every 28 days): from then the
        // 15s alone.
        assert_eq!(at(&items, &groups, 90), 30.0);
        assert_eq!(at(&items, &groups, 130), 30.0);
        // Product 1's issue on day 140 is after product 2's latest, and product 1 was not
        // issued between product 2's two issues: product 2 is superseded.
        assert_eq!(at(&items, &groups, 150), 60.0);
    }

    #[test]
    fn a_switch_down_counts_the_old_dose_while_its_supply_runs() {
        // MST 60 mg/day (product 1) on day 0 for 28 days; MST 30 mg/day (product 2) from day
        // 20. Day 25: the 60's next issue is not yet due (day 28): 60 (not 90). Day 28 on:
        // 30.
        let items = vec![item(1, 0, 28.0, 60.0, true), item(2, 20, 28.0, 30.0, true)];
        assert_eq!(at(&items, &[4, 4], 25), 60.0);
        assert_eq!(at(&items, &[4, 4], 28), 30.0);
        // And a switch up counts the new dose at once: 60 → 120 from day 20.
        let up = vec![item(1, 0, 28.0, 60.0, true), item(2, 20, 28.0, 120.0, true)];
        assert_eq!(at(&up, &[4, 4], 25), 120.0);
    }

    #[test]
    fn an_add_on_issued_after_a_regular_product_is_not_a_fall() {
        // Co-codamol 30/500 "2 every 4-6 hours, max 8 a day" (24 mg/day, 100 tablets: 12.5
        // days) every 31 days (days 0, 31); co-codamol 8/500 (6.4 mg/day) first on day 46.
        // Day 57: the 30/500's next issue is due on day 62: the larger, 24 (not 6.4).
        let items = vec![
            item(1, 0, 12.5, 24.0, true),
            item(1, 31, 12.5, 24.0, true),
            item(2, 46, 12.5, 6.4, true),
            item(1, 62, 12.5, 24.0, true),
        ];
        assert_eq!(at(&items, &[8; 4], 57), 24.0);
        // Day 70: the 30/500 came again after the 8/500's only issue, so the 8/500 reads as
        // superseded, and its next issue was due on day 58.5: the 30/500 alone, 24.
        assert_eq!(at(&items, &[8; 4], 70), 24.0);
    }

    #[test]
    fn nothing_current_is_zero() {
        let items = vec![item(1, 100, 28.0, 60.0, true)];
        assert_eq!(at(&items, &[1], 99), 0.0);
        assert_eq!(at(&items, &[1], 158), 60.0);
        assert_eq!(at(&items, &[1], 159), 0.0);
    }
}
