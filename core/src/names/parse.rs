//! Reading a product name the dictionary has never seen: the opioid (an ingredient word or a
//! brand alias), its strength groups, the form, route and unit of quantity, the release type,
//! and a patch's wear time.

use super::*;

/// What the parser read from a name.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedName {
    /// The opioid ingredient.
    pub ingredient: String,
    /// All ingredients found, in the order written.
    pub ingredients: Vec<String>,
    pub route: Route,
    pub form: String,
    pub unit: String,
    pub release: Release,
    pub strength: f64,
    pub strength_unit: StrengthUnit,
    pub patch_rate_mcg_per_hour: Option<f64>,
    pub patch_wear_days: Option<f64>,
    pub excluded_reason: Option<String>,
    /// The brand alias that named the ingredient, if any.
    pub brand: Option<String>,
}

/// Why a name could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFailure {
    /// No opioid ingredient or brand in the name: not an opioid as far as opal can tell.
    NotOpioid,
    /// Looks like an opioid but something is missing; the text says what.
    Incomplete(String),
}

/// Hints from elsewhere (the BNF code, the generic product) used when the name is silent.
#[derive(Debug, Clone, Default)]
pub struct NameHints {
    pub ingredients: Option<Vec<String>>,
    pub route: Option<Route>,
    pub form: Option<String>,
    pub unit: Option<String>,
    pub release: Option<Release>,
}

pub(super) fn canonical_ingredient(word: &str) -> Option<&'static str> {
    if let Some(o) = OPIOIDS.iter().find(|o| **o == word) {
        return Some(o);
    }
    if let Some((_, o)) = OPIOID_SYNONYMS.iter().find(|(w, _)| *w == word) {
        return Some(o);
    }
    CO_INGREDIENTS.iter().find(|c| **c == word).copied()
}

/// Whether an ingredient is an opioid.
pub fn is_opioid(ingredient: &str) -> bool {
    OPIOIDS.contains(&ingredient)
}

/// Whether a normalised name mentions an opioid ingredient or a brand alias: such a name must
/// resolve or be reported, never be set aside as "not an opioid".
pub fn looks_opioid(normalised: &str, extra_brands: &[BrandAlias]) -> bool {
    normalised
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .any(|w| {
            let w = w.trim_matches('-');
            (w.len() > 3 && OPIOIDS.iter().any(|o| w.starts_with(o)))
                || OPIOID_SYNONYMS.iter().any(|(s, _)| *s == w)
        })
        || find_brand(normalised, builtin_brands()).is_some()
        || find_brand(normalised, extra_brands).is_some()
}

pub(super) fn find_brand<'a>(normalised: &str, brands: &'a [BrandAlias]) -> Option<&'a BrandAlias> {
    let padded = format!(" {normalised} ");
    brands
        .iter()
        .filter(|b| {
            !b.brand.is_empty()
                && padded.contains(&format!(" {} ", b.brand))
                && b.ingredients.iter().any(|i| is_opioid(i))
        })
        // Longest match wins: "mst continus" over "continus".
        .max_by_key(|b| b.brand.len())
}

/// One strength group: `30mg/500mg/5ml` is amounts [30, 500] mg over 5 ml.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StrengthGroup {
    /// Amounts in mg (micrograms and grams converted).
    pub(super) amounts_mg: Vec<f64>,
    /// Whether the first amount was written in micrograms.
    pub(super) micrograms: bool,
    pub(super) denominator: Option<(f64, Denominator)>,
    /// Byte offset in the normalised name.
    pub(super) start: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Denominator {
    Ml,
    Hour,
    Dose,
}

static_re!(
    re_group,
    r"(?:^|[^\d.])((?:\d+(?:\.\d+)?(?:mg|microgram|g)(?:/|\b))+)(?:(\d+(?:\.\d+)?)?(ml|hour|dose)\b)?"
);
static_re!(re_amount, r"(\d+(?:\.\d+)?)(mg|microgram|g)");
static_re!(re_percent, r"(\d+(?:\.\d+)?)%");
static_re!(re_volume, r"\b(\d+(?:\.\d+)?)ml\b");

