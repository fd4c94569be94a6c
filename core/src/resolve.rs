//! Resolution: from what an extract says about an item to a product, in the order of evidence
//! of METHOD.md §2 — dm+d code, BNF code (exact, then its generic equivalent), the normalised
//! name, then the parser for unseen names.
//!
//! Every item ends in exactly one [`Status`]: `resolved`, `not_opioid`, `excluded` (opioid
//! dependence, BNF 0410) or `unresolved` with the reason. Nothing that looks like an opioid is
//! ever set aside as "not an opioid".

use std::sync::Arc;

use crate::dictionary::{Dictionary, Entry};
use crate::names::{self, NameFailure, NameHints};
use crate::product::{Product, Release, Route, StrengthUnit};
use crate::timeline::EPS;

/// How an item ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Resolved,
    NotOpioid,
    Excluded,
    Unresolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Resolved => "resolved",
            Status::NotOpioid => "not_opioid",
            Status::Excluded => "excluded",
            Status::Unresolved => "unresolved",
        }
    }
}

/// Which evidence settled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchedBy {
    Dmd,
    Bnf,
    BnfGeneric,
    Name,
    Parsed,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Dmd => "dmd",
            MatchedBy::Bnf => "bnf",
            MatchedBy::BnfGeneric => "bnf_generic",
            MatchedBy::Name => "name",
            MatchedBy::Parsed => "parsed",
        }
    }
}

/// The outcome of resolving one item.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub status: Status,
    pub matched_by: Option<MatchedBy>,
    pub product: Option<Arc<Product>>,
    /// Why, when not resolved (also set for excluded items).
    pub reason: Option<String>,
}

impl Resolution {
    fn not_opioid() -> Resolution {
        Resolution {
            status: Status::NotOpioid,
            matched_by: None,
            product: None,
            reason: None,
        }
    }

    fn unresolved(reason: String) -> Resolution {
        Resolution {
            status: Status::Unresolved,
            matched_by: None,
            product: None,
            reason: Some(reason),
        }
    }

    /// A product found: resolved, or excluded when it is for opioid dependence (its own
    /// mark, or [`dependence_reason`]) unless `include_dependence`.
    fn found(product: Arc<Product>, by: MatchedBy, include_dependence: bool) -> Resolution {
        let dependence = product
            .excluded_reason
            .clone()
            .or_else(|| dependence_reason(&product).map(String::from));
        match dependence {
            Some(reason) if !include_dependence => Resolution {
                status: Status::Excluded,
                matched_by: Some(by),
                product: Some(product),
                reason: Some(reason),
            },
            Some(reason) if is_depot_injection(&product) => Resolution {
                status: Status::Unresolved,
                matched_by: Some(by),
                product: None,
                reason: Some(format!("{reason}: {DEPOT_NO_FACTOR}")),
            },
            _ => Resolution {
                status: Status::Resolved,
                matched_by: Some(by),
                product: Some(product),
                reason: None,
            },
        }
    }
}

/// Why a product is for opioid dependence whatever code it came with (METHOD.md §2), if it
/// is: methadone oral solutions and concentrates of 1 mg/ml and above (in primary care
/// almost always substitution treatment; the 2mg/5ml linctus is a cough medicine and stays),
/// buprenorphine sublingual or buccal 2 mg and above (licensed for dependence only), and
/// prolonged-release buprenorphine injections (Buvidal, Sublocade and their generic names).
pub fn dependence_reason(p: &Product) -> Option<&'static str> {
    match (p.ingredient.as_str(), p.route) {
        ("methadone", Route::Oral)
            if p.strength_unit == StrengthUnit::MgPerMl && p.strength >= 1.0 - EPS =>
        {
            Some("opioid dependence (methadone oral solution 1mg/ml and above)")
        }
        ("buprenorphine", Route::Sublingual | Route::Buccal | Route::Oromucosal)
            if p.strength_unit == StrengthUnit::Mg && p.strength >= 2.0 - EPS =>
        {
            Some("opioid dependence (buprenorphine 2mg and above)")
        }
        _ if is_depot_injection(p) => {
            Some("opioid dependence (prolonged-release buprenorphine injection)")
        }
        _ => None,
    }
}

