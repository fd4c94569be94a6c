//! Practice-level measures from the English Prescribing Dataset (METHOD.md §9), matching
//! OpenPrescribing's `opioidome`, `opioidper1000` and `opioidspercent` (in their 120 mg and
//! 90 mg versions): which products are "regular" and high-dose, OME of a unit as
//! OpenPrescribing computes it, and the sums per practice and ICS. Reading the files is the
//! root package's (`epd.rs`).

use std::collections::BTreeMap;

use crate::factors::FactorSet;
use crate::ome::{patch_ome_mg_day, unit_ome};
use crate::product::{Product, Release, Route};

/// Which version of OpenPrescribing's high-dose measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighDose {
    /// `__2025-01_120mg_version`: likely daily dose of 120 mg OME or more.
    Mg120,
    /// The current measures: 90 mg OME or more.
    Mg90,
}

impl HighDose {
    pub fn from_threshold(t: u32) -> Result<HighDose, crate::problem::Problem> {
        match t {
            120 => Ok(HighDose::Mg120),
            90 => Ok(HighDose::Mg90),
            other => Err(crate::problem::Problem::new(format!(
                "--threshold {other}: OpenPrescribing's high-dose measures exist for 90 and 120 \
                 mg/day"
            ))
            .hint("use --threshold 120 (the MedSIP aim) or --threshold 90")),
        }
    }

    pub fn mg(self) -> u32 {
        match self {
            HighDose::Mg120 => 120,
            HighDose::Mg90 => 90,
        }
    }
}

/// Whether a product counts among OpenPrescribing's "regular" (long-acting) opioid items, and
/// whether it is a high-dose one: strength thresholds from the measure definitions.
pub fn measure_class(p: &Product, description: &str, version: HighDose) -> (bool, bool) {
    let oral_mr = p.route == Route::Oral && p.release == Release::Modified;
    let patch = p.route == Route::Transdermal;
    let desc = description.to_ascii_lowercase();
    let mxl = desc.contains("mxl") || p.name.to_ascii_lowercase().contains("mxl");
    let onexila_40 = (desc.contains("onexila") || p.name.to_ascii_lowercase().contains("onexila"))
        && (p.strength - 40.0).abs() < 1e-9;
    let s = p.strength;
    let ge = |t: f64| s >= t - 1e-9;
    let regular = match p.ingredient.as_str() {
        "fentanyl" | "buprenorphine" => patch,
        "oxycodone" | "tapentadol" | "morphine" | "hydromorphone" => oral_mr,
        _ => false,
    };
    if !regular {
        return (false, false);
    }
    let high = match (version, p.ingredient.as_str()) {
        (HighDose::Mg120, "fentanyl") => ge(50.0),
        (HighDose::Mg90, "fentanyl") => ge(37.5),
        (HighDose::Mg120, "oxycodone") => ge(40.0) && !onexila_40,
        (HighDose::Mg90, "oxycodone") => ge(30.0) && !onexila_40,
        (HighDose::Mg120, "tapentadol") => ge(150.0),
        (HighDose::Mg90, "tapentadol") => ge(112.5),
        (HighDose::Mg120, "buprenorphine") => ge(52.5),
        (HighDose::Mg90, "buprenorphine") => ge(39.375),
        (HighDose::Mg120, "morphine") if mxl => ge(120.0),
        (HighDose::Mg90, "morphine") if mxl => ge(90.0),
        (HighDose::Mg120, "morphine") => ge(60.0),
        (HighDose::Mg90, "morphine") => ge(45.0),
        (HighDose::Mg90, "hydromorphone") => ge(9.0),
        _ => false,
    };
    (true, high)
}

