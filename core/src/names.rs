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

static_re!(re_space, r"\s+");
static_re!(
    re_num_unit,
    r"(\d)\s+(mg|mcg|micrograms?|microgram|ug|g|grams?|ml|mls|millilitres?|%)\b"
);
static_re!(re_micro, r"(\d|\b)(mcg|micrograms|ug|µg|μg|mcgs)\b");
static_re!(re_slash, r"\s*/\s*(\d|ml\b|hour|hr|h\b|dose|24)");
static_re!(re_per_hour, r"/(hrs?|h|hour)\b");
static_re!(re_per_ml, r"/ml\b");
// ".5mg" is 0.5mg; only a dot that starts a word (not "..2", which the fuzzer found would
// grow a "0." on every pass).
static_re!(re_leading_dot, r"(^|\s)\.(\d)");
static_re!(re_bare_pair, r"(^|\s)(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)(\s|$)");
static_re!(
    re_pair_then_unit,
    r"(^|\s)(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)(mg|microgram)\b"
);
static_re!(
    re_glued_unit,
    r"(\d)(mg|ml|microgram)(m/r|mr|s/r|sr|xl|[a-z]{3,})"
);
static_re!(re_slash_words, r"([a-z]{3,})/([a-z]{3,})");

/// Word-level rewrites applied after the pattern rewrites.
const WORDS: &[(&str, &str)] = &[
    ("tab", "tablet"),
    ("tabs", "tablet"),
    ("tablets", "tablet"),
    ("caplets", "caplet"),
    ("cap", "capsule"),
    ("caps", "capsule"),
    ("capsules", "capsule"),
    ("soln", "solution"),
    ("sol", "solution"),
    ("susp", "suspension"),
    ("inj", "injection"),
    ("amp", "ampoule"),
    ("amps", "ampoule"),
    ("ampoules", "ampoule"),
    ("supp", "suppository"),
    ("supps", "suppository"),
    ("suppositories", "suppository"),
    ("patches", "patch"),
    ("sachets", "sachet"),
    ("lozenges", "lozenge"),
    ("films", "film"),
    ("sprays", "spray"),
    ("vials", "vial"),
    ("syringes", "syringe"),
    ("bags", "bag"),
    ("cigarettes", "cigarette"),
    ("lyophilisates", "lyophilisate"),
    ("liq", "liquid"),
    ("sf", "sugar-free"),
    ("s/f", "sugar-free"),
    ("m/r", "modified-release"),
    ("mr", "modified-release"),
    ("s/r", "modified-release"),
    ("sr", "modified-release"),
    ("xl", "modified-release"),
    ("pr", "modified-release"),
    ("cr", "modified-release"),
    ("la", "modified-release"),
    ("er", "modified-release"),
    ("retard", "modified-release"),
    ("prolonged-release", "modified-release"),
    ("extended-release", "modified-release"),
    ("sustained-release", "modified-release"),
    ("controlled-release", "modified-release"),
    ("sulf", "sulfate"),
    ("sulph", "sulfate"),
    ("sulphate", "sulfate"),
    ("hcl", "hydrochloride"),
    ("hydrochlor", "hydrochloride"),
    ("phos", "phosphate"),
    ("tart", "tartrate"),
    ("cocodamol", "co-codamol"),
    ("codydramol", "co-dydramol"),
    ("transdermal", "transdermal"),
    ("micrograms", "microgram"),
    ("mls", "ml"),
    // The English Prescribing Dataset's abbreviations are data: data/epd_abbreviations.csv.
    ("oral/susp", "oral suspension"),
];

/// The English Prescribing Dataset's abbreviations of BNF_DESCRIPTION (`Suppos`, `Nsl Spy`,
/// `Oral Dps`, `Inf`, `Vl`, `Pfs`, `Dextroprop`...): reviewed data, derived by joining an EPD
/// month's descriptions to dm+d names on the BNF code, with hand-added rows for the forms that
/// month does not hold (`data/epd_abbreviations.csv`, each row with its source).
pub const EPD_ABBREVIATIONS_CSV: &str = include_str!("../../data/epd_abbreviations.csv");

/// (abbreviation, expansion) pairs of [`EPD_ABBREVIATIONS_CSV`], lower case.
pub fn epd_abbreviations() -> &'static [(String, String)] {
    static TABLE: OnceLock<Vec<(String, String)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut reader = csv::Reader::from_reader(EPD_ABBREVIATIONS_CSV.as_bytes());
        reader
            .records()
            .filter_map(Result::ok)
            .filter_map(|r| {
                let (from, to) = (r.get(0)?.trim(), r.get(1)?.trim());
                (!from.is_empty() && !to.is_empty())
                    .then(|| (from.to_lowercase(), to.to_lowercase()))
            })
            .collect()
    })
}

