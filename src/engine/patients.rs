//! From the rows to the patients (METHOD.md §6–§8): items grouped by patient, each patient's
//! timeline and measures from the core ([`crate::timeline`], [`crate::patient`]) on two
//! threads, then the summaries ([`crate::summary`]).

use std::collections::BTreeMap;

use super::{AuditConfig, AuditResult, DaysSource, PatientRow, ResolvedRow};
use crate::followup::{
    abrupt_stop, month_end_before, priority, trajectory, why_resolved, Change, PriorityFacts,
    Status, Why,
};
use crate::summary::{summarise, CohortSummary};
use crate::timeline::ExposureItem;
use crate::timeline::{Layout, MonthState};
use crate::values::Day;

/// What the rows become once every file is read: the current patients with their measures,
/// the summaries, and the warnings about practices.
#[derive(Debug, Default)]
pub struct Completion {
    pub patients: Vec<PatientRow>,
    pub resolved: Vec<ResolvedRow>,
    pub practice_summaries: Vec<CohortSummary>,
    pub ics_summaries: Vec<CohortSummary>,
    pub warnings: Vec<String>,
    /// Each practice's ICS and its unresolved items, for the summaries.
    practice_ics: BTreeMap<String, String>,
    practice_unresolved: BTreeMap<String, u64>,
}

/// Timelines, flags and summaries from the rows (METHOD.md §6–§8). It borrows the rows, so
/// that items.csv can be written from them at the same time.
pub fn complete(r: &AuditResult, config: &AuditConfig) -> Completion {
    let mut c = complete_patients(r, config);
    (c.practice_summaries, c.ics_summaries) = c.summaries(config);
    crate::timing::lap("summaries");
    c
}