/// OME of one unit as OpenPrescribing computes it, when the set is `openprescribing`: patches
/// by hours (fentanyl 72; buprenorphine 5-20 micrograms/hour 168, 35-70 96) at the dm+d rate
/// (the "12" fentanyl patch is 12), buccal films have no factor.
pub fn unit_ome_for(p: &Product, set: &FactorSet) -> Option<(f64, f64)> {
    let u = unit_ome(p, set)?;
    if set.name != "openprescribing" {
        return Some((u.factor.factor, u.ome_mg_per_unit));
    }
    if p.form.contains("film") {
        return None;
    }
    match p.patch_rate_mcg_per_hour {
        Some(rate) => {
            let rate = if p.ingredient == "fentanyl" && rate == 12.5 {
                12.0
            } else {
                rate
            };
            let hours = match p.ingredient.as_str() {
                "buprenorphine" if rate <= 20.0 => 168.0,
                "buprenorphine" => 96.0,
                _ => 72.0,
            };
            Some((
                u.factor.factor,
                patch_ome_mg_day(rate, u.factor.factor) * hours / 24.0,
            ))
        }
        None => Some((u.factor.factor, u.ome_mg_per_unit)),
    }
}

/// `2017_09`, `201709`, `2017-09` → `2017-09`.
pub fn normalise_month(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 6 {
        return None;
    }
    let (y, m) = (&digits[..4], &digits[4..6]);
    let month: u32 = m.parse().ok()?;
    if !(1..=12).contains(&month) {
        return None;
    }
    Some(format!("{y}-{m}"))
}

/// One BNF code in one month.
#[derive(Debug, Clone, Default)]
pub struct BnfOme {
    pub month: String,
    pub bnf_code: String,
    pub description: String,
    pub status: String,
    pub matched_by: String,
    pub product_name: String,
    pub ingredient: String,
    pub factor: Option<f64>,
    pub items: f64,
    pub total_quantity: f64,
    pub ome_mg_per_unit: Option<f64>,
    pub total_ome_mg: f64,
    pub regular: bool,
    pub high_dose: bool,
    /// High-dose at 120 and at 90 mg/day, whichever `high_dose` is (the trend has both).
    pub high_dose_120: bool,
    pub high_dose_90: bool,
    pub reason: String,
}

/// One practice (or ICS) in one month.
#[derive(Debug, Clone, Default)]
pub struct Measures {
    pub month: String,
    pub code: String,
    pub name: String,
    pub ics_code: String,
    /// The ICS's name, from the practices file or the EPD's own ICB (PCO) name column.
    pub ics_name: String,
    pub total_ome_mg: f64,
    pub list_size: Option<f64>,
    pub high_dose_items: f64,
    /// High-dose items at 120 and at 90 mg/day (`high_dose_items` is one of them).
    pub high_dose_120: f64,
    pub high_dose_90: f64,
    pub regular_items: f64,
    pub opioid_items: f64,
    pub practices: u64,
    /// Numerators of the per-1000 rates: for an ICS, only its practices with a list size.
    pub rate_ome_mg: f64,
    pub rate_high_dose_items: f64,
}

impl Measures {
    pub fn ome_per_1000(&self) -> Option<f64> {
        self.list_size
            .filter(|l| *l > 0.0)
            .map(|l| self.rate_ome_mg * 1000.0 / l)
    }

    pub fn high_dose_per_1000(&self) -> Option<f64> {
        self.list_size
            .filter(|l| *l > 0.0)
            .map(|l| self.rate_high_dose_items * 1000.0 / l)
    }

    pub fn high_dose_percent(&self) -> Option<f64> {
        (self.regular_items > 0.0).then(|| self.high_dose_items * 100.0 / self.regular_items)
    }
}

pub use crate::settings::ListSizes;

/// Row accounting of EPD rows.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EpdAccounting {
    pub read: u64,
    pub opioid: u64,
    pub not_opioid: u64,
    pub excluded: u64,
    pub unresolved: u64,
    pub rejected: u64,
}

pub fn number(s: &str) -> Option<f64> {
    let v: f64 = s.trim().replace(',', "").parse().ok()?;
    v.is_finite().then_some(v)
}

