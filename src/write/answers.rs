//! The tables the lookup commands print as CSV, declared as every other table is: what `opal
//! products` says of each name or code, what `opal dose` reads in each dose text, and the
//! factors of a set (`opal factors --csv`).

use std::sync::Arc;

use crate::dose::DoseParse;
use crate::factors::Factor;
use crate::ome::UnitOme;
use crate::product::Product;
use crate::resolve::{MatchedBy, Status};
use crate::write::cells::{Cell, Kind};
use crate::write::columns::{Column, Rows};

/// What `opal products` says of one input.
pub struct ProductAnswer<'a> {
    /// The input as given.
    pub input: &'a str,
    /// resolved, unresolved, not_opioid or excluded; unresolved when the product has no
    /// factor in the set.
    pub status: Status,
    pub matched_by: Option<MatchedBy>,
    pub product: Option<&'a Arc<Product>>,
    /// Its OME under the set, where the set has its factor.
    pub ome: Option<UnitOme<'a>>,
    pub factor_set: &'a str,
    pub reason: String,
}

impl Rows for ProductAnswer<'_> {
    type Row<'a> = ProductAnswer<'a>;
    type Tag = ();
}

type P = ProductAnswer<'static>;

/// A product's text cell (empty without a product).
fn text<'a>(r: &'a ProductAnswer<'a>, f: fn(&'a Product) -> &'a str) -> Cell<'a> {
    Cell::Text(r.product.map_or("", |p| f(p)))
}

/// The columns of `opal products`.
pub const PRODUCTS: &[Column<P>] = &[
    Column::new("input", Kind::Text, "The name or code, as given.", |r| {
        Cell::Text(r.input)
    }),
    Column::new(
        "status",
        Kind::Text,
        "resolved, unresolved, not_opioid or excluded.",
        |r| Cell::Text(r.status.as_str()),
    ),
    Column::new(
        "matched_by",
        Kind::Text,
        "How: dmd (its dm+d code), bnf (its BNF code) or name.",
        |r| Cell::OptText(r.matched_by.map(|m| m.as_str())),
    ),
    Column::new(
        "product_name",
        Kind::Text,
        "The dm+d product it resolved to.",
        |r| text(r, |p| &p.name),
    ),
    Column::new("ingredient", Kind::Text, "The opioid.", |r| {
        text(r, |p| &p.ingredient)
    }),
    Column::new(
        "route",
        Kind::Text,
        "oral, transdermal, buccal, and so on.",
        |r| text(r, |p| p.route.as_str()),
    ),
    Column::new(
        "form",
        Kind::Text,
        "The dm+d form: tablet, oral solution, patch, and so on.",
        |r| text(r, |p| &p.form),
    ),
    Column::new(
        "release",
        Kind::Text,
        "immediate or modified release.",
        |r| text(r, |p| p.release.as_str()),
    ),
    Column::new("strength", Kind::Number, "The strength of one unit.", |r| {
        Cell::Number(r.product.map(|p| p.strength))
    }),
    Column::new(
        "strength_unit",
        Kind::Text,
        "Its unit: mg, microgram, mg/ml, or micrograms an hour for a patch.",
        |r| text(r, |p| p.strength_unit.as_str()),
    ),
    Column::new(
        "patch_rate_mcg_per_hour",
        Kind::Number,
        "A patch's rate, micrograms an hour.",
        |r| Cell::Number(r.product.and_then(|p| p.patch_rate_mcg_per_hour)),
    ),
    Column::new(
        "patch_wear_days",
        Kind::Number,
        "How many days one patch is worn.",
        |r| Cell::Number(r.product.and_then(|p| p.patch_wear_days)),
    ),
    Column::new(
        "factor",
        Kind::Number,
        "The conversion factor to oral morphine in the set.",
        |r| Cell::Number(r.ome.as_ref().map(|u| u.factor.factor)),
    ),
    Column::new(
        "ome_mg_per_unit",
        Kind::Number,
        "mg OME in one unit (one tablet, one ml, one patch over its whole wear time).",
        |r| Cell::Number(r.ome.as_ref().map(|u| u.ome_mg_per_unit)),
    ),
    Column::new(
        "ome_mg_day_per_unit",
        Kind::Number,
        "A patch's mg OME a day while one is worn.",
        |r| Cell::Number(r.ome.as_ref().and_then(|u| u.ome_mg_day_per_unit)),
    ),
    Column::new(
        "unit",
        Kind::Text,
        "The product's unit: tablet, capsule, ml, patch, and so on.",
        |r| text(r, |p| &p.unit),
    ),
    Column::new("dmd_id", Kind::Text, "The product's dm+d id.", |r| {
        text(r, |p| &p.dmd_id)
    }),
    Column::new(
        "bnf_code",
        Kind::Text,
        "The product's BNF code, where dm+d has one.",
        |r| text(r, |p| &p.bnf_code),
    ),
    Column::new(
        "product_key",
        Kind::Text,
        "The generic product: ingredient, route, release and strength.",
        |r| text(r, |p| &p.product_key),
    ),
    Column::new(
        "factor_set",
        Kind::Text,
        "The factor set used (--factors).",
        |r| Cell::Text(r.factor_set),
    ),
    Column::new(
        "reason",
        Kind::Text,
        "Why it is not resolved, or is excluded, where it is.",
        |r| Cell::Text(&r.reason),
    ),
];