/// Phrases joined before word rewrites, so that `sugar free` and `co codamol` are one word.
const PHRASES: &[(&str, &str)] = &[
    ("sugar free", "sugar-free"),
    ("co codamol", "co-codamol"),
    ("co dydramol", "co-dydramol"),
    ("co codaprin", "co-codaprin"),
    ("co proxamol", "co-proxamol"),
    ("modified release", "modified-release"),
    ("prolonged release", "modified-release"),
    ("extended release", "modified-release"),
    ("slow release", "modified-release"),
    ("sustained release", "modified-release"),
    ("controlled release", "modified-release"),
    ("pre filled", "pre-filled"),
    ("prefilled", "pre-filled"),
    ("oral soln", "oral solution"),
    ("m / r", "m/r"),
];

/// Normalise a product name for lookup and parsing. Idempotent: the rewrites are applied
/// until nothing changes (a rewrite can expose another, as in `10 / 30/500`).
pub fn normalise(name: &str) -> String {
    let mut s = normalise_once(name);
    for _ in 0..6 {
        let next = normalise_once(&s);
        if next == s {
            break;
        }
        s = next;
    }
    s
}

fn normalise_once(name: &str) -> String {
    let mut s = name.trim().to_lowercase();
    s = s.replace(['_', '\t', '\u{a0}'], " ");
    s = s.replace(['µ', 'μ'], "u");
    s = s.replace(['(', ')', ','], " ");
    s = re_space().replace_all(&s, " ").into_owned();
    s = re_leading_dot().replace_all(&s, "${1}0.${2}").into_owned();
    for _ in 0..2 {
        s = re_num_unit().replace_all(&s, "$1$2").into_owned();
    }
    s = re_micro().replace_all(&s, "${1}microgram").into_owned();
    // "10mgM/R", "500mgtablets": a unit glued to the next word.
    s = re_glued_unit()
        .replace_all(&s, "${1}${2} ${3}")
        .into_owned();
    // "20/10mg": both are mg.
    s = re_pair_then_unit()
        .replace_all(&s, "${1}${2}${4}/${3}${4}")
        .into_owned();
    // "Paracet/Dihydrocodeine": two ingredient words.
    s = re_slash_words().replace_all(&s, "${1} / ${2}").into_owned();
    // "co-codamol 30/500": a pair of bare numbers is mg/mg.
    s = re_bare_pair()
        .replace_all(&s, "${1}${2}mg/${3}mg${4}")
        .into_owned();
    s = re_slash().replace_all(&s, "/$1").into_owned();
    s = re_per_hour().replace_all(&s, "/hour").into_owned();
    s = re_per_ml().replace_all(&s, "/1ml").into_owned();
    s = s.replace("/hourour", "/hour");
    for (from, to) in PHRASES {
        if s.contains(from) {
            s = replace_words(&s, from, to);
        }
    }
    let words: Vec<String> = s
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.trim_end_matches('.');
            if let Some((_, to)) = WORDS.iter().find(|(from, _)| *from == w) {
                return (*to).to_string();
            }
            if let Some((_, to)) = epd_abbreviations().iter().find(|(from, _)| from == w) {
                return to.clone();
            }
            // 10mls, 5mls
            if let Some(num) = w.strip_suffix("mls") {
                if num.parse::<f64>().is_ok() {
                    return format!("{num}ml");
                }
            }
            if let Some(num) = w.strip_suffix("micrograms") {
                return format!("{num}microgram");
            }
            w.replace("micrograms/", "microgram/")
        })
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

/// Replace whole-word occurrences of a phrase.
fn replace_words(s: &str, from: &str, to: &str) -> String {
    let padded = format!(" {s} ");
    let replaced = padded.replace(&format!(" {from} "), &format!(" {to} "));
    replaced.trim().to_string()
}

/// A normalised name with salts, `sugar-free` and other words that do not change what the
/// product is taken out: a second, looser lookup key.
pub fn loose_key(normalised: &str) -> String {
    const DROP: &[&str] = &[
        "sulfate",
        "hydrochloride",
        "phosphate",
        "tartrate",
        "pectinate",
        "citrate",
        "acetate",
        "base",
        "sugar-free",
        "generic",
        "bp",
        "oral",
    ];
    normalised
        .split(' ')
        .filter(|w| !DROP.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

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

fn canonical_ingredient(word: &str) -> Option<&'static str> {
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

fn find_brand<'a>(normalised: &str, brands: &'a [BrandAlias]) -> Option<&'a BrandAlias> {
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
struct StrengthGroup {
    /// Amounts in mg (micrograms and grams converted).
    amounts_mg: Vec<f64>,
    /// Whether the first amount was written in micrograms.
    micrograms: bool,
    denominator: Option<(f64, Denominator)>,
    /// Byte offset in the normalised name.
    start: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Denominator {
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

fn strength_groups(s: &str) -> Vec<StrengthGroup> {
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

struct FormRule {
    /// Any of these words (in order of the name) selects the rule.
    needles: &'static [&'static str],
    form: &'static str,
    route: Route,
    unit: &'static str,
}

/// Dose forms, most specific first.
const FORMS: &[FormRule] = &[
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

fn contains_word(padded: &str, needle: &str) -> bool {
    padded.contains(&format!(" {needle}"))
}

fn find_form(normalised: &str) -> Option<&'static FormRule> {
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

fn injection_unit(padded: &str) -> &'static str {
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

const MODIFIED_WORDS: &[&str] = &[
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
