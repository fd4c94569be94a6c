//! Oral morphine equivalent of one unit of a product under a factor set (METHOD.md §3, §5).
//!
//! - tablets, capsules, ampoules, doses: `strength (mg) × factor` per unit;
//! - liquids: `strength (mg/ml) × factor` per ml;
//! - patches: `rate (micrograms/hour) × 24 / 1000 × factor` per day while one is worn, and that
//!   times the wear time per patch.

use crate::factors::{Factor, FactorSet};
use crate::product::Product;

/// OME of one unit of quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitOme<'f> {
    pub factor: &'f Factor,
    /// mg OME in one unit (one tablet, one ml, one patch over its whole wear time).
    pub ome_mg_per_unit: f64,
    /// Patches only: mg OME per day while one patch is worn.
    pub ome_mg_day_per_unit: Option<f64>,
}

/// Why a product has no OME under a factor set.
pub fn missing_factor_reason(product: &Product, set: &FactorSet) -> String {
    format!(
        "factor set {} has no factor for {} {}",
        set.name, product.ingredient, product.route
    )
}

/// OME of one unit, or `None` when the set has no factor for the ingredient and route.
pub fn unit_ome<'f>(product: &Product, set: &'f FactorSet) -> Option<UnitOme<'f>> {
    let factor = set.get(&product.ingredient, product.route)?;
    Some(match product.patch_rate_mcg_per_hour {
        Some(rate) => {
            let per_day = patch_ome_mg_day(rate, factor.factor);
            let wear = product.wear_days().unwrap_or(1.0);
            UnitOme {
                factor,
                ome_mg_per_unit: per_day * wear,
                ome_mg_day_per_unit: Some(per_day),
            }
        }
        None => UnitOme {
            factor,
            ome_mg_per_unit: product.strength * factor.factor,
            ome_mg_day_per_unit: None,
        },
    })
}

/// mg OME per day delivered by one patch: `rate × 24 h / 1000 × factor`.
pub fn patch_ome_mg_day(rate_mcg_per_hour: f64, factor: f64) -> f64 {
    rate_mcg_per_hour * 24.0 / 1000.0 * factor
}
