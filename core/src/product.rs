//! What an item is: the product model shared by the dictionary, the resolver and the audit.
//!
//! A [`Product`] says which opioid it carries, by which route, in which form, how much of the
//! opioid is in one unit of quantity (one tablet, one ml, one ampoule, one patch), and for
//! patches the delivery rate and the wear time. Strengths are always of the opioid alone:
//! co-codamol 30mg/500mg is 30 mg of codeine per tablet.

use std::fmt;

/// Route of administration, as the factor tables key it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    Oral,
    Rectal,
    Injection,
    Transdermal,
    Buccal,
    Sublingual,
    Oromucosal,
    Nasal,
    Inhalation,
}

impl Route {
    pub const ALL: [Route; 9] = [
        Route::Oral,
        Route::Rectal,
        Route::Injection,
        Route::Transdermal,
        Route::Buccal,
        Route::Sublingual,
        Route::Oromucosal,
        Route::Nasal,
        Route::Inhalation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Oral => "oral",
            Route::Rectal => "rectal",
            Route::Injection => "injection",
            Route::Transdermal => "transdermal",
            Route::Buccal => "buccal",
            Route::Sublingual => "sublingual",
            Route::Oromucosal => "oromucosal",
            Route::Nasal => "nasal",
            Route::Inhalation => "inhalation",
        }
    }

    /// Accepts the route names above, case-insensitively, plus `parenteral` and `infusion`
    /// for injection.
    pub fn parse(s: &str) -> Option<Route> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "parenteral" | "infusion" | "injection" => Some(Route::Injection),
            _ => Route::ALL.into_iter().find(|r| r.as_str() == s),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Immediate or modified release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Release {
    Immediate,
    Modified,
}

impl Release {
    pub fn as_str(self) -> &'static str {
        match self {
            Release::Immediate => "immediate",
            Release::Modified => "modified",
        }
    }

    pub fn parse(s: &str) -> Option<Release> {
        match s.trim().to_ascii_lowercase().as_str() {
            "immediate" => Some(Release::Immediate),
            "modified" => Some(Release::Modified),
            _ => None,
        }
    }
}

/// What `strength` is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrengthUnit {
    /// mg of the opioid per unit (tablet, capsule, suppository, ampoule, sachet, dose...).
    Mg,
    /// mg of the opioid per ml (liquids dispensed by volume).
    MgPerMl,
    /// micrograms per hour delivered (patches).
    McgPerHour,
}

impl StrengthUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            StrengthUnit::Mg => "mg",
            StrengthUnit::MgPerMl => "mg/ml",
            StrengthUnit::McgPerHour => "mcg/h",
        }
    }

    pub fn parse(s: &str) -> Option<StrengthUnit> {
        match s.trim() {
            "mg" => Some(StrengthUnit::Mg),
            "mg/ml" => Some(StrengthUnit::MgPerMl),
            "mcg/h" => Some(StrengthUnit::McgPerHour),
            _ => None,
        }
    }
}

/// One product: an entry of the dictionary, or what the name parser made of an unseen name.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// dm+d VMP or AMP id; empty for products known only by name.
    pub dmd_id: String,
    /// `VMP`, `AMP`, or empty.
    pub dmd_type: String,
    pub name: String,
    /// 15-character BNF presentation code; may be empty.
    pub bnf_code: String,
    /// The generic product (VMP) this counts as for carry-forward; a brand shares its
    /// generic's key, tablets and capsules do not.
    pub product_key: String,
    /// The opioid ingredient, canonical lower-case name (`morphine`, `oxycodone`...).
    pub ingredient: String,
    /// All ingredients, opioid first, `;`-separated (`codeine;paracetamol`).
    pub ingredients: String,
    pub route: Route,
    /// Dose form as dm+d words (`modified-release tablet`, `oral solution`, `transdermal patch`).
    pub form: String,
    /// What one unit of quantity is (`tablet`, `capsule`, `ml`, `patch`, `ampoule`...).
    pub unit: String,
    pub release: Release,
    /// Amount of the opioid per unit, in `strength_unit`.
    pub strength: f64,
    pub strength_unit: StrengthUnit,
    /// Patches: delivery rate in micrograms per hour.
    pub patch_rate_mcg_per_hour: Option<f64>,
    /// Patches: days one patch is worn.
    pub patch_wear_days: Option<f64>,
    /// Set for products excluded by default (opioid dependence, BNF 0410).
    pub excluded_reason: Option<String>,
}

impl Product {
    pub fn is_patch(&self) -> bool {
        self.patch_rate_mcg_per_hour.is_some()
    }

    /// mg of the opioid in one unit of quantity, for a liquid per ml; `None` for patches.
    /// Days one patch is worn: the product's own (its name, its brand), else the ingredient's
    /// default ([`default_patch_wear_days`]). `None` for a product that is not a patch.
    pub fn wear_days(&self) -> Option<f64> {
        let rate = self.patch_rate_mcg_per_hour?;
        Some(
            self.patch_wear_days
                .unwrap_or_else(|| default_patch_wear_days(&self.ingredient, rate)),
        )
    }

    pub fn mg_per_unit(&self) -> Option<f64> {
        match self.strength_unit {
            StrengthUnit::Mg | StrengthUnit::MgPerMl => Some(self.strength),
            StrengthUnit::McgPerHour => None,
        }
    }
}

/// BNF code of the generic equivalent of a presentation: `chemical(9) + "AA" + last 2`.
/// Returns `None` when the code is not 15 characters.
/// The one fallback for patch wear time, when neither the name, the brand nor the
/// directions say (METHOD.md §3): fentanyl 3 days; buprenorphine up to 20 micrograms/hour 7,
/// above that 4.
pub fn default_patch_wear_days(ingredient: &str, rate_mcg_per_hour: f64) -> f64 {
    match ingredient {
        "buprenorphine" if rate_mcg_per_hour <= 20.0 => 7.0,
        "buprenorphine" => 4.0,
        _ => 3.0,
    }
}

pub fn bnf_generic_code(bnf: &str) -> Option<String> {
    let bnf = bnf.trim();
    if bnf.len() != 15 || !bnf.is_ascii() {
        return None;
    }
    Some(format!("{}AA{}{}", &bnf[..9], &bnf[13..15], &bnf[13..15]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_bnf_codes() {
        // MST Continus 60mg tablets -> Morphine 60mg modified-release tablets.
        assert_eq!(
            bnf_generic_code("0407020Q0BBACAI").as_deref(),
            Some("0407020Q0AAAIAI")
        );
        assert_eq!(bnf_generic_code("0407020Q0"), None);
        for r in Route::ALL {
            assert_eq!(Route::parse(r.as_str()), Some(r));
        }
        assert_eq!(Route::parse("Parenteral"), Some(Route::Injection));
    }
}