/// A prolonged-release buprenorphine injection: a weekly or monthly depot for dependence.
fn is_depot_injection(p: &Product) -> bool {
    p.ingredient == "buprenorphine"
        && p.route == Route::Injection
        && (p.release == Release::Modified || p.form.contains("prolonged-release"))
}

const DEPOT_NO_FACTOR: &str = "included by --include-dependence, but no factor set converts a \
                               prolonged-release buprenorphine injection (a weekly or monthly \
                               depot; the injection factor is for short-acting doses)";

/// What an extract row says about the item. Empty strings count as absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemText<'a> {
    pub dmd_code: &'a str,
    pub bnf_code: &'a str,
    pub name: &'a str,
}

/// `4.07E+13`, `3.6057e16`: a code a spreadsheet turned into a number.
pub fn looks_scientific(code: &str) -> bool {
    let c = code.trim();
    let Some(pos) = c.find(['e', 'E']) else {
        return false;
    };
    let (mantissa, exp) = (&c[..pos], &c[pos + 1..]);
    !mantissa.is_empty()
        && mantissa.parse::<f64>().is_ok()
        && exp.trim_start_matches('+').parse::<i32>().is_ok()
}

/// A BNF code that lost its leading zero in a spreadsheet (`407020Q0AAAIAI`, 14 characters)
/// gets it back; anything else is returned as it is.
pub fn repair_bnf(code: &str) -> Option<String> {
    let c = code.trim();
    (c.len() == 14
        && c.is_ascii()
        && c.starts_with(|ch: char| ch.is_ascii_digit() && ch != '0')
        && c.bytes().all(|b| b.is_ascii_alphanumeric())
        && c.bytes().any(|b| b.is_ascii_alphabetic()))
    .then(|| format!("0{c}"))
}

/// Resolves items against a dictionary.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'d> {
    dict: &'d Dictionary,
    /// `--include-dependence`: products for opioid dependence are resolved (with their
    /// factor where the set has one) instead of excluded.
    include_dependence: bool,
}

const DEPENDENCE: &str = "opioid dependence (BNF 0410)";

impl<'d> Resolver<'d> {
    pub fn new(dict: &'d Dictionary) -> Resolver<'d> {
        Resolver {
            dict,
            include_dependence: false,
        }
    }

    /// The same resolver, with products for opioid dependence included (or not).
    pub fn include_dependence(self, include: bool) -> Resolver<'d> {
        Resolver {
            include_dependence: include,
            ..self
        }
    }

