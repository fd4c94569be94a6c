//! Unit tests of `item`.

use super::*;
use crate::dictionary::{Dictionary, Entry};

fn product(name: &str) -> std::sync::Arc<Product> {
    match Dictionary::builtin().by_name(&crate::names::normalise(name)) {
        Some(Entry::Product(p)) => p.clone(),
        _ => panic!("{name} is not in the dictionary"),
    }
}

/// METHOD.md §5 and §10 by hand: MST Continus 60mg, one twice daily, 56 tablets: 28 days
/// from the directions, 56 × 60 × 1 = 3360 mg, 120 mg/day instructed. Fentanyl 25
/// micrograms/hour, 10 patches "every 72 hours": 30 days, 60 mg/day × 30 = 1800 mg. No
/// directions: the default 28 days. A stated 7 days against 28 worked out: disagree.
#[test]
fn item_numbers_by_hand() {
    let s = ItemSettings::default();
    let mst = product("MST Continus 60mg tablets");
    let v = values(
        &mst,
        56.0,
        None,
        &crate::dose::parse("one twice daily"),
        1.0,
        &s,
    );
    assert_eq!(
        (v.days_supply, v.days_supply_source),
        (28.0, DaysSource::Dose)
    );
    assert_eq!(
        (v.total_ome_mg, v.instructed_ome_mg_day),
        (3360.0, Some(120.0))
    );
    let patch = product("Fentanyl 25micrograms/hour transdermal patches");
    let every_72 = crate::dose::parse("apply one patch every 72 hours");
    let v = values(&patch, 10.0, None, &every_72, 100.0, &s);
    assert!((v.days_supply - 30.0).abs() < 1e-9, "{v:?}");
    assert!((v.total_ome_mg - 1800.0).abs() < 1e-9, "{v:?}");
    let v = values(&patch, 10.0, None, &crate::dose::parse(""), 100.0, &s);
    assert_eq!(
        (v.days_supply, v.days_supply_source),
        (30.0, DaysSource::PatchWear)
    );
    let v = values(&mst, 56.0, None, &crate::dose::parse(""), 1.0, &s);
    assert_eq!(
        (v.days_supply, v.days_supply_source),
        (28.0, DaysSource::Default)
    );
    let v = values(&mst, 56.0, Some(7.0), &crate::dose::parse("1 bd"), 1.0, &s);
    assert_eq!(
        (v.days_supply, v.days_supply_source),
        (7.0, DaysSource::Explicit)
    );
    assert_eq!(v.days_supply_disagree, Some(true));
    // |28 − 20| = 8 is not more than half of 20: agree.
    let v = values(&mst, 56.0, Some(20.0), &crate::dose::parse("1 bd"), 1.0, &s);
    assert_eq!(v.days_supply_disagree, Some(false));
    // The edges: 28 worked out against 56 stated differs by exactly half (28): agree;
    // against 18, by 10 > 9: disagree; against 19, by 9 < 9.5: agree.
    let bd = crate::dose::parse("1 bd");
    assert_eq!(
        values(&mst, 56.0, Some(56.0), &bd, 1.0, &s).days_supply_disagree,
        Some(false)
    );
    assert_eq!(
        values(&mst, 56.0, Some(18.0), &bd, 1.0, &s).days_supply_disagree,
        Some(true)
    );
    assert_eq!(
        values(&mst, 56.0, Some(19.0), &bd, 1.0, &s).days_supply_disagree,
        Some(false)
    );
}

