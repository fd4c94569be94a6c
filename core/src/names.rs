//! Product names: normalising them for lookup, and parsing names the dictionary has never seen.
//!
//! [`normalise`] makes the spellings of one product meet: case, spaces, `mcg`/`µg`/
//! `micrograms`, `/ml` and `/1ml`, `m/r`/`MR`/`SR`/`XL`, the EPD's abbreviations (`Tab`, `Cap`,
//! `Oral Soln`, `Sulf`, `HCl`, `Transdermal Patch 25mcg/hr`). [`parse`] then reads an unseen
//! name: the opioid (from an ingredient word or a brand alias), its strength (`10mg`,
//! `10mg/5ml`, `1mg/1ml`, `25micrograms/hour`, `30mg/500mg`, `200microgram`, `0.1%`), the form,
//! route and unit of quantity, and the release type. Combination products count only their
//! opioid: co-codamol 30mg/500mg is 30 mg of codeine.

use std::sync::OnceLock;

use regex::Regex;

use crate::product::{Release, Route, StrengthUnit};

/// Opioid ingredients opal knows, canonical names.
pub const OPIOIDS: &[&str] = &[
    "morphine",
    "diamorphine",
    "codeine",
    "dihydrocodeine",
    "tramadol",
    "tapentadol",
    "oxycodone",
    "hydromorphone",
    "methadone",
    "pethidine",
    "pentazocine",
    "dipipanone",
    "meptazinol",
    "papaveretum",
    "alfentanil",
    "fentanyl",
    "buprenorphine",
    "dextromoramide",
    "dextropropoxyphene",
    "nalbuphine",
    "remifentanil",
    "sufentanil",
    "hydrocodone",
    "oxymorphone",
    "levorphanol",
];

/// Other words for an opioid ingredient.
const OPIOID_SYNONYMS: &[(&str, &str)] = &[
    ("heroin", "diamorphine"),
    ("meperidine", "pethidine"),
    ("propoxyphene", "dextropropoxyphene"),
    ("dihydrocodeine", "dihydrocodeine"),
];

/// Non-opioid ingredients that appear beside opioids in combination products.
const CO_INGREDIENTS: &[&str] = &[
    "paracetamol",
    "aspirin",
    "ibuprofen",
    "naloxone",
    "cyclizine",
    "promethazine",
    "hyoscine",
    "dexketoprofen",
    "kaolin",
    "caffeine",
    "terpin",
    "buclizine",
    "doxylamine",
    "brompheniramine",
    "pseudoephedrine",
    "ipecacuanha",
    "cocaine",
];

/// A brand or combination name and what it stands for (`data/brands.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct BrandAlias {
    pub brand: String,
    /// Ingredients in the order the product's strengths are written (opioid usually first).
    pub ingredients: Vec<String>,
    pub release: Option<Release>,
    pub route: Option<Route>,
    pub form: Option<String>,
    pub patch_wear_days: Option<f64>,
    pub excluded_reason: Option<String>,
}

/// The brand aliases shipped in `data/brands.csv`.
pub fn builtin_brands() -> &'static [BrandAlias] {
    static BRANDS: OnceLock<Vec<BrandAlias>> = OnceLock::new();
    BRANDS.get_or_init(|| {
        parse_brands(include_str!("../../data/brands.csv")).expect("data/brands.csv is valid")
    })
}

fn parse_brands(text: &str) -> Result<Vec<BrandAlias>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("line {}: {e}", i + 2))?;
        let field = |n: usize| rec.get(n).unwrap_or("").trim().to_string();
        let opt = |n: usize| Some(field(n)).filter(|s| !s.is_empty());
        let route = match opt(3) {
            Some(r) => Some(Route::parse(&r).ok_or(format!("line {}: route {r}", i + 2))?),
            None => None,
        };
        let patch_wear_days = match opt(5) {
            Some(d) => Some(d.parse().map_err(|_| format!("line {}: days {d}", i + 2))?),
            None => None,
        };
        out.push(BrandAlias {
            brand: normalise(&field(0)),
            ingredients: field(1).split(';').map(|s| s.trim().to_string()).collect(),
            release: opt(2).and_then(|r| Release::parse(&r)),
            route,
            form: opt(4),
            patch_wear_days,
            excluded_reason: opt(6),
        });
    }
    Ok(out)
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static pattern compiles")
}

