//! Conversion factor sets: mg of oral morphine per mg of drug, by ingredient and route.
//!
//! Three sets ship inside the binary (`uk-fpm`, the default; `openprescribing`; `cdc-2022`),
//! each a reviewed CSV under `data/factors/` with a source on every row. A user can load a
//! table of their own; it is validated on load and every error names the row. Every output
//! records the set's name and the SHA-256 of its exact bytes, so a figure can be traced to the
//! table that produced it.
//!
//! Patches use the same table: the factor for `transdermal` is mg OME per mg of drug
//! delivered, so a patch worn for a day gives `rate_mcg_per_hour × 24 / 1000 × factor`
//! mg OME/day (100 → 2.4 mg OME/day per microgram/hour).

use std::collections::BTreeMap;
use std::fmt;

/// Why a factor table is not valid: the message names the line, the hint what to do.
pub type Error = crate::problem::Problem;
type Result<T> = std::result::Result<T, Error>;

use crate::product::Route;

/// The name of the default factor set.
pub const DEFAULT_SET: &str = "uk-fpm";

/// The factor sets built into opal: name, CSV text, one-line description.
pub const BUILTIN_SETS: &[(&str, &str, &str)] = &[
    (
        "uk-fpm",
        include_str!("../../data/factors/uk-fpm.csv"),
        "Faculty of Pain Medicine Opioids Aware / BNF, OpenPrescribing for rarer drugs (default)",
    ),
    (
        "openprescribing",
        include_str!("../../data/factors/openprescribing.csv"),
        "exactly OpenPrescribing's dm+d OME table (opioid_ing_form_ome)",
    ),
    (
        "cdc-2022",
        include_str!("../../data/factors/cdc-2022.csv"),
        "CDC 2022 MME factors where CDC gives one; buprenorphine excluded",
    ),
];

/// How sure the source is of a factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "high" => Some(Confidence::High),
            "medium" => Some(Confidence::Medium),
            "low" => Some(Confidence::Low),
            _ => None,
        }
    }
}

/// One row of a factor table.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub ingredient: String,
    pub route: Route,
    /// mg oral morphine per mg of the ingredient by this route.
    pub factor: f64,
    pub confidence: Confidence,
    pub source: String,
}

/// A validated factor table.
#[derive(Debug, Clone)]
pub struct FactorSet {
    /// `uk-fpm`, `openprescribing`, `cdc-2022`, or the file name of a user table.
    pub name: String,
    /// Hex SHA-256 of the table's bytes exactly as read, set by whoever read them (the core
    /// hashes nothing; `opal::factors::load` does).
    pub sha256: String,
    rows: Vec<Factor>,
    index: BTreeMap<(String, Route), usize>,
}

#[derive(serde::Deserialize)]
struct RawFactor {
    ingredient: Option<String>,
    route: Option<String>,
    factor: Option<String>,
    confidence: Option<String>,
    source: Option<String>,
}

impl FactorSet {
    /// A built-in set by name (`uk-fpm`, `openprescribing`, `cdc-2022`), if there is one.
    pub fn builtin(name: &str) -> Option<FactorSet> {
        let (name, text, _) = BUILTIN_SETS.iter().find(|(n, _, _)| *n == name)?;
        // The built-in tables are checked by a unit test, so this cannot fail at run time.
        FactorSet::parse(name, text.as_bytes()).ok()
    }

    /// The default set, `uk-fpm`.
    pub fn default_set() -> FactorSet {
        FactorSet::builtin(DEFAULT_SET).expect("built-in uk-fpm factor set is valid")
    }