    pub fn builtin() -> Resolver<'static> {
        Resolver::new(Dictionary::builtin())
    }

    /// Resolve one item. Pure: the same text always gives the same answer, so callers resolve
    /// each distinct (dm+d, BNF, name) once.
    pub fn resolve(&self, item: ItemText<'_>) -> Resolution {
        let dmd = item.dmd_code.trim();
        let bnf = item.bnf_code.trim();
        let name = item.name.trim();
        let mut reasons: Vec<String> = Vec::new();
        let dependence_code = bnf.starts_with("0410");

        let mut result = self.resolve_codes(dmd, bnf, &mut reasons);
        if result.is_none() && !name.is_empty() {
            let mut by_name = self.resolve_name(name);
            if !reasons.is_empty() {
                match by_name.status {
                    // A BNF chemical shared by opioid and non-opioid products (ibuprofen,
                    // ibuprofen with codeine): a name with no opioid in it is not an opioid.
                    Status::NotOpioid => {}
                    Status::Unresolved => {
                        let why = by_name.reason.take().unwrap_or_default();
                        by_name.reason = Some(format!("{}; {why}", reasons.join("; ")));
                    }
                    _ => {}
                }
            }
            result = Some(by_name);
        }
        let mut result = match result {
            Some(r) => r,
            None if !reasons.is_empty() => Resolution::unresolved(reasons.join("; ")),
            None if dmd.is_empty() && bnf.is_empty() => {
                Resolution::unresolved("no dm+d code, BNF code or name".into())
            }
            None => Resolution::not_opioid(),
        };
        // BNF 0410 (drugs used in substance dependence): opioids there are excluded; other
        // items there (nicotine, lofexidine by name) are not opioids.
        if dependence_code {
            let is_dependence_opioid = match result.status {
                Status::NotOpioid => name.is_empty() && bnf.starts_with("0410030"),
                _ => true,
            };
            if is_dependence_opioid && !self.include_dependence {
                result.status = Status::Excluded;
                result.reason = Some(DEPENDENCE.into());
            } else if is_dependence_opioid && result.status != Status::Resolved {
                // Included, but nothing says what the product is.
                let why = result
                    .reason
                    .take()
                    .unwrap_or_else(|| "not in the product dictionary and no name to read".into());
                result = Resolution::unresolved(format!(
                    "{DEPENDENCE} included by --include-dependence: {why}"
                ));
            }
        }
        result
    }

    fn entry_resolution(&self, entry: &Entry, by: MatchedBy) -> Resolution {
        match entry {
            Entry::Product(p) => Resolution::found(p.clone(), by, self.include_dependence),
            Entry::Unresolvable { name, reason, .. } => Resolution {
                status: Status::Unresolved,
                matched_by: Some(by),
                product: None,
                reason: Some(format!("{name}: {reason}")),
            },
        }
    }

    fn resolve_codes(&self, dmd: &str, bnf: &str, reasons: &mut Vec<String>) -> Option<Resolution> {
        if !dmd.is_empty() {
            if let Some(e) = self.dict.by_dmd(dmd) {
                return Some(self.entry_resolution(e, MatchedBy::Dmd));
            }
            if looks_scientific(dmd) {
                reasons.push(format!(
                    "dm+d code '{dmd}' was turned into a number by a spreadsheet (scientific \
                     notation), so its digits are lost; export the code column as text"
                ));
            } else if !dmd.bytes().all(|b| b.is_ascii_digit()) {
                reasons.push(format!("dm+d code '{dmd}' is not a number"));
            }
        }
        if !bnf.is_empty() {
            if let Some(e) = self.dict.by_bnf(bnf) {
                return Some(self.entry_resolution(e, MatchedBy::Bnf));
            }
            if let Some(e) = self.dict.by_generic_bnf(bnf) {
                return Some(self.entry_resolution(e, MatchedBy::BnfGeneric));
            }
            if bnf.starts_with("040702") || self.dict.knows_bnf_chemical(bnf) {
                reasons.push(format!(
                    "BNF code {bnf} is an opioid presentation not in the product dictionary"
                ));
            }
        }
        None
    }

    /// Resolve by name alone: exact normalised name, loose name, "VMP previous to", parser.
    pub fn resolve_name(&self, name: &str) -> Resolution {
        let norm = names::normalise(name);
        if norm.is_empty() {
            return Resolution::unresolved("empty name".into());
        }
        if let Some(e) = self.dict.by_name(&norm) {
            return self.entry_resolution(e, MatchedBy::Name);
        }
        if let Some(id) = norm.strip_prefix("vmp previous to ") {
            if let Some(e) = self.dict.by_dmd(id.trim()) {
                return self.entry_resolution(e, MatchedBy::Name);
            }
        }
        if let Some(e) = self.dict.by_loose_name(&norm) {
            return self.entry_resolution(e, MatchedBy::Name);
        }
        // A trailing supplier in brackets, as dm+d's AMP names and GP Connect give them
        // ("MST Continus 60mg tablets (Napp Pharmaceuticals Ltd)"): the name without it, so
        // that the product's dm+d id is found rather than only its parsed numbers.
        if let Some(bare) = without_trailing_brackets(name) {
            let bare = names::normalise(bare);
            if let Some(e) = self
                .dict
                .by_name(&bare)
                .or_else(|| self.dict.by_loose_name(&bare))
            {
                return self.entry_resolution(e, MatchedBy::Name);
            }
        }
        match names::parse(&norm, self.dict.learnt_brands(), &NameHints::default()) {
            Ok(parsed) => {
                let generic = self.dict.find_generic(
                    &parsed.ingredient,
                    parsed.route,
                    &parsed.form,
                    parsed.release,
                    parsed.strength,
                );
                let product = match generic {
                    // The name describes a dictionary product exactly: count it as that
                    // generic product, keeping the name as written.
                    Some(g) if parsed.excluded_reason.is_none() || g.excluded_reason.is_some() => {
                        let mut p = (**g).clone();
                        p.name = name.to_string();
                        p.dmd_id = String::new();
                        p.dmd_type = String::new();
                        p.bnf_code = String::new();
                        p.patch_wear_days = parsed.patch_wear_days.or(p.patch_wear_days);
                        p
                    }
                    _ => Product {
                        dmd_id: String::new(),
                        dmd_type: String::new(),
                        name: name.to_string(),
                        bnf_code: String::new(),
                        product_key: format!("name:{norm}"),
                        ingredient: parsed.ingredient,
                        ingredients: parsed.ingredients.join(";"),
                        route: parsed.route,
                        form: parsed.form,
                        unit: parsed.unit,
                        release: parsed.release,
                        strength: parsed.strength,
                        strength_unit: parsed.strength_unit,
                        patch_rate_mcg_per_hour: parsed.patch_rate_mcg_per_hour,
                        patch_wear_days: parsed.patch_wear_days,
                        excluded_reason: parsed.excluded_reason,
                    },
                };
                Resolution::found(
                    Arc::new(product),
                    MatchedBy::Parsed,
                    self.include_dependence,
                )
            }
            Err(NameFailure::NotOpioid) => Resolution::not_opioid(),
            Err(NameFailure::Incomplete(why)) => Resolution::unresolved(why),
        }
    }
}

