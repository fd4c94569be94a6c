//! One item, by the method (METHOD.md §5): its quantity in the product's units, its days of
//! supply and where they came from, its total and instructed OME, and whether it is a
//! plausible supply at all. And the facts of a row that no item can be made of: ids that are
//! not ids, text with a NUL.

use crate::dose::{DoseParse, DoseStatus};
use crate::product::{Product, StrengthUnit};
use crate::timeline::EPS;
use crate::values::Quantity;

/// The settings an item's numbers depend on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemSettings {
    /// Which end of a PRN range sets days of supply and instructed OME (`--prn-policy`).
    pub prn_policy: PrnPolicy,
    /// Days of supply when nothing says them (`--default-days`, 28).
    pub default_days: f64,
    /// Above this many days of supply an item is not plausible (`--max-days-supply`, 366).
    pub max_days_supply: f64,
}

impl Default for ItemSettings {
    fn default() -> Self {
        ItemSettings {
            prn_policy: PrnPolicy::Max,
            default_days: 28.0,
            max_days_supply: 366.0,
        }
    }
}

/// Where an item's days of supply came from, the first that applies (METHOD.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaysSource {
    /// A duration column of the extract.
    Explicit,
    /// Quantity ÷ the parsed units a day.
    Dose,
    /// Patches: count × wear time ÷ patches worn at once.
    PatchWear,
    /// Nothing said: `--default-days`.
    Default,
}

impl DaysSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DaysSource::Explicit => "explicit",
            DaysSource::Dose => "dose",
            DaysSource::PatchWear => "patch_wear",
            DaysSource::Default => "default",
        }
    }
}

/// A number in a message: at most 6 decimals, trailing zeros dropped; tiny or huge numbers in
/// exponent form (a message must stay short whatever the input).
fn fmt(v: f64) -> String {
    if v != 0.0 && !(1e-6..1e15).contains(&v.abs()) {
        return format!("{v:e}");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// Which of a PRN range to use for days of supply and instructed OME.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrnPolicy {
    /// The most units a day the directions allow (default).
    Max,
    /// The midpoint of the range.
    Mean,
    /// The fewest units a day, where above zero (else the most).
    Min,
}

impl PrnPolicy {
    pub const ALL: [PrnPolicy; 3] = [PrnPolicy::Max, PrnPolicy::Mean, PrnPolicy::Min];

    pub fn as_str(self) -> &'static str {
        match self {
            PrnPolicy::Max => "max",
            PrnPolicy::Mean => "mean",
            PrnPolicy::Min => "min",
        }
    }

    /// Units a day from a parse, under this policy. A maximum alone ("max 8 in 24 hours"
    /// with no frequency) is enough for `max` and `min`; `mean` needs both ends.
    pub fn units_per_day(self, d: &DoseParse) -> Option<f64> {
        let hi = d.units_max?;
        let v = match (self, d.units_min) {
            (PrnPolicy::Max, _) => hi,
            (PrnPolicy::Mean, lo) => (lo? + hi) / 2.0,
            (PrnPolicy::Min, Some(lo)) if lo > EPS => lo,
            (PrnPolicy::Min, _) => hi,
        };
        (v > EPS).then_some(v)
    }
}

/// The numbers of one item (METHOD.md §5), with how days of supply were chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemValues {
    pub units_per_day: Option<f64>,
    pub patches_at_once: Option<f64>,
    pub days_supply: f64,
    pub days_supply_source: DaysSource,
    /// A stated duration and quantity ÷ units a day differ by more than half the stated
    /// duration (the stated one is kept); empty when there is not both.
    pub days_supply_disagree: Option<bool>,
    pub total_ome_mg: f64,
    pub instructed_ome_mg_day: Option<f64>,
    /// The directions ask for more units a day (or patches at once) than any real regimen
    /// ([`implausible_dose`]): they were treated as unparsed, and items.csv's `dose_status`
    /// says `implausible`.
    pub dose_implausible: bool,
}