macro_rules! static_re {
    ($name:ident, $pat:expr) => {
        fn $name() -> &'static Regex {
            static R: OnceLock<Regex> = OnceLock::new();
            R.get_or_init(|| re($pat))
        }
    };
}

mod normalise;
mod parse;
pub use normalise::*;
pub use parse::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str) -> ParsedName {
        parse(&normalise(name), &[], &NameHints::default())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"))
    }

    #[test]
    fn normalises_spellings_together() {
        let same = [
            (
                "Morphine Sulf_Tab 10mg M/R",
                "morphine sulfate tablet 10mg modified-release",
            ),
            (
                "FENTANYL  25 mcg/hr transdermal PATCHES",
                "fentanyl 25microgram/hour transdermal patch",
            ),
            (
                "Oxycodone 10mg/ml oral solution",
                "oxycodone 10mg/1ml oral solution",
            ),
            (
                "Morphine 10 mg / 5 ml oral soln",
                "morphine 10mg/5ml oral solution",
            ),
            ("Fentanyl 200µg lozenges", "fentanyl 200microgram lozenge"),
            (
                "Tramadol 37.5mg / Paracetamol 325mg tablets",
                "tramadol 37.5mg / paracetamol 325mg tablet",
            ),
        ];
        for (input, want) in same {
            assert_eq!(normalise(input), want, "{input}");
            assert_eq!(normalise(want), want, "idempotent: {want}");
        }
    }

    #[test]
    fn normalising_is_idempotent_on_fuzzer_finds() {
        // fuzz/artifacts/names/crash-e67af5fd...: dots before a digit grew "0." each pass.
        for text in [
            ",/......................2....................................",
            ". morphine",
            "10 / 30/500",
            ".5mg",
        ] {
            let n = normalise(text);
            assert_eq!(normalise(&n), n, "{text:?}");
        }
        assert_eq!(normalise("morphine .5mg/5ml"), "morphine 0.5mg/5ml");
    }

    #[test]
    fn strengths_of_every_written_shape() {
        let x = p("Morphine sulfate 10mg/5ml oral solution");
        assert_eq!((x.strength, x.strength_unit), (2.0, StrengthUnit::MgPerMl));
        assert_eq!((x.unit.as_str(), x.route), ("ml", Route::Oral));
        let x = p("Morphine sulfate 1mg/1ml solution for injection ampoules");
        assert_eq!((x.strength, x.unit.as_str()), (1.0, "ampoule"));
        let x = p("Alfentanil 5mg/10ml solution for injection ampoules");
        assert_eq!((x.strength, x.route), (5.0, Route::Injection));
        let x = p("Buprenorphine 5micrograms/hour transdermal patches");
        assert_eq!(x.patch_rate_mcg_per_hour, Some(5.0));
        assert_eq!(x.patch_wear_days, Some(7.0));
        let x = p("Co-codamol 30mg/500mg tablets");
        assert_eq!((x.ingredient.as_str(), x.strength), ("codeine", 30.0));
        let x = p("Fentanyl 200microgram lozenges");
        assert_eq!((x.strength, x.route), (0.2, Route::Oromucosal));
        let x = p("Aspirin 500mg / Codeine 8mg dispersible tablets");
        assert_eq!((x.ingredient.as_str(), x.strength), ("codeine", 8.0));
        let x = p("Boots Ibuprofen and Codeine 200mg/12.8mg tablets");
        assert_eq!((x.ingredient.as_str(), x.strength), ("codeine", 12.8));
        let x = p("Co-codamol 30mg/500mg/5ml oral solution sugar free");
        assert_eq!((x.strength, x.strength_unit), (6.0, StrengthUnit::MgPerMl));
        let x = p("Alfentanil 0.1% nasal spray");
        assert_eq!((x.strength, x.unit.as_str()), (1.0, "ml"));
        let x = p("Fentanyl 100micrograms/dose nasal spray");
        assert_eq!((x.strength, x.unit.as_str()), (0.1, "dose"));
        let x = p("Fentanyl 12micrograms/hour transdermal patches");
        assert_eq!(x.patch_rate_mcg_per_hour, Some(12.5));
    }

    #[test]
    fn epd_descriptions_and_brands() {
        let x = p("Morphine Sulf_Tab 10mg M/R");
        assert_eq!(
            (x.ingredient.as_str(), x.strength, x.release),
            ("morphine", 10.0, Release::Modified)
        );
        let x = p("MST CONTINUS 30MG TABLETS");
        assert_eq!((x.release, x.strength), (Release::Modified, 30.0));
        let x = p("Oramorph 10mg/5ml oral solution");
        assert_eq!((x.ingredient.as_str(), x.strength), ("morphine", 2.0));
        let x = p("Hapoctasin 35micrograms/hour transdermal patches");
        assert_eq!(x.patch_wear_days, Some(3.0));
        let x = p("Transtec 35micrograms/hour transdermal patches");
        assert_eq!(x.patch_wear_days, Some(4.0));
        let x = p("Subutex 8mg sublingual tablets");
        assert!(x.excluded_reason.is_some());
        let x = p("Targinact 20mg/10mg modified-release tablets");
        assert_eq!((x.ingredient.as_str(), x.strength), ("oxycodone", 20.0));
        let x = p("Morphine Sulf_Inj 10mg/ml 2ml Amp");
        assert_eq!((x.strength, x.unit.as_str()), (20.0, "ampoule"));
    }

    /// Issue 12.7: wear time read from the name, before the brand and the ingredient default.
    #[test]
    fn patch_wear_from_the_name() {
        for (text, days) in [
            (
                "buprenorphine 5microgram/hour seven day transdermal patch",
                Some(7.0),
            ),
            (
                "fentanyl 25microgram/hour 72 hour transdermal patch",
                Some(3.0),
            ),
            (
                "fentanyl 25microgram/hour three day transdermal patch",
                Some(3.0),
            ),
            (
                "buprenorphine 35microgram/hour 96 hour transdermal patch",
                Some(4.0),
            ),
            (
                "buprenorphine 20microgram/hour four day transdermal patch",
                Some(4.0),
            ),
            ("buprenorphine patch 5microgram/hour 7day", Some(7.0)),
            ("buprenorphine patch 70microgram/hour 96hr", Some(4.0)),
            ("morphine 10mg 12-hour tablet", None),
            ("fentanyl 25microgram/hour transdermal patch", None),
            ("buprenorphine 14 day patch", None),
        ] {
            assert_eq!(wear_days_in_name(text), days, "{text}");
        }
        // The name wins over the default (buprenorphine 20 would be 7 days) and the brand.
        assert_eq!(
            p("Buprenorphine 20micrograms/hour four day transdermal patches").patch_wear_days,
            Some(4.0)
        );
        assert_eq!(
            p("Buprenorphine_Patch 35mcg/hr (96hr)").patch_wear_days,
            Some(4.0)
        );
        assert_eq!(
            p("Fentanyl 25micrograms/hour transdermal patches").patch_wear_days,
            Some(3.0)
        );
    }

    #[test]
    fn failures_say_why() {
        let f = |n: &str| parse(&normalise(n), &[], &NameHints::default()).unwrap_err();
        assert_eq!(f("Paracetamol 500mg tablets"), NameFailure::NotOpioid);
        assert_eq!(f("Amoxicillin 250mg capsules"), NameFailure::NotOpioid);
        assert!(
            matches!(f("Morphine tablets"), NameFailure::Incomplete(w) if w.contains("no strength"))
        );
        assert!(
            matches!(f("Oramorph"), NameFailure::Incomplete(w) if w.contains("no strength") || w.contains("no dose form"))
        );
        assert!(
            matches!(f("Morphine 10mg oral solution"), NameFailure::Incomplete(w) if w.contains("per volume"))
        );
        assert!(
            matches!(f("Fentanyl 25mg transdermal patch"), NameFailure::Incomplete(w) if w.contains("rate"))
        );
    }
}