/// What `opal dose` reads in one dose text.
pub struct DoseAnswer<'a> {
    pub text: &'a str,
    pub parse: &'a DoseParse,
}

impl Rows for DoseAnswer<'_> {
    type Row<'a> = DoseAnswer<'a>;
    type Tag = ();
}

/// The columns of `opal dose`.
pub const DOSES: &[Column<DoseAnswer<'static>>] = &[
    Column::new("text", Kind::Text, "The dose text, as given.", |r| {
        Cell::Text(r.text)
    }),
    Column::new(
        "units_min",
        Kind::Number,
        "The fewest dose units a day it allows (0 when \"up to\").",
        |r| Cell::Number(r.parse.units_min),
    ),
    Column::new(
        "units_max",
        Kind::Number,
        "The most dose units a day it allows.",
        |r| Cell::Number(r.parse.units_max),
    ),
    Column::new(
        "unit",
        Kind::Text,
        "The unit as written (tablet, ml, mg, patch...); empty when only a number is given.",
        |r| Cell::Text(r.parse.unit.as_deref().unwrap_or("")),
    ),
    Column::new("prn", Kind::Flag, "When required (prn, as needed).", |r| {
        Cell::Flag(Some(r.parse.prn))
    }),
    Column::new(
        "status",
        Kind::Text,
        "parsed, partial, as_directed or unparsed.",
        |r| Cell::Text(r.parse.status.as_str()),
    ),
    Column::new(
        "why",
        Kind::Text,
        "Why it is not parsed, where it is not.",
        |r| Cell::Text(r.parse.why.as_deref().unwrap_or("")),
    ),
    Column::new(
        "dose_min",
        Kind::Number,
        "The fewest units taken at once (for patches, worn at once).",
        |r| Cell::Number(r.parse.dose_min),
    ),
    Column::new(
        "dose_max",
        Kind::Number,
        "The most units taken at once.",
        |r| Cell::Number(r.parse.dose_max),
    ),
];

impl Rows for Factor {
    type Row<'a> = Factor;
    type Tag = ();
}

/// The columns of `opal factors --csv` (the columns a factor table of one's own has).
pub const FACTORS: &[Column<Factor>] = &[
    Column::new("ingredient", Kind::Text, "The opioid.", |f| {
        Cell::Text(&f.ingredient)
    }),
    Column::new("route", Kind::Text, "The route the factor is for.", |f| {
        Cell::Text(f.route.as_str())
    }),
    Column::new(
        "factor",
        Kind::Number,
        "mg of oral morphine per mg of the ingredient by this route.",
        |f| Cell::Number(Some(f.factor)),
    ),
    Column::new(
        "confidence",
        Kind::Text,
        "How well the factor is established, as its source says.",
        |f| Cell::Text(f.confidence.as_str()),
    ),
    Column::new("source", Kind::Text, "Where the factor comes from.", |f| {
        Cell::Text(&f.source)
    }),
];