/// The ICS measures of each month from its practices': sums over sums. Rates use only
/// practices with a list size, on both sides (each practice's rate numerators are set here).
pub fn ics_measures<'a>(practices: impl Iterator<Item = &'a mut Measures>) -> Vec<Measures> {
    let mut ics: BTreeMap<(String, String), Measures> = BTreeMap::new();
    for m in practices {
        if m.list_size.is_some() {
            m.rate_ome_mg = m.total_ome_mg;
            m.rate_high_dose_items = m.high_dose_items;
        }
        let t = ics
            .entry((m.month.clone(), m.ics_code.clone()))
            .or_insert_with(|| Measures {
                month: m.month.clone(),
                code: m.ics_code.clone(),
                ..Measures::default()
            });
        t.practices += 1;
        t.total_ome_mg += m.total_ome_mg;
        t.high_dose_items += m.high_dose_items;
        t.regular_items += m.regular_items;
        t.opioid_items += m.opioid_items;
        if let Some(l) = m.list_size {
            *t.list_size.get_or_insert(0.0) += l;
            t.rate_ome_mg += m.total_ome_mg;
            t.rate_high_dose_items += m.high_dose_items;
        }
    }
    ics.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Resolver;

    // Files for 2024-01 and 2024-04: February and March use January's, April and later
    // April's; December 2023, before every file, the earliest (January's).
    #[test]
    fn list_sizes_by_month_use_the_nearest_earlier_file() {
        let one = |n: f64| BTreeMap::from([("A".to_string(), n)]);
        let l = ListSizes {
            by_month: BTreeMap::from([
                ("2024-01".to_string(), one(100.0)),
                ("2024-04".to_string(), one(400.0)),
            ]),
            undated: None,
        };
        let at = |m: &str| {
            l.for_month(m)
                .map(|(s, from)| (s["A"], from.map(String::from)))
        };
        assert_eq!(at("2024-01"), Some((100.0, Some("2024-01".into()))));
        assert_eq!(at("2024-03"), Some((100.0, Some("2024-01".into()))));
        assert_eq!(at("2024-04"), Some((400.0, Some("2024-04".into()))));
        assert_eq!(at("2025-09"), Some((400.0, Some("2024-04".into()))));
        assert_eq!(at("2023-12"), Some((100.0, Some("2024-01".into()))));
        assert!(ListSizes::default().for_month("2024-01").is_none());
    }

    #[test]
    fn months() {
        assert_eq!(normalise_month("2017_09").as_deref(), Some("2017-09"));
        assert_eq!(normalise_month("202409").as_deref(), Some("2024-09"));
        assert_eq!(normalise_month("2024-13"), None);
        assert_eq!(normalise_month("x"), None);
    }

    #[test]
    fn high_dose_classes() {
        let r = Resolver::builtin();
        let p = |n: &str| r.resolve_name(n).product.unwrap();
        let fent50 = p("Fentanyl 50micrograms/hour transdermal patches");
        let fent37 = p("Fentanyl 37.5microgram/hour transdermal patches");
        assert_eq!(measure_class(&fent50, "", HighDose::Mg120), (true, true));
        assert_eq!(measure_class(&fent37, "", HighDose::Mg120), (true, false));
        assert_eq!(measure_class(&fent37, "", HighDose::Mg90), (true, true));
        let mst60 = p("MST Continus 60mg tablets");
        assert_eq!(measure_class(&mst60, "", HighDose::Mg120), (true, true));
        let mxl60 = p("MXL 60mg capsules");
        assert_eq!(
            measure_class(&mxl60, "MXL_Cap 60mg", HighDose::Mg120),
            (true, false)
        );
        let oxy40 = p("Oxycodone 40mg modified-release tablets");
        assert_eq!(measure_class(&oxy40, "", HighDose::Mg120), (true, true));
        assert_eq!(
            measure_class(&oxy40, "Onexila XL_Tab 40mg", HighDose::Mg120),
            (true, false)
        );
        let cocod = p("Co-codamol 30mg/500mg tablets");
        assert_eq!(measure_class(&cocod, "", HighDose::Mg90), (false, false));
    }
}