/// NHS numbers as people write them (943 476 5919 is the NHS Data Dictionary's example:
/// 9×10 + 4×9 + 3×8 + 4×7 + 7×6 + 6×5 + 5×4 + 9×3 + 1×2 = 299, 299 mod 11 = 2, 11 − 2 = 9,
/// the tenth digit). Formatted forms count only when the check digit holds; real ODS and
/// ICB codes never count.
#[test]
fn nhs_numbers_in_any_form() {
    for yes in [
        "9434765919",
        "943 476 5919",
        "943-476-5919",
        "943.476.5919",
        "943/476/5919",
        "NHS 9434765919",
        "NHS9434765919",
        "nhs no: 943 476 5919",
        "NHS Number 943-476-5919",
        "NHS#9434765919",
        " 943 - 476 - 5919 ",
        // The plain and spaced forms are refused whatever their check digit.
        "9434765918",
        "943 476 5918",
    ] {
        assert!(looks_like_nhs_number(yes), "{yes}");
    }
    for no in [
        "Y90001",
        "QHM",
        "A81001",
        "943-476-5918", // a formatted number whose check digit fails
        "NHS 9434765918",
        "943-476-591",
        "943-476-59190",
        "E54000050",
        "12-34",
        "NHS",
        "",
        "Y9-0001",
        "9434765919X",
    ] {
        assert!(!looks_like_nhs_number(no), "{no}");
    }
    // By hand: 000 000 001 weighs 1 × 2 = 2, 11 − 2 = 9; 100 000 000 weighs 10, 11 − 10 =
    // 1; 000 000 050 weighs 5 × 3 = 15, 15 mod 11 = 4, 11 − 4 = 7; all zeros weigh 0 and
    // 11 − 0 = 11 counts as 0.
    assert!(nhs_check_digit_ok(&[0, 0, 0, 0, 0, 0, 0, 0, 1, 9]));
    assert!(nhs_check_digit_ok(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    assert!(nhs_check_digit_ok(&[0, 0, 0, 0, 0, 0, 0, 5, 0, 7]));
    assert!(nhs_check_digit_ok(&[0; 10]));
    assert!(!nhs_check_digit_ok(&[0, 0, 0, 0, 0, 0, 0, 5, 0, 6]));
    // 000 000 006 weighs 6 × 2 = 12, 12 mod 11 = 1, 11 − 1 = 10: no tenth digit is valid.
    for d in 0..10 {
        assert!(!nhs_check_digit_ok(&[0, 0, 0, 0, 0, 0, 0, 0, 6, d]));
    }
}

/// Issue 12.3's bounds, each with the column to blame.
#[test]
fn implausible_supplies() {
    let s = ItemSettings::default();
    let mst = product("MST Continus 60mg tablets");
    let bd = crate::dose::parse("1 bd");
    let column = |q: f64, days: Option<f64>, dose: &DoseParse| {
        implausible(&mst, 1.0, q, days, dose, &s).map(|(c, _)| c)
    };
    assert_eq!(
        column(56.0, Some(99_999_999_999.0), &bd),
        Some("days_supply")
    );
    assert_eq!(column(56.0, Some(1e-300), &bd), Some("days_supply"));
    assert_eq!(column(56.0, Some(f64::NAN), &bd), Some("days_supply"));
    assert_eq!(column(56.0, Some(366.0), &bd), None);
    // One day is a duration; 50 tablets in it are the most of a real regimen, 56 more.
    assert_eq!(column(50.0, Some(1.0), &bd), None);
    assert_eq!(column(56.0, Some(1.0), &bd), Some("quantity"));
    assert_eq!(column(10_001.0, Some(366.0), &bd), Some("quantity"));
    // 10,000 over 366 days is 27.3 a day: within the 50 a day of a real regimen.
    assert_eq!(column(10_000.0, Some(366.0), &bd), None);
    // 10,000 tablets at one twice a day would last 5000 days.
    assert_eq!(column(10_000.0, None, &bd), Some("dose_text"));
    // 734 tablets at one twice a day last 367 days: above 366.
    assert_eq!(column(734.0, None, &bd), Some("dose_text"));
    assert_eq!(column(732.0, None, &bd), None);
    // Strength bounds: 1,000 mg a unit is plausible (dm+d has 750), above it not.
    let mut edge = (*mst).clone();
    edge.strength = 1_000.0;
    assert_eq!(implausible(&edge, 1.0, 10.0, Some(28.0), &bd, &s), None);
    edge.strength = 1_000.5;
    assert_eq!(
        implausible(&edge, 1.0, 10.0, Some(28.0), &bd, &s).map(|x| x.0),
        Some("drug_name")
    );
    let mut huge = (*mst).clone();
    huge.strength = 50_000.0;
    let why = implausible(&huge, 1.0, 10.0, None, &bd, &s).unwrap();
    assert_eq!(why.0, "drug_name");
    assert!(why.1.contains("strength 50000 mg"), "{}", why.1);
}

/// Issue 23.6 by hand. Directions beyond any real regimen are unparsed: "take 1000000
/// tablets daily" on MST 60 mg is 1e6 a day > 50, so 56 tablets last the default 28 days,
/// no instructed OME, `dose_implausible`. 50 a day is the edge (56 tablets "50 daily" last
/// 1.12 days); 51 is over. In mg: "3000mg daily" on 60 mg tablets is 50 tablets (kept),
/// "3060mg" 51 (not). A liquid: 500 ml a day kept, 501 not. Patches: 10 worn at once kept,
/// 11 not (then one at a time: 10 patches × 3 days = 30 days).
#[test]
fn implausible_doses_are_treated_as_unparsed() {
    let s = ItemSettings::default();
    let mst = product("MST Continus 60mg tablets");
    let v = values(
        &mst,
        56.0,
        None,
        &crate::dose::parse("take 1000000 tablets daily"),
        1.0,
        &s,
    );
    assert!(v.dose_implausible, "{v:?}");
    assert_eq!(
        (v.days_supply, v.days_supply_source),
        (28.0, DaysSource::Default)
    );
    assert_eq!(v.instructed_ome_mg_day, None);
    assert_eq!(v.total_ome_mg, 56.0 * 60.0);
    let v = values(&mst, 56.0, None, &crate::dose::parse("50 daily"), 1.0, &s);
    assert!(!v.dose_implausible);
    assert!((v.days_supply - 1.12).abs() < 1e-9, "{v:?}");
    assert_eq!(v.instructed_ome_mg_day, Some(3000.0));
    let v = values(&mst, 56.0, None, &crate::dose::parse("51 daily"), 1.0, &s);
    assert!(v.dose_implausible);
    assert!(
        !values(
            &mst,
            56.0,
            None,
            &crate::dose::parse("3000mg daily"),
            1.0,
            &s
        )
        .dose_implausible
    );
    assert!(
        values(
            &mst,
            56.0,
            None,
            &crate::dose::parse("3060mg daily"),
            1.0,
            &s
        )
        .dose_implausible
    );
    // The bound does not depend on the PRN policy: "1-60 when required" allows 60.
    let min = ItemSettings {
        prn_policy: PrnPolicy::Min,
        ..s
    };
    assert!(
        values(
            &mst,
            56.0,
            None,
            &crate::dose::parse("1-60 daily when required"),
            1.0,
            &min
        )
        .dose_implausible
    );
    let why = implausible_dose(&mst, &crate::dose::parse("51 daily")).unwrap();
    assert_eq!(
        why,
        "the directions give 51 units a day, more than the 50 of any real regimen"
    );

    let oramorph = product("Oramorph 10mg/5ml oral solution");
    assert_eq!(oramorph.unit, "ml");
    assert!(
        !values(
            &oramorph,
            300.0,
            None,
            &crate::dose::parse("500ml daily"),
            1.0,
            &s
        )
        .dose_implausible
    );
    assert!(
        values(
            &oramorph,
            300.0,
            None,
            &crate::dose::parse("501ml daily"),
            1.0,
            &s
        )
        .dose_implausible
    );

    let patch = product("Fentanyl 25micrograms/hour transdermal patches");
    let v = values(
        &patch,
        10.0,
        None,
        &crate::dose::parse("apply 10 patches every 72 hours"),
        100.0,
        &s,
    );
    assert!(!v.dose_implausible);
    assert_eq!(v.patches_at_once, Some(10.0));
    let v = values(
        &patch,
        10.0,
        None,
        &crate::dose::parse("apply 11 patches every 72 hours"),
        100.0,
        &s,
    );
    assert!(v.dose_implausible, "{v:?}");
    assert_eq!(v.patches_at_once, Some(1.0));
    assert_eq!(v.instructed_ome_mg_day, None);
    assert!((v.days_supply - 30.0).abs() < 1e-9, "{v:?}");
}

/// Issue 23.6: a supply beyond any real regimen is refused, on the quantity. 10,000 MST 60
/// mg tablets with no directions: 10,000 ÷ 28 = 357.1 a day, 357.1 × 60 = 21,429 mg OME a
/// day. 1,400 over 28 days is 50 a day (kept); 1,401 is 50.04 (not). With a stated 7 days,
/// 351 tablets are 50.1 a day (not), 350 exactly 50 (kept).
#[test]
fn supplies_beyond_any_regimen_are_refused() {
    let s = ItemSettings::default();
    let mst = product("MST Continus 60mg tablets");
    let none = crate::dose::parse("");
    let (column, why) = implausible(&mst, 1.0, 10_000.0, None, &none, &s).unwrap();
    assert_eq!(column, "quantity");
    assert_eq!(
        why,
        "10000 tablet over 28 days (the default days supply) is 357.1 units a day, 21429 mg \
             OME a day: beyond any real regimen (at most 50 units a day)"
    );
    assert_eq!(implausible(&mst, 1.0, 1_400.0, None, &none, &s), None);
    assert!(implausible(&mst, 1.0, 1_401.0, None, &none, &s).is_some());
    assert_eq!(implausible(&mst, 1.0, 350.0, Some(7.0), &none, &s), None);
    let (column, why) = implausible(&mst, 1.0, 351.0, Some(7.0), &none, &s).unwrap();
    assert_eq!(column, "quantity");
    assert!(why.contains("its stated days supply"), "{why}");
    // Directions that are themselves implausible fall back to the default first: 1,000
    // tablets "1000 daily" are 35.7 a day over 28 days, kept with the dose unparsed.
    assert_eq!(
        implausible(
            &mst,
            1.0,
            1_000.0,
            None,
            &crate::dose::parse("1000 daily"),
            &s
        ),
        None
    );
}

/// The bounds of a plausible item (issue 12.3) never reject a real product: every
/// product of the dictionary is within them.
#[test]
fn every_dictionary_product_is_within_the_plausible_strengths() {
    let mut checked = 0;
    for e in Dictionary::builtin().entries() {
        let Entry::Product(p) = e else { continue };
        let limit = match p.strength_unit {
            StrengthUnit::Mg => MAX_STRENGTH_MG,
            StrengthUnit::MgPerMl => MAX_STRENGTH_MG_PER_ML,
            StrengthUnit::McgPerHour => MAX_PATCH_RATE_MCG_PER_HOUR,
        };
        assert!(
            p.strength > 0.0 && p.strength <= limit,
            "{}: {}",
            p.name,
            p.strength
        );
        checked += 1;
    }
    assert!(checked > 2000, "{checked}");
}