/// Convert parsed dose units a day into the product's units (tablets, ml, patches...).
pub fn units_in_product(upd: f64, dose_unit: Option<&str>, p: &Product) -> Option<f64> {
    let mg = |v: f64| match p.strength_unit {
        StrengthUnit::Mg | StrengthUnit::MgPerMl if p.strength > 0.0 => Some(v / p.strength),
        _ => None,
    };
    match dose_unit {
        None => Some(upd),
        Some("mg") => mg(upd),
        Some("microgram") => mg(upd / 1000.0),
        Some("g") => mg(upd * 1000.0),
        Some("ml") => (p.unit == "ml").then_some(upd),
        Some("patch") => (p.unit == "patch").then_some(upd),
        Some(u) => {
            let counted = [
                "tablet",
                "capsule",
                "suppository",
                "sachet",
                "lozenge",
                "film",
            ];
            let doses = ["dose", "spray", "puff"];
            let fits = u == p.unit
                || (counted.contains(&u) && counted.contains(&p.unit.as_str()))
                || (doses.contains(&u) && p.unit == "dose")
                || (u == "ampoule" && ["ampoule", "vial", "syringe"].contains(&p.unit.as_str()));
            fits.then_some(upd)
        }
    }
}

/// Quantity in the product's units: packs expanded, mg on a tablet product converted.
pub fn quantity_in_product(q: &Quantity, p: &Product) -> f64 {
    match q.unit.as_deref() {
        Some("mg") if p.strength_unit != StrengthUnit::McgPerHour && p.strength > 0.0 => {
            q.amount / p.strength
        }
        Some("microgram") if p.strength_unit != StrengthUnit::McgPerHour && p.strength > 0.0 => {
            q.amount / 1000.0 / p.strength
        }
        _ => q.amount,
    }
}

/// The date layout of one file and its distinct dates, each parsed once.
/// Bounds of a plausible item (METHOD.md §5, "Implausible supplies"): more than this many
/// units of quantity (tablets, ml, patches...) in one item is not a supply.
pub const MAX_QUANTITY_UNITS: f64 = 10_000.0;
/// The highest plausible strength of one unit: mg per tablet, capsule, ampoule or dose (dm+d
/// holds 750mg morphine suppositories and 500mg diamorphine ampoules).
pub const MAX_STRENGTH_MG: f64 = 1_000.0;
/// The highest plausible strength of a liquid, mg per ml (dm+d holds a 1g/5ml morphine).
pub const MAX_STRENGTH_MG_PER_ML: f64 = 500.0;
/// The highest plausible delivery rate of one patch, micrograms per hour.
pub const MAX_PATCH_RATE_MCG_PER_HOUR: f64 = 200.0;
/// The most ml of a liquid a day in any real regimen (METHOD.md §5: 300 ml of morphine 10mg/5ml
/// is 600 mg a day; methadone 1mg/ml for dependence rarely passes 150 ml).
pub const MAX_ML_PER_DAY: f64 = 500.0;
/// The most patches applied a day, or worn at once, in any real regimen.
pub const MAX_PATCHES_PER_DAY: f64 = 10.0;
/// The most tablets, capsules, ampoules, doses... a day in any real regimen (the BNF's largest
/// adult doses are 16 codeine 15mg tablets, 8 co-codamol, a syringe driver's ampoules).
pub const MAX_COUNTED_UNITS_PER_DAY: f64 = 50.0;
/// A stated duration below one day is not a duration.
pub const MIN_EXPLICIT_DAYS: f64 = 1.0;