    /// Parse and validate a factor table: required columns, one row per (ingredient, route),
    /// positive finite factors, known routes.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<FactorSet> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "the table is not UTF-8 text".to_string())?
            .trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| format!("cannot read the header row ({e})"))?
            .clone();
        for required in ["ingredient", "route", "factor"] {
            if !headers.iter().any(|h| h.eq_ignore_ascii_case(required)) {
                return Err(Error::new(format!(
                    "missing column '{required}' (found: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ))
                .hint(
                    "a factor table has the columns ingredient,route,factor and optionally \
                     confidence,source",
                ));
            }
        }
        let lower: csv::StringRecord = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        reader.set_headers(lower);
        let mut rows = Vec::new();
        let mut index = BTreeMap::new();
        for (i, record) in reader.deserialize::<RawFactor>().enumerate() {
            let line = i + 2;
            let raw = record.map_err(|e| format!("line {line}: cannot read the row ({e})"))?;
            let ingredient = raw
                .ingredient
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if ingredient.is_empty() {
                return Err(format!("line {line}: ingredient is empty").into());
            }
            let route_text = raw.route.unwrap_or_default();
            let route = Route::parse(&route_text).ok_or_else(|| {
                Error::new(format!("line {line}: unknown route '{route_text}'")).hint(format!(
                    "routes are {}",
                    Route::ALL
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let factor_text = raw.factor.unwrap_or_default();
            let factor: f64 = factor_text
                .trim()
                .parse()
                .map_err(|_| format!("line {line}: factor '{factor_text}' is not a number"))?;
            if !factor.is_finite() || factor <= 0.0 {
                return Err(
                    format!("line {line}: factor {factor_text} must be a positive number").into(),
                );
            }
            let confidence_text = raw.confidence.unwrap_or_default();
            let confidence = Confidence::parse(&confidence_text).ok_or_else(|| {
                format!("line {line}: confidence '{confidence_text}' is not high, medium or low")
            })?;
            let key = (ingredient.clone(), route);
            if let Some(&first) = index.get(&key) {
                let first_line: usize = first + 2;
                return Err(Error::new(format!(
                    "line {line}: {ingredient} {} is already given on line {first_line}",
                    route.as_str()
                ))
                .hint("keep one row per ingredient and route"));
            }
            index.insert(key, rows.len());
            rows.push(Factor {
                ingredient,
                route,
                factor,
                confidence,
                source: raw.source.unwrap_or_default(),
            });
        }
        if rows.is_empty() {
            return Err("the table has no rows".into());
        }
        Ok(FactorSet {
            name: name.to_string(),
            sha256: String::new(),
            rows,
            index,
        })
    }

    /// The factor for an ingredient by a route, if the set has one.
    pub fn get(&self, ingredient: &str, route: Route) -> Option<&Factor> {
        self.index
            .get(&(ingredient.to_string(), route))
            .map(|&i| &self.rows[i])
    }

    /// Rows in table order.
    pub fn rows(&self) -> &[Factor] {
        &self.rows
    }
}

impl fmt::Display for FactorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (sha256 {})",
            self.name,
            self.sha256.get(..12).unwrap_or(&self.sha256)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_sets_load_and_cover_the_method_table() {
        for (name, _, _) in BUILTIN_SETS {
            let set = FactorSet::builtin(name).unwrap();
            assert!(set.rows().len() > 10, "{name}");
        }
        let fpm = FactorSet::default_set();
        // METHOD.md §3, row by row.
        let expect = [
            ("morphine", Route::Oral, 1.0),
            ("morphine", Route::Injection, 2.0),
            ("diamorphine", Route::Injection, 3.0),
            ("codeine", Route::Oral, 0.1),
            ("dihydrocodeine", Route::Oral, 0.1),
            ("tramadol", Route::Oral, 0.1),
            ("tramadol", Route::Injection, 0.2),
            ("tapentadol", Route::Oral, 0.4),
            ("oxycodone", Route::Oral, 1.5),
            ("oxycodone", Route::Injection, 3.0),
            ("hydromorphone", Route::Oral, 5.0),
            ("hydromorphone", Route::Injection, 12.5),
            ("methadone", Route::Oral, 3.0),
            ("pethidine", Route::Oral, 0.1),
            ("pethidine", Route::Injection, 0.24),
            ("pentazocine", Route::Oral, 0.37),
            ("dipipanone", Route::Oral, 0.5),
            ("meptazinol", Route::Oral, 0.03),
            ("papaveretum", Route::Injection, 0.67),
            ("alfentanil", Route::Injection, 30.0),
            ("alfentanil", Route::Nasal, 30.0),
            ("fentanyl", Route::Injection, 150.0),
            ("fentanyl", Route::Buccal, 130.0),
            ("fentanyl", Route::Sublingual, 130.0),
            ("fentanyl", Route::Nasal, 160.0),
            ("buprenorphine", Route::Injection, 100.0),
            ("buprenorphine", Route::Sublingual, 60.0),
        ];
        for (ingredient, route, factor) in expect {
            let got = fpm.get(ingredient, route).unwrap().factor;
            assert_eq!(got, factor, "{ingredient} {route:?}");
        }
        // Patches: 2.4 mg OME/day per microgram/hour.
        for ingredient in ["fentanyl", "buprenorphine"] {
            let f = fpm.get(ingredient, Route::Transdermal).unwrap().factor;
            assert!((f * 24.0 / 1000.0 - 2.4).abs() < 1e-12);
        }
    }

    #[test]
    fn cdc_differs_where_the_method_says() {
        let cdc = FactorSet::builtin("cdc-2022").unwrap();
        assert_eq!(cdc.get("codeine", Route::Oral).unwrap().factor, 0.15);
        assert_eq!(cdc.get("tramadol", Route::Oral).unwrap().factor, 0.2);
        assert_eq!(cdc.get("hydromorphone", Route::Oral).unwrap().factor, 5.0);
        assert_eq!(cdc.get("methadone", Route::Oral).unwrap().factor, 4.7);
        assert!(cdc.get("buprenorphine", Route::Transdermal).is_none());
    }

    #[test]
    fn user_tables_are_validated_with_the_row() {
        let err = |text: &str| FactorSet::parse("t", text.as_bytes()).unwrap_err().text();
        assert!(err("ingredient,factor\nmorphine,1\n").contains("missing column 'route'"));
        assert!(err("ingredient,route,factor\nmorphine,oral,0\n").contains("line 2"));
        assert!(err("ingredient,route,factor\nmorphine,oral,x\n").contains("'x' is not a number"));
        assert!(err("ingredient,route,factor\nmorphine,ear,1\n").contains("unknown route 'ear'"));
        let dup = err("ingredient,route,factor\nmorphine,oral,1\nmorphine,oral,2\n");
        assert!(dup.contains("line 3") && dup.contains("line 2"), "{dup}");
        assert!(err("ingredient,route,factor\n").contains("no rows"));
        let ok = FactorSet::parse("t", b"Ingredient,Route,Factor\nMorphine,Oral,1.2\n").unwrap();
        assert_eq!(ok.get("morphine", Route::Oral).unwrap().factor, 1.2);
    }
}