/// [`complete`] without the summaries, which [`Completion::summaries`] works out from it (the
/// audit does so while the patient lists are written).
pub fn complete_patients(r: &AuditResult, config: &AuditConfig) -> Completion {
    let (patients, resolved) = patient_rows(r, config);
    crate::timing::lap("timelines");
    let ics = |practice: &str, extract_ics: &str| config.ics_of(practice, extract_ics);
    let mut practice_ics: BTreeMap<String, String> = BTreeMap::new();
    let mut practice_unresolved: BTreeMap<String, u64> = BTreeMap::new();
    for (id, seen) in r.practice_ics_seen.iter().enumerate() {
        let code = &r.practice_codes[id];
        if let Some(seen_ics) = seen {
            practice_ics.insert(code.clone(), ics(code, &r.ics_codes[*seen_ics as usize]));
        }
        if r.practice_unresolved[id] > 0 {
            practice_unresolved.insert(code.clone(), r.practice_unresolved[id]);
        }
    }
    let unknown: Vec<&String> = practice_ics
        .iter()
        .filter(|(_, ics)| *ics == "UNKNOWN")
        .map(|(p, _)| p)
        .collect();
    let mut warnings = Vec::new();
    if r.accounting.bnf_leading_zero_restored > 0 {
        warnings.push(crate::error::with_hint(
            format!(
                "{} BNF codes had 14 characters (a leading zero lost in a spreadsheet) and were \
             read with the zero restored",
                r.accounting.bnf_leading_zero_restored
            ),
            "export code columns as text",
        ));
    }
    if !unknown.is_empty() {
        warnings.push(crate::error::with_hint(
            format!(
                "{} practice(s) have no ICS ({}): they are summarised under UNKNOWN",
                unknown.len(),
                unknown
                    .iter()
                    .take(5)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "give \
             --practices with a practice_code,ics_code mapping, epraccur.csv or \
             gp-reg-pat-prac-map.csv",
        ));
    }
    Completion {
        patients,
        resolved,
        practice_summaries: Vec::new(),
        ics_summaries: Vec::new(),
        warnings,
        practice_ics,
        practice_unresolved,
    }
}

impl Completion {
    /// The practice and ICS summaries of the patients (METHOD.md §8).
    pub fn summaries(&self, config: &AuditConfig) -> (Vec<CohortSummary>, Vec<CohortSummary>) {
        summarise(
            &self.patients,
            &self.resolved,
            &self.practice_ics,
            &self.practice_unresolved,
            config,
        )
    }
}

impl AuditResult {
    /// Take in the patients and summaries worked out by [`complete`].
    pub fn complete_with(&mut self, c: Completion) {
        self.patients = c.patients;
        self.resolved = c.resolved;
        self.practice_summaries = c.practice_summaries;
        self.ics_summaries = c.ics_summaries;
        self.warnings.extend(c.warnings);
    }
}

/// Items grouped by patient (a counting sort on the interned ids, so one pass): `work` is
/// given each half of the patients on its own thread, as `(first, end, starts, order)`:
/// the patients `first..end`, and the indexes of their items in `order` (which starts at
/// `starts[first]`; patient `p`'s items are `order[starts[p] - starts[first]..starts[p + 1] -
/// starts[first]]`, in file order). Returns the two halves' results in patient order.
pub(crate) fn by_patient<T: Send>(
    r: &AuditResult,
    work: impl Fn(usize, usize, &[usize], &mut [u32]) -> T + Sync,
) -> (T, T) {
    let items = &r.items;
    let mut starts = vec![0usize; r.patient_ids.len() + 1];
    for it in items {
        starts[it.patient as usize + 1] += 1;
    }
    for p in 1..starts.len() {
        starts[p] += starts[p - 1];
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; items.len()];
    for (i, it) in items.iter().enumerate() {
        let slot = &mut next[it.patient as usize];
        order[*slot] = i as u32;
        *slot += 1;
    }
    let half = r.patient_ids.len() / 2;
    let (lo, hi) = order.split_at_mut(starts[half]);
    let (starts, work) = (&starts, &work);
    let (lower, upper) = std::thread::scope(|s| {
        let upper = s.spawn(move || work(half, r.patient_ids.len(), starts, hi));
        (work(0, half, starts, lo), upper.join())
    });
    match upper {
        Ok(upper) => (lower, upper),
        // A panic in the thread is a bug; it is not swallowed.
        Err(e) => std::panic::resume_unwind(e),
    }
}

/// A patient's items in issue order (a stable sort by day of their file order, so ties keep
/// (file, line)), and their exposure on the timeline.
pub(crate) fn exposure_of(
    r: &AuditResult,
    config: &AuditConfig,
    group: &mut [u32],
    exposure: &mut Vec<ExposureItem>,
) {
    let items = &r.items;
    group.sort_by_key(|&i| items[i as usize].issue_day);
    exposure.clear();
    exposure.extend(group.iter().map(|&i| {
        let it = &items[i as usize];
        let v = r.item_values(it, config);
        ExposureItem {
            product: r.products[it.product as usize].key,
            issue_day: it.issue_day,
            days_supply: v.days_supply,
            total_ome_mg: v.total_ome_mg,
            instructed_ome_mg_day: v.instructed_ome_mg_day,
            days_assumed: v.days_supply_source == DaysSource::Default,
        }
    }));
}

/// The dates of the follow-up (METHOD.md §11), as indexes into one ascending list of days.
struct FollowUpDates {
    dates: Vec<Day>,
    previous_day: Day,
    /// The previous audit date.
    previous: usize,
    /// The 12 month ends before it ("returned").
    earlier: Vec<usize>,
    /// The 12 month ends before the audit date, oldest first (the dose trajectory).
    taper_days: [Day; 12],
    /// The three month ends before the previous date and the previous date (abrupt stops).
    before_stop: [usize; 4],
}

impl FollowUpDates {
    fn new(as_of: Day, previous: Day) -> FollowUpDates {
        let earlier: Vec<Day> = (1..=12).map(|k| month_end_before(previous, k)).collect();
        let taper: Vec<Day> = (1..=12).rev().map(|k| month_end_before(as_of, k)).collect();
        let stop = [
            month_end_before(previous, 3),
            month_end_before(previous, 2),
            month_end_before(previous, 1),
            previous,
        ];
        let mut dates: Vec<Day> = earlier.iter().chain(&stop).copied().collect();
        dates.sort_unstable();
        dates.dedup();
        let at = |d: Day| dates.binary_search(&d).unwrap_or(0);
        FollowUpDates {
            previous_day: previous,
            previous: at(previous),
            earlier: earlier.iter().map(|&d| at(d)).collect(),
            taper_days: std::array::from_fn(|k| taper[k]),
            before_stop: stop.map(at),
            dates,
        }
    }
}

/// The previous audit date: `--previous-as-of`, else the last day of the month before.
pub fn previous_as_of(r: &AuditResult, config: &AuditConfig) -> Day {
    config
        .previous_as_of
        .unwrap_or_else(|| month_end_before(r.as_of, 1))
}

/// Patients: items grouped by patient, each group in issue order, then the timeline of each,
/// half of the patients on each of two threads; the current patients are kept.
fn patient_rows(r: &AuditResult, config: &AuditConfig) -> (Vec<PatientRow>, Vec<ResolvedRow>) {
    let dates = FollowUpDates::new(r.as_of, previous_as_of(r, config));
    let ((mut rows, mut resolved), (more, more_resolved)) =
        by_patient(r, |first, end, starts, order| {
            patient_range(r, config, &dates, starts, first, end, order)
        });
    rows.extend(more);
    resolved.extend(more_resolved);
    resolved.sort_by(|a, b| {
        (&a.practice_code, a.why.as_str(), &a.patient_id).cmp(&(
            &b.practice_code,
            b.why.as_str(),
            &b.patient_id,
        ))
    });
    (rows, resolved)
}

/// The current patients among `first..end`, whose items' indexes are `order` (which starts at
/// `starts[first]`).
fn patient_range(
    r: &AuditResult,
    config: &AuditConfig,
    fd: &FollowUpDates,
    starts: &[usize],
    first: usize,
    end: usize,
    order: &mut [u32],
) -> (Vec<PatientRow>, Vec<ResolvedRow>) {
    let items = &r.items;
    let base = starts[first];
    let first_day = r.first_issue_day.unwrap_or(r.as_of);
    // Room for a row per patient with an item from `first` to the last (only they can be
    // current), so that neither this list's growth nor the upper half's rows appended to
    // the lower's ([`patient_rows`]) copy rows that are already made (a million rows of a
    // few hundred bytes); the pages of the room not used are never touched, so they take
    // no memory.
    let with_items = starts[first..].windows(2).filter(|w| w[1] > w[0]).count();
    let mut rows = Vec::with_capacity(with_items);
    let mut resolved = Vec::new();
    let mut exposure: Vec<ExposureItem> = Vec::new();
    let mut states: Vec<MonthState> = Vec::new();
    let mut at_previous: Vec<MonthState> = Vec::new();
    let mut layout = Layout::default();
    let mut groups: Vec<crate::trajectory::SwitchGroup> = Vec::new();
    let mut scratch = crate::trajectory::Scratch::default();
    for patient in first..end {
        let group = &mut order[starts[patient] - base..starts[patient + 1] - base];
        if group.is_empty() {
            // Every row's patient is interned, opioid or not.
            continue;
        }
        exposure_of(r, config, group, &mut exposure);
        let group = &*group;
        // The items are placed on the timeline once, for the audit date and the follow-up's.
        layout.place(&exposure, config.timeline.stockpile);
        let m = layout.measure(&exposure, r.as_of, first_day, &config.timeline);
        // The patient's CNS depressants (sorted by day), and those in the look-back window
        // ending on a date.
        let cns = {
            let lo = r.cns_items.partition_point(|c| (c.0 as usize) < patient);
            let hi = r.cns_items.partition_point(|c| (c.0 as usize) <= patient);
            &r.cns_items[lo..hi]
        };
        let lookback = config.timeline.lookback_days;
        let co_at = |date: Day| -> Vec<usize> {
            let mut co: Vec<usize> = cns
                .iter()
                .filter(|c| c.1 <= date && c.1 > date - lookback)
                .map(|c| c.2 as usize)
                .collect();
            co.sort_unstable();
            co.dedup();
            co
        };
        // On the list at a date (the exclusion list aside), and for a CNS depressant only.
        let listed_at = |st: &MonthState, date: Day| -> (bool, bool) {
            let co = !cns.is_empty()
                && crate::patient::co_listed(
                    st.current,
                    st.ome_mg_day,
                    !co_at(date).is_empty(),
                    config,
                );
            (st.listed() || co, co && !st.listed())
        };
        // The follow-up's dates: all of them for a current patient (tapers, status); for one
        // who is not, the previous date first, and the rest only if they were listed then.
        states.clear();
        let (timeline, dates) = (&config.timeline, &fd.dates);
        if m.current {
            layout.month_states(&exposure, dates, timeline, true, &mut states);
        } else {
            at_previous.clear();
            let previous = [fd.previous_day];
            layout.month_states(&exposure, &previous, timeline, true, &mut at_previous);
            if !at_previous
                .first()
                .is_some_and(|st| listed_at(st, fd.previous_day).0)
            {
                continue;
            }
            layout.month_states(&exposure, dates, timeline, true, &mut states);
        }
        let then = states[fd.previous];
        let co_now = co_at(r.as_of);
        let (listed_then, co_then) = listed_at(&then, fd.previous_day);
        if listed_then {
            let practice_then = items[group[then.latest_item] as usize].practice;
            let latest_now = &items[*group.last().unwrap_or(&0) as usize];
            let now = MonthState {
                month: 0,
                latest_item: group.len() - 1,
                current: m.current,
                ome_mg_day: m.ome_mg_day,
                window_ome_mg: m.window_ome_mg,
                high_dose: m.high_dose,
                high_dose_now: m.high_dose_now,
                long_term: m.long_term,
            };
            let id = &r.patient_ids[patient];
            let change = Change {
                listed_now: now.listed()
                    || crate::patient::co_listed(
                        m.current,
                        m.ome_mg_day,
                        !co_now.is_empty(),
                        config,
                    ),
                co_then,
                co_now: !co_now.is_empty(),
                covered: r
                    .patient_last_day
                    .get(patient)
                    .is_some_and(|&d| d > fd.previous_day)
                    || r.practice_last_day
                        .get(practice_then as usize)
                        .is_some_and(|&d| d > fd.previous_day),
                excluded: config.excluded_patients.contains_key(id),
                same_practice: latest_now.practice == practice_then,
            };
            let why = why_resolved(&then, &now, &change);
            if let Some(why) = why {
                let code = r.practice_codes[practice_then as usize].clone();
                let extract_ics = items[group[then.latest_item] as usize].extract_ics;
                let abrupt = (why == Why::Stopped).then(|| {
                    let v = fd.before_stop.map(|i| states[i].ome_mg_day);
                    abrupt_stop(&v, &config.followup)
                });
                let ics_code = config.ics_of(&code, &r.ics_codes[extract_ics as usize]);
                if abrupt == Some(true) && !change.excluded {
                    // An abrupt stop since the previous audit: on the review list at
                    // priority 1, under the practice of then (METHOD.md §11).
                    let mut row = PatientRow::new(
                        id.clone(),
                        code.clone(),
                        ics_code.clone(),
                        m.clone(),
                        Vec::new(),
                        &[],
                        &co_now,
                        config,
                    );
                    let reason = format!(
                        "stopped since {}: {} mg OME/day then, with no step down",
                        crate::values::format_day(fd.previous_day),
                        crate::values::fmt_num((then.ome_mg_day * 10.0).round() / 10.0)
                    );
                    row.reasons = if row.reasons.is_empty() {
                        reason
                    } else {
                        format!("{reason}; {}", row.reasons)
                    };
                    row.stopped_abruptly_from = Some(then.ome_mg_day);
                    row.priority = Some(priority(
                        &PriorityFacts {
                            above_threshold: false,
                            ome_mg_day: m.ome_mg_day,
                            co_prescribed: !co_now.is_empty(),
                            trend: crate::followup::DoseTrend::None,
                            dose_mg_day: 0.0,
                            stopped_abruptly_from: Some(then.ome_mg_day),
                        },
                        config.timeline.threshold_mg_day,
                    ));
                    rows.push(row);
                }
                resolved.push(ResolvedRow {
                    patient_id: id.clone(),
                    ics_code,
                    practice_code: code,
                    why,
                    ome_mg_day_previous: then.ome_mg_day,
                    ome_mg_day_now: m.ome_mg_day,
                    abrupt_stop: abrupt,
                    last_review: config.reviews.get(id).cloned(),
                });
            }
        }
        if !m.current {
            continue;
        }
        // The dose trajectory at the 12 month ends before the audit date and at it.
        groups.clear();
        groups.extend(
            group
                .iter()
                .map(|&i| r.products[items[i as usize].product as usize].switch_group),
        );
        let grace = config.timeline.grace_days;
        let cover = layout.coverage();
        scratch.place(cover);
        let t: [f64; 13] = std::array::from_fn(|k| {
            let day = if k < 12 { fd.taper_days[k] } else { r.as_of };
            scratch.dose_at(&exposure, &groups, cover, day, grace)
        });
        let tapered = trajectory(&t, m.long_term, &config.followup);
        let listed_before = fd
            .earlier
            .iter()
            .any(|&i| listed_at(&states[i], fd.dates[i]).0);
        let Some(&last) = group.last() else { continue };
        let latest = &items[last as usize];
        let practice_code = r.practice_codes[latest.practice as usize].clone();
        let ics_code = config.ics_of(&practice_code, &r.ics_codes[latest.extract_ics as usize]);
        let patient_id = r.patient_ids[patient].clone();
        // The name of each product key, from its latest item.
        let names_of = |keys: &[u32]| {
            let mut names: Vec<String> = Vec::new();
            for key in keys {
                if let Some(&i) = group
                    .iter()
                    .rev()
                    .find(|&&i| r.products[items[i as usize].product as usize].key == *key)
                {
                    let n = &r.products[items[i as usize].product as usize].product.name;
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
            names.sort();
            names
        };
        let names = names_of(&m.window_products);
        let listed = m.high_dose || m.long_term || m.high_dose_now;
        let assumed = if !listed || m.assumed_products.is_empty() {
            Vec::new()
        } else {
            names_of(&m.assumed_products)
        };
        let mut row = PatientRow::new(
            patient_id,
            practice_code,
            ics_code,
            m,
            names,
            &assumed,
            &co_now,
            config,
        );
        row.trajectory = Some(tapered);
        if row.to_review() {
            // Each current product's latest issue, for the pack's work list.
            let cover = layout.coverage();
            for key in &row.measures.window_products {
                if let Some(k) = group
                    .iter()
                    .rposition(|&i| r.products[items[i as usize].product as usize].key == *key)
                {
                    let it = &items[group[k] as usize];
                    row.product_lines.push(crate::patient::ProductLine {
                        name: r.products[it.product as usize].product.name.clone(),
                        dose_text: r.doses[it.dose as usize].text.clone(),
                        last_issue: it.issue_day,
                        next_due: Day::of_axis(cover[k].end),
                    });
                }
            }
            row.product_lines.sort_by(|a, b| a.name.cmp(&b.name));
            row.status = Some(Status::of(listed_then, listed_before));
            let m = &row.measures;
            row.priority = Some(priority(
                &PriorityFacts {
                    above_threshold: m.high_dose || m.high_dose_now,
                    ome_mg_day: m.ome_mg_day,
                    co_prescribed: !co_now.is_empty(),
                    trend: tapered.label,
                    dose_mg_day: tapered.dose_mg_day,
                    stopped_abruptly_from: None,
                },
                config.timeline.threshold_mg_day,
            ));
        }
        // The last review, where one was carried forward: shown beside the tier's reason
        // ("review due on ..."), never hiding the patient (METHOD.md §11).
        if let (Some((_, reason)), Some(review)) = (row.priority.as_mut(), &row.last_review) {
            let note = review.note(r.as_of);
            if !note.is_empty() {
                reason.push_str("; ");
                reason.push_str(&note);
            }
        }
        rows.push(row);
    }
    (rows, resolved)
}