pub(super) fn strength_groups(s: &str) -> Vec<StrengthGroup> {
    let mut out = Vec::new();
    for cap in re_group().captures_iter(s) {
        let Some(whole) = cap.get(1) else { continue };
        let mut amounts_mg = Vec::new();
        let mut micrograms = false;
        for (i, a) in re_amount().captures_iter(whole.as_str()).enumerate() {
            let value: f64 = a[1].parse().unwrap_or(f64::NAN);
            let mg = match &a[2] {
                "microgram" => {
                    if i == 0 {
                        micrograms = true;
                    }
                    value / 1000.0
                }
                "g" => value * 1000.0,
                _ => value,
            };
            amounts_mg.push(mg);
        }
        let denominator = cap.get(3).map(|u| {
            let n = cap
                .get(2)
                .and_then(|n| n.as_str().parse().ok())
                .unwrap_or(1.0);
            let d = match u.as_str() {
                "ml" => Denominator::Ml,
                "hour" => Denominator::Hour,
                _ => Denominator::Dose,
            };
            (n, d)
        });
        // A bare "30mg/" with nothing after it is still a group of one.
        if amounts_mg.is_empty() || amounts_mg.iter().any(|v| !v.is_finite()) {
            continue;
        }
        out.push(StrengthGroup {
            amounts_mg,
            micrograms,
            denominator,
            start: whole.start(),
        });
    }
    out
}

pub(super) struct FormRule {
    /// Any of these words (in order of the name) selects the rule.
    pub(super) needles: &'static [&'static str],
    pub(super) form: &'static str,
    pub(super) route: Route,
    pub(super) unit: &'static str,
}

/// Dose forms, most specific first.
pub(super) const FORMS: &[FormRule] = &[
    FormRule {
        needles: &["patch"],
        form: "transdermal patch",
        route: Route::Transdermal,
        unit: "patch",
    },
    FormRule {
        needles: &["cigarette"],
        form: "impregnated cigarette",
        route: Route::Inhalation,
        unit: "cigarette",
    },
    FormRule {
        needles: &["nasal"],
        form: "nasal spray",
        route: Route::Nasal,
        unit: "dose",
    },
    FormRule {
        needles: &["buccal film"],
        form: "buccal film",
        route: Route::Buccal,
        unit: "film",
    },
    FormRule {
        needles: &["buccal"],
        form: "buccal tablet",
        route: Route::Buccal,
        unit: "tablet",
    },
    FormRule {
        needles: &["sublingual film"],
        form: "sublingual film",
        route: Route::Sublingual,
        unit: "film",
    },
    FormRule {
        needles: &["sublingual"],
        form: "sublingual tablet",
        route: Route::Sublingual,
        unit: "tablet",
    },
    FormRule {
        needles: &["lyophilisate"],
        form: "oral lyophilisate",
        route: Route::Sublingual,
        unit: "tablet",
    },
    FormRule {
        needles: &["lozenge", "oromucosal"],
        form: "lozenge",
        route: Route::Oromucosal,
        unit: "lozenge",
    },
    FormRule {
        needles: &["suppository"],
        form: "suppository",
        route: Route::Rectal,
        unit: "suppository",
    },
    FormRule {
        needles: &["injection", "infusion", "ampoule", "pre-filled", "syringe"],
        form: "injection",
        route: Route::Injection,
        unit: "ampoule",
    },
    FormRule {
        needles: &["granules"],
        form: "granules sachet",
        route: Route::Oral,
        unit: "sachet",
    },
    FormRule {
        needles: &["sachet", "powder"],
        form: "powder sachet",
        route: Route::Oral,
        unit: "sachet",
    },
    FormRule {
        needles: &["oral drops", "drops"],
        form: "oral drops",
        route: Route::Oral,
        unit: "ml",
    },
    FormRule {
        needles: &["suspension"],
        form: "oral suspension",
        route: Route::Oral,
        unit: "ml",
    },
    FormRule {
        needles: &["linctus"],
        form: "linctus",
        route: Route::Oral,
        unit: "ml",
    },
    FormRule {
        needles: &["elixir"],
        form: "elixir",
        route: Route::Oral,
        unit: "ml",
    },
    FormRule {
        needles: &["mixture"],
        form: "mixture",
        route: Route::Oral,
        unit: "ml",
    },
    FormRule {
        needles: &["solution", "liquid", "syrup", "concentrate", "vial"],
        form: "oral solution",
        route: Route::Oral,
        unit: "ml",
    },
    FormRule {
        needles: &["orodispersible"],
        form: "orodispersible tablet",
        route: Route::Oral,
        unit: "tablet",
    },
    FormRule {
        needles: &["effervescent tablet"],
        form: "effervescent tablet",
        route: Route::Oral,
        unit: "tablet",
    },
    FormRule {
        needles: &["dispersible"],
        form: "dispersible tablet",
        route: Route::Oral,
        unit: "tablet",
    },
    FormRule {
        needles: &["soluble"],
        form: "soluble tablet",
        route: Route::Oral,
        unit: "tablet",
    },
    FormRule {
        needles: &["chewable"],
        form: "chewable tablet",
        route: Route::Oral,
        unit: "tablet",
    },
    FormRule {
        needles: &["tablet", "caplet"],
        form: "tablet",
        route: Route::Oral,
        unit: "tablet",
    },
    FormRule {
        needles: &["capsule"],
        form: "capsule",
        route: Route::Oral,
        unit: "capsule",
    },
];