/// Why an opioid item is not a plausible supply, if it is not: the column to blame and the
/// reason. A strength beyond any product's, a quantity above [`MAX_QUANTITY_UNITS`], a stated
/// duration outside `MIN_EXPLICIT_DAYS..=max_days_supply` (or not finite), or days of supply
/// worked out from the quantity above `max_days_supply`. Such a row would hide a patient (a
/// supply carried past the audit date) or invent one (1e303 mg a day), so it is rejected.
pub fn implausible(
    p: &Product,
    factor: f64,
    quantity: f64,
    explicit_days: Option<f64>,
    dose: &DoseParse,
    settings: &ItemSettings,
) -> Option<(&'static str, String)> {
    let (limit, unit) = match p.strength_unit {
        StrengthUnit::Mg => (MAX_STRENGTH_MG, "mg"),
        StrengthUnit::MgPerMl => (MAX_STRENGTH_MG_PER_ML, "mg/ml"),
        StrengthUnit::McgPerHour => (MAX_PATCH_RATE_MCG_PER_HOUR, "micrograms/hour"),
    };
    if !(p.strength > 0.0 && p.strength <= limit) {
        let why = format!(
            "strength {} {unit} is not plausible for {} (at most {} {unit})",
            fmt(p.strength),
            p.ingredient,
            fmt(limit)
        );
        return Some(("drug_name", why));
    }
    if !(quantity.is_finite() && quantity <= MAX_QUANTITY_UNITS) {
        let why = format!(
            "quantity of {} {} is not a plausible supply (at most {} units in one item)",
            fmt(quantity),
            p.unit,
            fmt(MAX_QUANTITY_UNITS)
        );
        return Some(("quantity", why));
    }
    let max = settings.max_days_supply;
    if let Some(d) = explicit_days {
        if !(d.is_finite() && (MIN_EXPLICIT_DAYS..=max).contains(&d)) {
            let why = format!(
                "days supply {} is not a plausible number of days (from {} to {}; \
                 --max-days-supply)",
                fmt(d),
                fmt(MIN_EXPLICIT_DAYS),
                fmt(max)
            );
            return Some(("days_supply", why));
        }
    }
    let v = values(p, quantity, explicit_days, dose, factor, settings);
    if explicit_days.is_none() && !(v.days_supply.is_finite() && v.days_supply <= max + EPS) {
        let (column, from) = match v.days_supply_source {
            DaysSource::Dose => ("dose_text", "the quantity and the directions"),
            _ => ("quantity", "the quantity"),
        };
        let why = format!(
            "{} days of supply, worked out from {from}, is not a plausible supply (at most \
             {}; --max-days-supply)",
            fmt((v.days_supply * 10.0).round() / 10.0),
            fmt(max)
        );
        return Some((column, why));
    }
    // The supply itself: the quantity over its days of supply, in the product's units a day,
    // beyond any real regimen (10,000 tablets with no directions are 357 a day over the
    // default 28 days). Such an item would put its patient on the high-dose list.
    let (bound, unit) = max_units_per_day(p);
    let rate = quantity / v.days_supply;
    if !(rate.is_finite() && rate <= bound + EPS) {
        let from = match v.days_supply_source {
            DaysSource::Explicit => "its stated days supply",
            DaysSource::Dose => "the days the directions give",
            DaysSource::PatchWear => "the patches' wear time",
            DaysSource::Default => "the default days supply",
        };
        let why = format!(
            "{} {} over {} days ({from}) is {} {unit} a day, {} mg OME a day: beyond any real \
             regimen (at most {} {unit} a day)",
            fmt(quantity),
            p.unit,
            fmt(v.days_supply),
            fmt((rate * 10.0).round() / 10.0),
            fmt((v.total_ome_mg / v.days_supply).round()),
            fmt(bound)
        );
        return Some(("quantity", why));
    }
    None
}

/// The most units a day of any real regimen, by the product's unit, and the unit's name in a
/// message (METHOD.md §5, "Implausible doses"): 500 ml of a liquid, 10 patches (applied, or
/// worn at once), 50 of anything counted (tablets, capsules, ampoules, doses...).
pub fn max_units_per_day(p: &Product) -> (f64, &'static str) {
    match p.unit.as_str() {
        "ml" => (MAX_ML_PER_DAY, "ml"),
        "patch" => (MAX_PATCHES_PER_DAY, "patches"),
        _ => (MAX_COUNTED_UNITS_PER_DAY, "units"),
    }
}

