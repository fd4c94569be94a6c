//! Central nervous system depressants that raise the risk of respiratory depression with an
//! opioid (METHOD.md §11): gabapentinoids, benzodiazepines and Z-drugs, from the reviewed list
//! `data/cns_depressants.csv` (each row with its source). A non-opioid item is one of them by
//! its BNF chemical (the first 9 characters of its BNF code) or by a name in its drug name.

use std::sync::OnceLock;

/// The reviewed list, embedded.
pub const CNS_CSV: &str = include_str!("../../data/cns_depressants.csv");

/// One ingredient of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Depressant {
    /// `gabapentinoid`, `benzodiazepine` or `z_drug`.
    pub class: String,
    pub ingredient: String,
    pub bnf_chemical: String,
    /// Lower-case words that name it in a drug name (the ingredient and brands).
    pub names: Vec<String>,
}

impl Depressant {
    /// The class in words, for the reason on the review list.
    pub fn class_words(&self) -> &'static str {
        match self.class.as_str() {
            "gabapentinoid" => "gabapentinoid",
            "benzodiazepine" => "benzodiazepine",
            _ => "Z-drug",
        }
    }
}

/// The embedded list (parsed once; a test holds it valid).
pub fn list() -> &'static [Depressant] {
    static LIST: OnceLock<Vec<Depressant>> = OnceLock::new();
    LIST.get_or_init(|| parse(CNS_CSV).unwrap_or_default())
}

/// Parse the list: `class,ingredient,bnf_chemical,names,source`.
pub fn parse(text: &str) -> Result<Vec<Depressant>, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("line {}: {e}", i + 2))?;
        let get = |k: usize| rec.get(k).unwrap_or("").trim().to_string();
        let class = get(0);
        if !["gabapentinoid", "benzodiazepine", "z_drug"].contains(&class.as_str()) {
            return Err(format!("line {}: unknown class '{class}'", i + 2));
        }
        if get(4).is_empty() {
            return Err(format!("line {}: no source", i + 2));
        }
        out.push(Depressant {
            class,
            ingredient: get(1),
            bnf_chemical: get(2),
            names: get(3)
                .split(';')
                .map(|n| n.trim().to_lowercase())
                .filter(|n| !n.is_empty())
                .collect(),
        });
    }
    Ok(out)
}

/// Whether `name` holds `word` as a word (not inside another: "prazosin" holds no "azosin").
fn has_word(name: &str, word: &str) -> bool {
    name.match_indices(word).any(|(i, _)| {
        let before = name[..i].chars().next_back();
        let after = name[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphabetic)
    })
}

/// The depressant a non-opioid item is, if any (an index into [`list`]), by its BNF chemical
/// or its drug name.
pub fn classify(name: &str, bnf_code: &str) -> Option<usize> {
    let list = list();
    if bnf_code.len() >= 9 {
        let chem = &bnf_code[..9];
        if let Some(i) = list
            .iter()
            .position(|d| !d.bnf_chemical.is_empty() && d.bnf_chemical == chem)
        {
            return Some(i);
        }
    }
    let lower = name.to_lowercase();
    list.iter()
        .position(|d| d.names.iter().any(|n| has_word(&lower, n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingredient(name: &str, bnf: &str) -> Option<&'static str> {
        classify(name, bnf).map(|i| list()[i].ingredient.as_str())
    }

    #[test]
    fn the_list_is_valid_and_sourced() {
        let l = parse(CNS_CSV).unwrap();
        assert_eq!(l.len(), list().len());
        assert!(l.len() >= 18);
        for d in &l {
            assert!(d.names.contains(&d.ingredient), "{}", d.ingredient);
            assert!(d.bnf_chemical.is_empty() || d.bnf_chemical.len() == 9);
        }
    }

    #[test]
    fn by_bnf_chemical_or_name() {
        // Real EPD rows: Gabapentin_Cap 300mg 0408010G0AAABAB.
        assert_eq!(ingredient("", "0408010G0AAABAB"), Some("gabapentin"));
        assert_eq!(ingredient("Lyrica 75mg capsules", ""), Some("pregabalin"));
        assert_eq!(
            ingredient("Pregabalin 75mg capsules", ""),
            Some("pregabalin")
        );
        assert_eq!(ingredient("Diazepam 2mg tablets", ""), Some("diazepam"));
        assert_eq!(
            ingredient("Zopiclone 7.5mg tablets", "0401010Z0AAAAAA"),
            Some("zopiclone")
        );
        assert_eq!(ingredient("ZOLPIDEM 10MG TABLETS", ""), Some("zolpidem"));
        assert_eq!(
            ingredient("Paracetamol 500mg tablets", "0407010H0AAAMAM"),
            None
        );
        // A word, not part of one.
        assert_eq!(ingredient("Oxazepamine 5mg", ""), None);
        assert_eq!(
            list()[classify("Zimovane 7.5mg", "").unwrap()].class_words(),
            "Z-drug"
        );
    }
}