pub(super) fn contains_word(padded: &str, needle: &str) -> bool {
    padded.contains(&format!(" {needle}"))
}

pub(super) fn find_form(normalised: &str) -> Option<&'static FormRule> {
    let padded = format!(" {normalised} ");
    // Oral liquids in unit-dose vials are not injections.
    let injection_words = ["injection", "infusion"];
    let is_injection = injection_words.iter().any(|w| contains_word(&padded, w));
    FORMS.iter().find(|rule| {
        if rule.route == Route::Injection {
            return is_injection
                || (rule.needles.iter().any(|n| contains_word(&padded, n))
                    && !contains_word(&padded, "oral"));
        }
        if is_injection && rule.route == Route::Oral && rule.unit == "ml" {
            return false;
        }
        rule.needles.iter().any(|n| contains_word(&padded, n))
    })
}

pub(super) fn injection_unit(padded: &str) -> &'static str {
    if contains_word(padded, "bag") {
        "bag"
    } else if contains_word(padded, "syringe") || contains_word(padded, "pre-filled") {
        "syringe"
    } else if contains_word(padded, "vial") {
        "vial"
    } else if contains_word(padded, "cartridge") {
        "cartridge"
    } else {
        "ampoule"
    }
}

pub(super) const MODIFIED_WORDS: &[&str] = &[
    "modified-release",
    "continus",
    "24hr",
    "12hr",
    "24-hour",
    "12-hour",
];