/// A name without its trailing bracketed part (a supplier: `(Napp Pharmaceuticals Ltd)`), when
/// it has one and something is left.
fn without_trailing_brackets(name: &str) -> Option<&str> {
    let t = name.trim_end();
    let inner = t.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let bare = inner[..open].trim_end();
    (!bare.is_empty()).then_some(bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(dmd: &str, bnf: &str, name: &str) -> Resolution {
        Resolver::builtin().resolve(ItemText {
            dmd_code: dmd,
            bnf_code: bnf,
            name,
        })
    }

    /// Brands of methadone and buprenorphine for dependence (dm+d AMPs: Methadose,
    /// Metharose, Synastone, Eptadone; Zubsolv, Prefibin, Tephine) are excluded by name as
    /// the generics are; the same brands at strengths for pain stay in; and a name that holds
    /// an opioid's name but cannot be read is unresolved, never `not_opioid`.
    #[test]
    fn dependence_brands_are_excluded_and_opioid_names_never_not_opioid() {
        for name in [
            "Methadose 10mg/ml oral concentrate",
            "Methadose 1mg/ml oral solution",
            "Metharose 1mg/ml oral solution sugar free",
            "Synastone 1mg/ml oral solution",
            "Eptadone 1mg/ml oral solution",
            "Zubsolv 5.7mg/1.4mg sublingual tablets",
            "Prefibin 8mg sublingual tablets",
            "Tephine 2mg sublingual tablets",
        ] {
            let x = r("", "", name);
            assert_eq!(x.status, Status::Excluded, "{name}: {x:?}");
            assert!(
                x.reason
                    .as_deref()
                    .unwrap_or("")
                    .contains("opioid dependence"),
                "{name}: {x:?}"
            );
        }
        // Physeptone 5mg tablets are for pain: resolved.
        let x = r("", "", "Physeptone 5mg tablets");
        assert_eq!(x.status, Status::Resolved, "{x:?}");
        assert_eq!(x.product.unwrap().ingredient, "methadone");
        for name in [
            "Methadone oral concentrate",
            "Methadose",
            "morphine",
            "Oxycodone as directed",
        ] {
            let x = r("", "", name);
            assert_ne!(x.status, Status::NotOpioid, "{name}: {x:?}");
        }
    }

    /// A trailing supplier in brackets is taken off before the dictionary is asked, so the
    /// AMP's (or VMP's) dm+d id is found: MST Continus 60 mg's AMP is 2883211000001103.
    #[test]
    fn a_trailing_supplier_is_taken_off_for_the_dictionary() {
        let x = r(
            "",
            "",
            "MST Continus 60mg tablets (Napp Pharmaceuticals Ltd)",
        );
        assert_eq!(x.matched_by, Some(MatchedBy::Name));
        assert_eq!(x.product.unwrap().dmd_id, "2883211000001103");
        let x = r(
            "",
            "",
            "Zomorph 30mg modified-release capsules (Ethypharm UK Ltd)",
        );
        assert_eq!(x.matched_by, Some(MatchedBy::Name), "{x:?}");
        assert!(!x.product.unwrap().dmd_id.is_empty());
        assert_eq!(without_trailing_brackets("A (B)"), Some("A"));
        assert_eq!(without_trailing_brackets("(B)"), None);
        assert_eq!(without_trailing_brackets("A (B) C"), None);
    }

    #[test]
    fn order_of_evidence() {
        // dm+d code wins over a contradicting name.
        let x = r("36057211000001102", "", "Paracetamol 500mg tablets");
        assert_eq!(x.matched_by, Some(MatchedBy::Dmd));
        assert_eq!(x.product.unwrap().ingredient, "hydromorphone");
        // A brand BNF code not in the dictionary still matches its generic.
        let x = r("", "0407020Q0ZZACAI", "");
        assert_eq!(x.matched_by, Some(MatchedBy::BnfGeneric));
        assert_eq!(x.product.unwrap().strength, 60.0);
        // Unknown code, known name.
        let x = r("999", "", "MST Continus 60mg tablets");
        assert_eq!(x.matched_by, Some(MatchedBy::Name));
    }

    #[test]
    fn spreadsheet_damage() {
        assert!(looks_scientific("4.07E+13"));
        assert!(looks_scientific("3.6057e16"));
        assert!(!looks_scientific("36057211000001102"));
        assert!(!looks_scientific("E"));
        let x = r("3.60572E+16", "", "");
        assert_eq!(x.status, Status::Unresolved);
        assert!(x.reason.unwrap().contains("scientific notation"));
        assert_eq!(
            repair_bnf("407020Q0AAAIAI").as_deref(),
            Some("0407020Q0AAAIAI")
        );
        assert_eq!(repair_bnf("0407020Q0AAAIAI"), None);
        assert_eq!(repair_bnf("12345678901234"), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(
            r("", "", "Paracetamol 500mg tablets").status,
            Status::NotOpioid
        );
        assert_eq!(r("", "0501013B0AAAAAA", "").status, Status::NotOpioid);
        let x = r("", "", "Morphine tablets");
        assert_eq!(x.status, Status::Unresolved);
        assert!(x.reason.unwrap().contains("no strength"));
        let x = r("", "0407020Q0AAZZZZ", "");
        assert_eq!(x.status, Status::Unresolved);
        assert!(x.reason.unwrap().contains("not in the product dictionary"));
        assert_eq!(
            r("", "", "Subutex 8mg sublingual tablets").status,
            Status::Excluded
        );
        assert_eq!(
            r("", "", "Buprenorphine 8mg sublingual tablets").status,
            Status::Excluded
        );
        assert_eq!(
            r("", "", "Buprenorphine 200microgram sublingual tablets").status,
            Status::Resolved
        );
        // Methadone 1mg/ml is excluded by its 0410 code, and by name alone (issue 12.1).
        let x = r("", "0410030C0AAAAAA", "Methadone 1mg/ml oral solution");
        assert_eq!(x.status, Status::Excluded);
        let x = r("", "", "Methadone 1mg/ml oral solution");
        assert_eq!(x.status, Status::Excluded);
        // Nicotine is in BNF 0410 but is not an opioid.
        assert_eq!(
            r("", "0410020A0AAAAAA", "Nicotine 2mg gum").status,
            Status::NotOpioid
        );
    }

    /// Issue 12.1: products for opioid dependence are excluded by name as well as by code,
    /// whatever code (0407 or none) comes with them; analgesic methadone stays.
    #[test]
    fn dependence_products_by_name() {
        let dependence = [
            ("Methadone 1mg/ml oral solution", "methadone oral solution"),
            (
                "Methadone 1mg/ml oral solution sugar free",
                "methadone oral solution",
            ),
            ("Methadone HCl_Mix 1mg/1ml", "methadone oral solution"),
            (
                "Physeptone 1mg/ml mixture sugar free",
                "methadone oral solution",
            ),
            (
                "Methadone 10mg/ml oral concentrate",
                "methadone oral solution",
            ),
            (
                "Methadone HCl_Oral Conc 20mg/ml S/F",
                "methadone oral solution",
            ),
            (
                "Buprenorphine 128mg/0.36ml prolonged-release solution for injection pre-filled \
                 syringes",
                "prolonged-release buprenorphine injection",
            ),
            (
                "Buprenorphine 8mg/0.16ml prolonged-release solution for injection",
                "prolonged-release buprenorphine injection",
            ),
            (
                "Buvidal 64mg/0.18ml prolonged-release solution for injection",
                "dependence",
            ),
            (
                "Sublocade 100mg/0.5ml prolonged-release solution for injection",
                "dependence",
            ),
            ("Buprenorphine 8mg sublingual tablets", "dependence"),
        ];
        for (name, why) in dependence {
            for bnf in ["", "0407020M0AAAAAA"] {
                let x = r("", bnf, name);
                assert_eq!(x.status, Status::Excluded, "{name} coded '{bnf}'");
                assert!(
                    x.reason.as_deref().unwrap_or("").contains(why),
                    "{name}: {x:?}"
                );
            }
        }
        // Analgesic methadone and buprenorphine stay: tablets, the cough linctus, injections
        // of short action, low-strength sublingual tablets, patches.
        for (name, strength) in [
            ("Methadone 5mg tablets", 5.0),
            ("Methadone 2mg/5ml linctus", 0.4),
            ("Methadone 10mg/1ml solution for injection ampoules", 10.0),
            (
                "Buprenorphine 300micrograms/1ml solution for injection ampoules",
                0.3,
            ),
            (
                "Buprenorphine 400microgram sublingual tablets sugar free",
                0.4,
            ),
            (
                "Buprenorphine 10micrograms/hour seven day transdermal patches",
                10.0,
            ),
        ] {
            let x = r("", "", name);
            assert_eq!(x.status, Status::Resolved, "{name}: {x:?}");
            assert_eq!(x.product.unwrap().strength, strength, "{name}");
        }
    }

    /// Issue 12.2: `--include-dependence` resolves them with the set's factor; a depot
    /// injection has no factor in any set and is unresolved, saying so.
    #[test]
    fn include_dependence_audits_them() {
        let inc = Resolver::builtin().include_dependence(true);
        let res = |bnf: &str, name: &str| {
            inc.resolve(ItemText {
                dmd_code: "",
                bnf_code: bnf,
                name,
            })
        };
        let x = res("0410030C0AAAAAA", "Methadone 1mg/ml oral solution");
        assert_eq!(x.status, Status::Resolved, "{x:?}");
        let p = x.product.unwrap();
        assert_eq!((p.ingredient.as_str(), p.strength), ("methadone", 1.0));
        let x = res("", "Espranor 8mg oral lyophilisates");
        assert_eq!(x.status, Status::Resolved, "{x:?}");
        let x = res(
            "",
            "Buvidal 128mg/0.36ml prolonged-release solution for injection",
        );
        assert_eq!(x.status, Status::Unresolved);
        assert!(x.reason.unwrap().contains("no factor set converts"));
        // A dependence code with nothing to say what it is.
        let x = res("0410030A0AAAZZZ", "");
        assert_eq!(x.status, Status::Unresolved, "{x:?}");
        // Non-opioids of BNF 0410 are still not opioids.
        assert_eq!(
            res("0410020A0AAAAAA", "Nicotine 2mg gum").status,
            Status::NotOpioid
        );
    }

    #[test]
    fn parsed_names_count_as_their_generic_product() {
        let x = r("", "", "Morphine Sulf_Tab 30mg M/R");
        assert_eq!(x.matched_by, Some(MatchedBy::Parsed));
        let p = x.product.unwrap();
        let mst = r("", "", "MST Continus 30mg tablets").product.unwrap();
        assert_eq!(p.product_key, mst.product_key);
        let caps = r("", "", "Zomorph 30mg capsules").product.unwrap();
        assert_ne!(
            caps.product_key, mst.product_key,
            "tablets and capsules differ"
        );
    }
}
