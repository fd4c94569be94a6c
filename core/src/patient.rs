//! One current patient at the audit date (METHOD.md §7): their measures, dose band, the
//! reasons they are on the review list, and whether they are excluded from it.

use crate::followup::{Status, Trajectory, Why};
use crate::settings::AuditConfig;
use crate::timeline::{doses_disagree, DoseBand, PatientMeasures};
use crate::values::fmt_num;

/// One current opioid patient at the audit date.
#[derive(Debug, Clone)]
pub struct PatientRow {
    pub patient_id: String,
    pub practice_code: String,
    pub ics_code: String,
    pub measures: PatientMeasures,
    pub dose_band: DoseBand,
    pub reasons: String,
    pub current_products: String,
    pub doses_disagree: Option<bool>,
    pub excluded_reason: Option<String>,
    /// On the review list: new, continuing or returned since the previous audit (§11).
    pub status: Option<Status>,
    /// The dose trajectory and its label (§11), when the history was evaluated.
    pub trajectory: Option<Trajectory>,
    /// On the review list: the priority tier (1 first) and its reason in words (§11).
    pub priority: Option<(u8, String)>,
    /// Not current: on the list at the previous date and stopped abruptly since, from this
    /// 28-day mean (§11); on the review list at priority 1, in no count of current patients.
    pub stopped_abruptly_from: Option<f64>,
    /// Their last review (`--reviews`).
    pub last_review: Option<crate::followup::Review>,
    /// Their last coded medication review within the review window (`--events`).
    pub last_medication_review: Option<crate::values::Day>,
    /// On the review list: each current product, for the practice pack's work list.
    pub product_lines: Vec<ProductLine>,
    /// The CNS depressants issued in the look-back window (ingredients, `; ` between; §11).
    pub co_prescribed: String,
    /// On the review list for a CNS depressant with an opioid above the co-prescribing dose.
    pub co_listed: bool,
}

/// One current product of a listed patient: its name, the directions of its latest issue,
/// that issue's date and when the next is due (the end of its supply, carried forward).
#[derive(Debug, Clone, PartialEq)]
pub struct ProductLine {
    pub name: String,
    pub dose_text: String,
    pub last_issue: crate::values::Day,
    pub next_due: crate::values::Day,
}

/// A patient on the review list at the previous audit date who is not on it now (§11).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRow {
    pub patient_id: String,
    /// The practice and ICS at the previous date.
    pub practice_code: String,
    pub ics_code: String,
    pub why: Why,
    pub ome_mg_day_previous: f64,
    /// The window mean at the audit date.
    pub ome_mg_day_now: f64,
    /// For a patient who stopped: whether the stop was abrupt.
    pub abrupt_stop: Option<bool>,
    /// Their last review (`--reviews`): who came off the list after a review.
    pub last_review: Option<crate::followup::Review>,
}

impl PatientRow {
    /// On the review list: above the threshold (the window mean, or today's dose), or
    /// long-term, and not excluded.
    pub fn to_review(&self) -> bool {
        let m = &self.measures;
        self.excluded_reason.is_none()
            && (m.high_dose
                || m.long_term
                || m.high_dose_now
                || self.co_listed
                || self.stopped_abruptly_from.is_some())
    }
}

impl PatientRow {
    /// A current patient's row: the band and the reasons follow from the measures.
    /// `products` are the names of the products in the dose window, `assumed` those whose
    /// days of supply were assumed; `co` the CNS depressants issued in the look-back window
    /// (indexes into [`crate::cns::list`], distinct).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        patient_id: String,
        practice_code: String,
        ics_code: String,
        m: PatientMeasures,
        products: Vec<String>,
        assumed: &[String],
        co: &[usize],
        config: &AuditConfig,
    ) -> PatientRow {
        let disagree = doses_disagree(m.ome_mg_day, m.instructed_ome_mg_day);
        let co_listed = co_listed(m.current, m.ome_mg_day, !co.is_empty(), config);
        let list = crate::cns::list();
        let mut co_names: Vec<String> = co.iter().map(|&i| list[i].ingredient.clone()).collect();
        co_names.sort();
        co_names.dedup();
        PatientRow {
            excluded_reason: config.excluded_patients.get(&patient_id).cloned(),
            reasons: reasons(&m, disagree, assumed, co, co_listed, config).join("; "),
            co_prescribed: co_names.join("; "),
            co_listed,
            dose_band: DoseBand::of(m.ome_mg_day),
            current_products: products.join("; "),
            doses_disagree: disagree,
            status: None,
            trajectory: None,
            priority: None,
            stopped_abruptly_from: None,
            last_review: config.reviews.get(&patient_id).cloned(),
            last_medication_review: config.medication_reviews.get(&patient_id).copied(),
            product_lines: Vec::new(),
            patient_id,
            practice_code,
            ics_code,
            measures: m,
        }
    }
}

fn round1(v: f64) -> String {
    fmt_num((v * 10.0).round() / 10.0)
}

/// On the review list for a CNS depressant: current, a depressant in the look-back window,
/// and OME/day above `--co-prescribing-review-from` (0 disables the rule).
pub fn co_listed(
    current: bool,
    ome_mg_day: f64,
    co_prescribed: bool,
    config: &AuditConfig,
) -> bool {
    let from = config.followup.co_prescribing_review_from_mg_day;
    current && co_prescribed && from > 0.0 && ome_mg_day > from
}