/// Parse an unseen product name (already [`normalise`]d).
///
/// `extra_brands` are aliases learnt from the dictionary (brand names of dm+d AMPs), used after
/// the built-in ones; `hints` fill in what the name does not say.
pub fn parse(
    normalised: &str,
    extra_brands: &[BrandAlias],
    hints: &NameHints,
) -> Result<ParsedName, NameFailure> {
    let padded = format!(" {normalised} ");
    let brand = find_brand(normalised, builtin_brands()).or_else(|| {
        // A learnt brand counts only when no ingredient word is written.
        find_brand(normalised, extra_brands)
    });

    // Ingredients in written order, each with the byte offset of its word.
    let mut written: Vec<(usize, &'static str)> = Vec::new();
    let mut offset = 0;
    for word in normalised.split(' ') {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
        let pieces: Vec<&str> = if bare.starts_with("co-") {
            vec![bare]
        } else {
            bare.split('-').collect()
        };
        for piece in pieces {
            let piece = piece
                .strip_suffix("hydrochloride")
                .or_else(|| piece.strip_suffix("hcl"))
                .filter(|p| !p.is_empty())
                .unwrap_or(piece);
            if let Some(ing) = canonical_ingredient(piece) {
                if !written.iter().any(|(_, w)| *w == ing) {
                    written.push((offset, ing));
                }
            }
        }
        offset += word.len() + 1;
    }

    let mut ingredients: Vec<String> = Vec::new();
    let mut ingredient_offsets: Vec<Option<usize>> = Vec::new();
    let written_has_opioid = written.iter().any(|(_, w)| is_opioid(w));
    if let Some(b) = brand.filter(|_| !written_has_opioid || written.len() < 2) {
        for i in &b.ingredients {
            ingredients.push(i.clone());
            ingredient_offsets.push(written.iter().find(|(_, w)| w == i).map(|(o, _)| *o));
        }
    } else if !written.is_empty() {
        for (o, w) in &written {
            ingredients.push((*w).to_string());
            ingredient_offsets.push(Some(*o));
        }
    } else if let Some(h) = &hints.ingredients {
        for i in h {
            ingredients.push(i.clone());
            ingredient_offsets.push(None);
        }
    }
    let Some(opioid_index) = ingredients.iter().position(|i| is_opioid(i)) else {
        if looks_opioid(normalised, extra_brands) {
            return Err(NameFailure::Incomplete(
                "names an opioid that opal has no factor for".into(),
            ));
        }
        return Err(NameFailure::NotOpioid);
    };
    let ingredient = ingredients[opioid_index].clone();

    // Form, route and unit.
    let rule = find_form(normalised);
    let (mut form, mut route, mut unit) = match (rule, brand) {
        (Some(r), _) => (r.form.to_string(), r.route, r.unit.to_string()),
        (None, Some(b)) if b.form.is_some() && b.route.is_some() => {
            let form = b.form.clone().unwrap_or_default();
            let unit = FORMS
                .iter()
                .find(|r| r.form == form)
                .map(|r| r.unit)
                .unwrap_or("unit");
            (form, b.route.unwrap_or(Route::Oral), unit.to_string())
        }
        (None, _) => match (&hints.form, hints.route, &hints.unit) {
            (Some(f), Some(r), Some(u)) => (f.clone(), r, u.clone()),
            _ => {
                let what = if strength_groups(normalised).is_empty() {
                    "no strength or dose form in the name (such as 10mg tablets or 10mg/5ml \
                     oral solution)"
                } else {
                    "no dose form in the name (tablet, capsule, oral solution, patch...)"
                };
                return Err(NameFailure::Incomplete(format!("{ingredient}: {what}")));
            }
        },
    };
    if route == Route::Injection {
        unit = injection_unit(&padded).to_string();
        form = if contains_word(&padded, "powder") {
            "powder for solution for injection".into()
        } else if contains_word(&padded, "infusion") {
            "solution for infusion".into()
        } else {
            "solution for injection".into()
        };
    }
    // Brand route overrides a generic guess (Temgesic tablets are sublingual).
    if let Some(b) = brand {
        if let (Some(r), Some(f)) = (b.route, &b.form) {
            if rule.is_none_or(|r| r.route == Route::Oral && r.form == "tablet") {
                route = r;
                form = f.clone();
                unit = FORMS
                    .iter()
                    .find(|x| x.form == f.as_str())
                    .map(|x| x.unit.to_string())
                    .unwrap_or(unit);
            }
        }
    }

    // Release.
    let mut release = if MODIFIED_WORDS.iter().any(|w| contains_word(&padded, w)) {
        Release::Modified
    } else {
        brand
            .and_then(|b| b.release)
            .or(hints.release)
            .unwrap_or(Release::Immediate)
    };
    if route == Route::Transdermal {
        release = Release::Modified;
    }

    // Strength.
    let groups = strength_groups(normalised);
    let percent = re_percent()
        .captures(normalised)
        .and_then(|c| c[1].parse::<f64>().ok());
    let opioid_offset = ingredient_offsets[opioid_index];
    let segment_group = if normalised.contains(" / ") && groups.len() > 1 {
        // "Aspirin 500mg / Codeine 8mg": the group in the opioid's segment.
        opioid_offset.and_then(|o| {
            let seg_start = normalised[..o].rfind(" / ").map(|p| p + 3).unwrap_or(0);
            let seg_end = normalised[o..]
                .find(" / ")
                .map(|p| p + o)
                .unwrap_or(normalised.len());
            groups
                .iter()
                .find(|g| g.start >= seg_start && g.start < seg_end)
                .map(|g| (g, 0usize))
        })
    } else {
        None
    };
    let chosen = match segment_group {
        Some(found) => Some(found),
        None => groups.first().map(|g| {
            let index = if g.amounts_mg.len() == ingredients.len() {
                opioid_index
            } else {
                0
            };
            (g, index)
        }),
    };

    let mut patch_rate = None;
    let mut patch_wear_days = None;
    let (strength, strength_unit) = match chosen {
        Some((g, index)) => {
            if g.amounts_mg.len() > 1
                && g.amounts_mg.len() != ingredients.len()
                && opioid_index != 0
            {
                return Err(NameFailure::Incomplete(format!(
                    "{ingredient}: cannot tell which of the strengths is the opioid's"
                )));
            }
            let Some(&amount_mg) = g.amounts_mg.get(index) else {
                return Err(NameFailure::Incomplete(format!(
                    "{ingredient}: cannot tell which of the strengths is the opioid's"
                )));
            };
            match g.denominator {
                Some((_, Denominator::Hour)) => {
                    patch_rate = Some(amount_mg * 1000.0);
                    (amount_mg * 1000.0, StrengthUnit::McgPerHour)
                }
                _ if route == Route::Transdermal && g.micrograms => {
                    // "Durogesic 75micrograms transdermal patches": a rate without "/hour".
                    patch_rate = Some(amount_mg * 1000.0);
                    (amount_mg * 1000.0, StrengthUnit::McgPerHour)
                }
                Some((volume, Denominator::Ml)) if unit == "ml" || route != Route::Injection => {
                    if unit != "ml" {
                        // A liquid strength on a product counted in other units
                        // (nasal spray in ml): count it by the ml.
                        unit = "ml".into();
                    }
                    (amount_mg / volume, StrengthUnit::MgPerMl)
                }
                Some((volume, Denominator::Ml)) => {
                    // Injections: dm+d names give the content of one ampoule ("10mg/1ml");
                    // EPD names may add the volume ("10mg/ml 2ml amp").
                    let after = &normalised[g.start..];
                    let explicit_volume = re_volume()
                        .captures_iter(after)
                        .filter_map(|c| c[1].parse::<f64>().ok())
                        .nth(1);
                    match explicit_volume {
                        Some(v) => (amount_mg / volume * v, StrengthUnit::Mg),
                        None => (amount_mg, StrengthUnit::Mg),
                    }
                }
                Some((_, Denominator::Dose)) => {
                    unit = "dose".into();
                    (amount_mg, StrengthUnit::Mg)
                }
                None if unit == "ml" => {
                    return Err(NameFailure::Incomplete(format!(
                        "{ingredient}: a liquid needs a strength per volume such as 10mg/5ml"
                    )))
                }
                None => (amount_mg, StrengthUnit::Mg),
            }
        }
        None => match percent {
            Some(p) => {
                // 0.1% w/v is 1 mg per ml.
                unit = "ml".into();
                (p * 10.0, StrengthUnit::MgPerMl)
            }
            None => {
                return Err(NameFailure::Incomplete(format!(
                    "{ingredient}: no strength in the name (such as 10mg, 10mg/5ml or \
                     25micrograms/hour)"
                )))
            }
        },
    };
    if !(strength.is_finite() && strength > 0.0) {
        return Err(NameFailure::Incomplete(format!(
            "{ingredient}: strength must be above zero"
        )));
    }

    let mut strength = strength;
    if route == Route::Transdermal {
        let Some(rate) = patch_rate else {
            return Err(NameFailure::Incomplete(format!(
                "{ingredient}: a patch needs a rate such as 25micrograms/hour"
            )));
        };
        // The fentanyl patch named "12 micrograms/hour" delivers 12.5 (METHOD.md §10).
        let rate = if ingredient == "fentanyl" && rate == 12.0 {
            12.5
        } else {
            rate
        };
        strength = rate;
        patch_rate = Some(rate);
        patch_wear_days = Some(
            wear_days_in_name(normalised)
                .or_else(|| brand.and_then(|b| b.patch_wear_days))
                .unwrap_or_else(|| crate::product::default_patch_wear_days(&ingredient, rate)),
        );
    } else if patch_rate.is_some() {
        return Err(NameFailure::Incomplete(format!(
            "{ingredient}: a rate per hour on a product that is not a patch"
        )));
    }

    Ok(ParsedName {
        ingredient,
        ingredients,
        route,
        form,
        unit,
        release,
        strength,
        strength_unit,
        patch_rate_mcg_per_hour: patch_rate,
        patch_wear_days,
        excluded_reason: brand.and_then(|b| b.excluded_reason.clone()),
        brand: brand.map(|b| b.brand.clone()),
    })
}

static_re!(
    re_wear,
    r"(?:^|\s)(\d+|one|two|three|four|five|six|seven)[ -]?(day|hour|hr)s?\b"
);

/// Wear time a patch's name states (`72 hour`, `three day`, `96 hour`, `four day`, `seven
/// day`, `7-day`), in days; newer dm+d generic names carry it. Only 1 to 7 days are read.
pub fn wear_days_in_name(normalised: &str) -> Option<f64> {
    let c = re_wear().captures(normalised)?;
    let n = c[1]
        .parse::<f64>()
        .ok()
        .or_else(|| crate::dose::number_word(&c[1]))?;
    let days = if &c[2] == "day" { n } else { n / 24.0 };
    (1.0..=7.0).contains(&days).then_some(days)
}
