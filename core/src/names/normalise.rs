//! Normalising a product name so that the spellings of one product meet: case, spaces, units,
//! the EPD's abbreviations and phrases, and the loose key that ignores word order.

use super::*;

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
pub(super) const WORDS: &[(&str, &str)] = &[
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
pub const EPD_ABBREVIATIONS_CSV: &str = include_str!("../../../data/epd_abbreviations.csv");

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
pub(super) const PHRASES: &[(&str, &str)] = &[
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

pub(super) fn normalise_once(name: &str) -> String {
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
pub(super) fn replace_words(s: &str, from: &str, to: &str) -> String {
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