/// Why directions are beyond any real regimen for this product, if they are: the most units a
/// day they allow (whatever `--prn-policy`), in the product's units, above
/// [`max_units_per_day`]; or, on a patch, more patches worn at once than that.
pub fn implausible_dose(p: &Product, dose: &DoseParse) -> Option<String> {
    let (bound, unit) = max_units_per_day(p);
    if let Some(u) = PrnPolicy::Max
        .units_per_day(dose)
        .and_then(|v| units_in_product(v, dose.unit.as_deref(), p))
    {
        if !(u.is_finite() && u <= bound + EPS) {
            return Some(format!(
                "the directions give {} {unit} a day, more than the {} of any real regimen",
                fmt(u),
                fmt(bound)
            ));
        }
    }
    if p.patch_rate_mcg_per_hour.is_some() && matches!(dose.unit.as_deref(), None | Some("patch")) {
        if let Some(n) = dose
            .dose_max
            .filter(|n| !(n.is_finite() && *n <= bound + EPS))
        {
            return Some(format!(
                "the directions give {} patches worn at once, more than the {} of any real \
                 regimen",
                fmt(n),
                fmt(bound)
            ));
        }
    }
    None
}

/// METHOD.md §5 for one item: `quantity` is in the product's units, `factor` the set's factor
/// for its ingredient and route. Directions beyond any real regimen ([`implausible_dose`])
/// are treated as unparsed: days of supply fall back as for directions that give no amount.
pub fn values(
    p: &Product,
    quantity: f64,
    explicit_days: Option<f64>,
    dose: &DoseParse,
    factor: f64,
    settings: &ItemSettings,
) -> ItemValues {
    match implausible_dose(p, dose) {
        Some(why) => ItemValues {
            dose_implausible: true,
            ..values_of(
                p,
                quantity,
                explicit_days,
                &DoseParse::unparsed(&why),
                factor,
                settings,
            )
        },
        None => values_of(p, quantity, explicit_days, dose, factor, settings),
    }
}

fn values_of(
    p: &Product,
    quantity: f64,
    explicit_days: Option<f64>,
    dose: &DoseParse,
    factor: f64,
    settings: &ItemSettings,
) -> ItemValues {
    let upd = settings
        .prn_policy
        .units_per_day(dose)
        .and_then(|v| units_in_product(v, dose.unit.as_deref(), p));
    if let Some(rate) = p.patch_rate_mcg_per_hour {
        let wear = p.wear_days().unwrap_or(3.0);
        let at_once = match dose.unit.as_deref() {
            None | Some("patch") => dose.dose_max.filter(|d| *d >= 1.0),
            _ => None,
        }
        .unwrap_or(1.0);
        // "a 50mcg and a 25mcg patch together": the item is one of the two strengths, so
        // one of its patches at a time, changed as often as the pair.
        let (at_once, upd) = match (dose.patches_of_two_strengths, upd) {
            (true, Some(u)) => (1.0, Some(u / at_once)),
            (true, None) => (1.0, None),
            (false, u) => (at_once, u),
        };
        let per_day = at_once * crate::ome::patch_ome_mg_day(rate, factor);
        let (days, source) = match (explicit_days, upd) {
            (Some(d), _) => (d, DaysSource::Explicit),
            (None, Some(u)) => (quantity / u, DaysSource::Dose),
            (None, None) => (quantity * wear / at_once, DaysSource::PatchWear),
        };
        let instructed =
            matches!(dose.status, DoseStatus::Parsed | DoseStatus::Partial).then_some(per_day);
        return ItemValues {
            units_per_day: upd,
            patches_at_once: Some(at_once),
            days_supply: days,
            days_supply_source: source,
            days_supply_disagree: days_disagree(explicit_days, quantity, upd),
            total_ome_mg: per_day * days,
            instructed_ome_mg_day: instructed,
            dose_implausible: false,
        };
    }
    let (days, source) = match (explicit_days, upd) {
        (Some(d), _) => (d, DaysSource::Explicit),
        (None, Some(u)) => (quantity / u, DaysSource::Dose),
        (None, None) => (settings.default_days, DaysSource::Default),
    };
    ItemValues {
        units_per_day: upd,
        patches_at_once: None,
        days_supply: days,
        days_supply_source: source,
        days_supply_disagree: days_disagree(explicit_days, quantity, upd),
        total_ome_mg: quantity * p.strength * factor,
        instructed_ome_mg_day: upd.map(|u| u * p.strength * factor),
        dose_implausible: false,
    }
}