/// Why a patient is on the review list, in the order the list gives them.
pub fn reasons(
    m: &PatientMeasures,
    disagree: Option<bool>,
    assumed: &[String],
    co: &[usize],
    co_listed: bool,
    config: &AuditConfig,
) -> Vec<String> {
    let t = &config.timeline;
    let mut reasons = Vec::new();
    if m.high_dose {
        reasons.push(format!(
            "high dose: {} mg OME/day (above {})",
            round1(m.ome_mg_day),
            fmt_num(t.threshold_mg_day)
        ));
    }
    if m.long_term {
        reasons.push(format!(
            "long-term: {} days on opioids (more than {}{})",
            m.duration_days.unwrap_or(0),
            t.long_term_days,
            if m.duration_censored {
                "; began before the data"
            } else {
                ""
            }
        ));
    }
    if m.high_dose_now && !m.high_dose {
        reasons.push(format!(
            "current dose {} mg OME/day above {} ({}-day mean {})",
            round1(m.current_ome_mg_day),
            fmt_num(t.threshold_mg_day),
            t.dose_window_days,
            round1(m.ome_mg_day)
        ));
    }
    let listed = m.high_dose || m.long_term || m.high_dose_now || co_listed;
    if listed && !co.is_empty() {
        // One reason per class, its ingredients in order.
        let list = crate::cns::list();
        let mut classes: Vec<(&str, Vec<&str>)> = Vec::new();
        let mut sorted: Vec<usize> = co.to_vec();
        sorted.sort_by(|&a, &b| list[a].ingredient.cmp(&list[b].ingredient));
        for &i in &sorted {
            let d = &list[i];
            match classes.iter_mut().find(|(c, _)| *c == d.class_words()) {
                Some((_, names)) => {
                    if !names.contains(&d.ingredient.as_str()) {
                        names.push(&d.ingredient)
                    }
                }
                None => classes.push((d.class_words(), vec![&d.ingredient])),
            }
        }
        for (class, names) in classes {
            reasons.push(format!(
                "also prescribed {} ({class}): opioid and {class} together raise the risk of \
                 respiratory depression",
                names.join(", ")
            ));
        }
    }
    if disagree == Some(true) && listed {
        reasons.push("instructed and supplied doses disagree".into());
    }
    if listed && !assumed.is_empty() {
        reasons.push(format!(
            "days of supply assumed for: {}",
            assumed.join("; ")
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measures(ome_mg_day: f64, current: f64, duration: i64) -> PatientMeasures {
        let t = crate::timeline::TimelineSettings::default();
        PatientMeasures {
            current: true,
            ome_mg_day,
            instructed_ome_mg_day: None,
            current_ome_mg_day: current,
            peak_ome_mg_day: current.max(ome_mg_day),
            window_ome_mg: ome_mg_day * 28.0,
            episode_start: Some(crate::values::Day(0)),
            duration_days: Some(duration),
            duration_censored: false,
            high_dose: ome_mg_day > t.threshold_mg_day,
            high_dose_now: current > t.threshold_mg_day,
            long_term: duration > t.long_term_days,
            window_products: vec![0],
            assumed_products: Vec::new(),
            last_issue_day: Some(crate::values::Day(0)),
        }
    }

    fn row(m: PatientMeasures, assumed: &[String]) -> PatientRow {
        let c = crate::settings::tests::config();
        PatientRow::new(
            "SYN1".into(),
            "A81001".into(),
            "QHM".into(),
            m,
            vec!["Morphine 60mg MR tablets".into()],
            assumed,
            &[],
            &c,
        )
    }

    #[test]
    fn reasons_say_the_dose_and_the_days_in_their_order() {
        // 4,203 mg over 28 days is 150.107 mg/day, shown to one decimal.
        let r = row(measures(4203.0 / 28.0, 150.0, 120), &[]);
        assert_eq!(
            r.reasons,
            "high dose: 150.1 mg OME/day (above 120); long-term: 120 days on opioids (more than 90)"
        );
        assert_eq!(r.dose_band, DoseBand::of(150.107));
        assert!(r.to_review());
    }

    #[test]
    fn todays_dose_above_the_threshold_lists_a_patient_whose_mean_is_below() {
        // 28-day mean 64.3 (1,800 mg), but 180 mg/day since the last issue.
        let r = row(measures(1800.0 / 28.0, 180.0, 30), &[]);
        assert_eq!(
            r.reasons,
            "current dose 180 mg OME/day above 120 (28-day mean 64.3)"
        );
        assert!(r.to_review());
    }

    #[test]
    fn assumed_days_are_a_reason_only_for_a_listed_patient() {
        let assumed = vec!["Oramorph 10mg/5ml oral solution".to_string()];
        let r = row(measures(40.0, 40.0, 30), &assumed);
        assert_eq!(r.reasons, "");
        assert!(!r.to_review());
        let r = row(measures(40.0, 40.0, 91), &assumed);
        assert_eq!(
            r.reasons,
            "long-term: 91 days on opioids (more than 90); days of supply assumed for: \
             Oramorph 10mg/5ml oral solution"
        );
    }

    #[test]
    fn an_excluded_patient_is_never_to_review() {
        let mut c = crate::settings::tests::config();
        c.excluded_patients
            .insert("SYN1".into(), "palliative care".into());
        let r = PatientRow::new(
            "SYN1".into(),
            "A81001".into(),
            "QHM".into(),
            measures(200.0, 200.0, 400),
            Vec::new(),
            &[],
            &[],
            &c,
        );
        assert_eq!(r.excluded_reason.as_deref(), Some("palliative care"));
        assert!(!r.to_review());
    }
}