/// Whether a stated duration and the days the quantity lasts at the parsed units a day differ
/// by more than half the stated duration (METHOD.md §5); `None` without both.
pub fn days_disagree(explicit_days: Option<f64>, quantity: f64, upd: Option<f64>) -> Option<bool> {
    let (stated, per_day) = (explicit_days?, upd?);
    Some((quantity / per_day - stated).abs() > 0.5 * stated + EPS)
}

/// Why a text cannot be used as written: a NUL byte, or a byte-order mark (two exports joined
/// into one file leave one at the start of a line).
pub fn corrupt_text(text: &str) -> Option<&'static str> {
    if text.contains('\0') {
        Some("has a NUL byte (a damaged export?)")
    } else if text.contains('\u{feff}') {
        Some("has a byte-order mark inside the file (two exports joined?)")
    } else {
        None
    }
}

/// Why an id cannot identify anyone: [`corrupt_text`], or no visible character (only spaces
/// and zero-width characters).
pub fn invisible_id(id: &str) -> Option<&'static str> {
    corrupt_text(id).or_else(|| {
        id.chars()
            .all(|c| c.is_whitespace() || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}'))
            .then_some("has no visible character (only spaces or zero-width characters)")
    })
}

/// An NHS number in any of the forms it is written in, never an ODS practice or ICS code (a
/// letter and five characters; an ICB's `Q` and two more): ten digits, plain or with the usual
/// spaces (`943 476 5919`), whatever their check digit; or ten digits with other separators
/// (hyphens, dots, slashes, more spaces: `943-476-5919`) or a prefix (`NHS 9434765919`,
/// `NHS No: 943 476 5919`, `nhs#9434765919`) that pass the NHS number's Modulus 11 check, so
/// that a code which only happens to hold ten digits is not taken for one by chance.
pub fn looks_like_nhs_number(code: &str) -> bool {
    let code = code.trim();
    let digits = code.bytes().filter(u8::is_ascii_digit).count();
    if digits == 10 && code.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
        return true;
    }
    // A prefix: "NHS", then perhaps "no", "num", "number", then any of " :#.-".
    let lower = code.to_ascii_lowercase();
    let mut rest = lower.as_str();
    if let Some(r) = rest.strip_prefix("nhs") {
        rest = r.trim_start_matches([' ', ':', '#', '.', '-', '_']);
        for word in ["number", "num", "no"] {
            if let Some(r) = rest.strip_prefix(word) {
                rest = r;
                break;
            }
        }
    }
    let rest = rest.trim_matches([' ', ':', '#', '.', '-', '_', '/']);
    let mut ten = [0u8; 10];
    let mut n = 0;
    for b in rest.bytes() {
        match b {
            b'0'..=b'9' if n < 10 => {
                ten[n] = b - b'0';
                n += 1;
            }
            b' ' | b'-' | b'.' | b'/' | b'_' if n > 0 => {}
            _ => return false,
        }
    }
    n == 10 && nhs_check_digit_ok(&ten)
}

/// The NHS number's Modulus 11 check (NHS Data Dictionary, "NHS Number"): the first nine
/// digits weighted 10 down to 2, summed; 11 less the remainder of the sum by 11 is the check
/// digit (11 counts as 0; 10 is never valid).
pub fn nhs_check_digit_ok(digits: &[u8; 10]) -> bool {
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10u32).rev())
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => digits[9] == 0,
        10 => false,
        c => u32::from(digits[9]) == c,
    }
}

#[cfg(test)]
mod tests;
