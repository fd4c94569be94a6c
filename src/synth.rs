//! Synthetic patient-level extracts: realistic, deterministic for a seed, and never real.
//!
//! Products are real dictionary entries (names, dm+d ids and BNF codes); patients, practices
//! and their histories are made up. Patients start and stop, repeat every ~28 days with
//! jitter and early repeats, escalate and taper, use patches and liquids and PRN co-codamol;
//! a share of items are not opioids (among them gabapentinoids, a benzodiazepine and a
//! Z-drug, so that co-prescribing occurs), and a few rows are malformed on purpose.
//!
//! Patterns for the follow-up and the trend (issue 16): the practices chosen with
//! `--reducing` bring their high-dose patients down over the last year, so that their XmR
//! charts fall; some long-term patients are tapered on purpose, a step down each issue
//! (gradual or rapid, a strength halved at once), then stop; some stop abruptly at full dose;
//! a few move to another practice; and the last practice's extract ends 45 days early (a
//! practice that stopped sending data).
//!
//! A steady population (issue 27.8), as a real practice's is from month to month: long-term
//! courses last a geometric number of issues (a constant chance of stopping at each, mean
//! [`MEAN_LONG_TERM_ISSUES`]); a share of them were already running before the first month
//! (with their history: their dose has had as many issues to change as their age), the rest
//! start at a steady rate through the months, so that starters balance stoppers; escalation
//! and taper are equally likely at each issue. Short courses start at a steady rate too.

use std::io::Write;

use anyhow::Result;

use crate::dictionary::{Dictionary, Entry};
use crate::values::{format_day, Day};

/// SplitMix64: small, fast, and the same stream on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A regimen: a product ladder (strengths to escalate or taper along), directions, quantity
/// per issue and the days one issue lasts.
struct Regimen {
    ladder: &'static [&'static str],
    directions: &'static [&'static str],
    quantity: f64,
    quantity_unit: &'static str,
    weight: u32,
}

const REGIMENS: &[Regimen] = &[
    Regimen {
        ladder: &[
            "MST Continus 10mg tablets",
            "MST Continus 15mg tablets",
            "MST Continus 30mg tablets",
            "MST Continus 60mg tablets",
            "MST Continus 100mg tablets",
        ],
        directions: &[
            "one twice daily",
            "ONE TO BE TAKEN TWICE A DAY",
            "1 bd",
            "Take ONE tablet every 12 hours",
        ],
        quantity: 56.0,
        quantity_unit: "tablet",
        weight: 6,
    },
    Regimen {
        ladder: &[
            "Zomorph 10mg modified-release capsules",
            "Zomorph 30mg modified-release capsules",
            "Zomorph 60mg modified-release capsules",
        ],
        directions: &["one twice a day", "1 bd"],
        quantity: 56.0,
        quantity_unit: "capsule",
        weight: 3,
    },
    Regimen {
        ladder: &["Morphine sulfate 10mg/5ml oral solution"],
        directions: &[
            "2.5ml-5ml every 4 hours when required",
            "5ml four hourly prn",
            "5-10ml up to four times a day max 40ml in 24 hours",
        ],
        quantity: 300.0,
        quantity_unit: "ml",
        weight: 3,
    },
    Regimen {
        ladder: &[
            "Oxycodone 5mg modified-release tablets",
            "Oxycodone 10mg modified-release tablets",
            "Oxycodone 20mg modified-release tablets",
            "Oxycodone 40mg modified-release tablets",
            "Oxycodone 80mg modified-release tablets",
        ],
        directions: &["one twice daily", "ONE EVERY 12 HOURS"],
        quantity: 56.0,
        quantity_unit: "tablet",
        weight: 4,
    },
    Regimen {
        ladder: &["OxyNorm 5mg capsules", "OxyNorm 10mg capsules"],
        directions: &[
            "one every 4-6 hours when required",
            "1 capsule up to four times a day when required",
        ],
        quantity: 56.0,
        quantity_unit: "capsule",
        weight: 2,
    },
    Regimen {
        ladder: &[
            "Co-codamol 8mg/500mg tablets",
            "Co-codamol 15mg/500mg tablets",
            "Co-codamol 30mg/500mg tablets",
        ],
        directions: &[
            "1-2 qds prn",
            "TWO TABLETS UP TO FOUR TIMES A DAY",
            "2 tablets every 4-6 hours, maximum 8 tablets in 24 hours",
            "take two tablets four times a day",
        ],
        quantity: 100.0,
        quantity_unit: "tablet",
        weight: 12,
    },
    Regimen {
        ladder: &[
            "Codeine 15mg tablets",
            "Codeine 30mg tablets",
            "Codeine 60mg tablets",
        ],
        directions: &[
            "1-2 every 4-6 hours max 8 in 24 hours",
            "one four times a day",
            "1 qds prn",
        ],
        quantity: 100.0,
        quantity_unit: "tablet",
        weight: 6,
    },
    Regimen {
        ladder: &["Dihydrocodeine 30mg tablets"],
        directions: &[
            "1 tablet every 4-6 hours after food",
            "one four times daily",
        ],
        quantity: 112.0,
        quantity_unit: "tablet",
        weight: 3,
    },
    Regimen {
        ladder: &["Tramadol 50mg capsules"],
        directions: &[
            "1-2 qds prn",
            "1-2 capsules up to four times daily",
            "50-100mg every 4-6 hours, max 400mg daily",
        ],
        quantity: 100.0,
        quantity_unit: "capsule",
        weight: 7,
    },
    Regimen {
        ladder: &[
            "Tramadol 50mg modified-release tablets",
            "Tramadol 100mg modified-release tablets",
            "Tramadol 150mg modified-release tablets",
            "Tramadol 200mg modified-release tablets",
        ],
        directions: &["one twice a day", "1 bd"],
        quantity: 56.0,
        quantity_unit: "tablet",
        weight: 3,
    },
    Regimen {
        ladder: &[
            "Palexia SR 50mg tablets",
            "Palexia SR 100mg tablets",
            "Palexia SR 150mg tablets",
        ],
        directions: &["one tablet twice a day (every 12 hours)"],
        quantity: 56.0,
        quantity_unit: "tablet",
        weight: 1,
    },
    Regimen {
        ladder: &[
            "Fentanyl 12micrograms/hour transdermal patches",
            "Fentanyl 25micrograms/hour transdermal patches",
            "Fentanyl 50micrograms/hour transdermal patches",
            "Fentanyl 75micrograms/hour transdermal patches",
            "Fentanyl 100micrograms/hour transdermal patches",
        ],
        directions: &[
            "apply one patch every 72 hours",
            "APPLY ONE PATCH EVERY 3 DAYS",
            "change patch every 72 hours",
        ],
        quantity: 10.0,
        quantity_unit: "patch",
        weight: 3,
    },
    Regimen {
        ladder: &[
            "BuTrans 5micrograms/hour transdermal patches",
            "BuTrans 10micrograms/hour transdermal patches",
            "BuTrans 20micrograms/hour transdermal patches",
        ],
        directions: &["apply one patch weekly", "APPLY ONE PATCH EVERY SEVEN DAYS"],
        quantity: 4.0,
        quantity_unit: "patch",
        weight: 4,
    },
    Regimen {
        ladder: &[
            "Transtec 35micrograms/hour transdermal patches",
            "Transtec 52.5micrograms/hour transdermal patches",
            "Transtec 70micrograms/hour transdermal patches",
        ],
        directions: &["change twice a week", "apply one patch every 4 days"],
        quantity: 8.0,
        quantity_unit: "patch",
        weight: 1,
    },
];

const NON_OPIOIDS: &[(&str, &str, &str, f64)] = &[
    (
        "Paracetamol 500mg tablets",
        "0407010H0AAAMAM",
        "2 qds prn",
        100.0,
    ),
    (
        "Naproxen 500mg tablets",
        "1001010P0AAADAD",
        "one twice daily with food",
        56.0,
    ),
    (
        "Amitriptyline 10mg tablets",
        "0403010B0AAAGAG",
        "1-3 at night",
        28.0,
    ),
    (
        "Gabapentin 300mg capsules",
        "0408010G0AAABAB",
        "one three times a day",
        84.0,
    ),
    (
        "Pregabalin 75mg capsules",
        "0408010AEAAACAC",
        "one twice daily",
        56.0,
    ),
    (
        "Zopiclone 7.5mg tablets",
        "0401010Z0AAAAAA",
        "one at night",
        28.0,
    ),
    (
        "Diazepam 2mg tablets",
        "0401020K0AAAHAH",
        "one three times a day",
        84.0,
    ),
    (
        "Omeprazole 20mg gastro-resistant capsules",
        "0103050P0AAAAAA",
        "one daily",
        28.0,
    ),
    (
        "Laxido oral powder sachets sugar free",
        "0106040M0BBAAAA",
        "1-2 sachets daily",
        30.0,
    ),
];

/// ICBs of the synthetic practices (real ICB codes, made-up practices).
const ICS: &[(&str, &str)] = &[
    ("QHM", "North East and North Cumbria"),
    ("QOX", "Bath and North East Somerset, Swindon and Wiltshire"),
    ("QUY", "Bristol, North Somerset and South Gloucestershire"),
];

/// What to make.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub patients: u64,
    pub months: u32,
    pub seed: u64,
    /// The last issue date.
    pub end: Day,
    /// Share of rows made malformed on purpose.
    pub malformed_rate: f64,
    /// Number of practices; `None`: one per ~60 patients (at least 6, at most 6000).
    pub practices: Option<u64>,
    /// Practices (by code) that bring their high doses down over the last year.
    pub reducing: Vec<String>,
}

/// The mean number of issues of a long-term course (about 2.3 years of 28-day issues).
pub const MEAN_LONG_TERM_ISSUES: f64 = 30.0;

/// A synthetic practice.
#[derive(Debug, Clone)]
pub struct SynthPractice {
    pub code: String,
    pub name: String,
    pub ics_code: &'static str,
    pub ics_name: &'static str,
    /// Its primary care network: two in each ICS, the ICS's practices in turn.
    pub pcn_code: String,
    pub pcn_name: String,
    pub list_size: u64,
}

/// The practices a config makes (`--practices`, else one per ~60 patients, at least 6),
/// across the ICBs.
pub fn practices(config: &SynthConfig) -> Vec<SynthPractice> {
    let mut rng = Rng::new(config.seed.wrapping_add(17));
    let n = config
        .practices
        .unwrap_or_else(|| (config.patients / 60).clamp(6, 6000))
        .max(1);
    (0..n)
        .map(|i| {
            let (ics_code, ics_name) = ICS[(i as usize) % ICS.len()];
            let pcn = (i as usize % ICS.len()) * 2 + (i as usize / ICS.len()) % 2 + 1;
            SynthPractice {
                code: format!("Y9{:04}", i + 1),
                name: format!("Synthetic Practice {}", i + 1),
                ics_code,
                ics_name,
                pcn_code: format!("U9{pcn:04}"),
                pcn_name: format!("Synthetic PCN {pcn}"),
                list_size: 3000 + rng.below(12000),
            }
        })
        .collect()
}

struct Product {
    name: String,
    dmd: String,
    bnf: String,
}

fn lookup(dict: &Dictionary, name: &str) -> Product {
    let found = dict.entries().iter().find_map(|e| match e {
        Entry::Product(p) if p.name == name => Some(p.clone()),
        _ => None,
    });
    match found {
        Some(p) => Product {
            name: p.name.clone(),
            dmd: p.dmd_id.clone(),
            bnf: p.bnf_code.clone(),
        },
        None => Product {
            name: name.to_string(),
            dmd: String::new(),
            bnf: String::new(),
        },
    }
}

/// Write a synthetic extract as CSV; returns the number of rows written.
pub fn write_extract<W: Write>(config: &SynthConfig, dict: &Dictionary, out: W) -> Result<u64> {
    let mut rng = Rng::new(config.seed);
    let practices = practices(config);
    let ladders: Vec<Vec<Product>> = REGIMENS
        .iter()
        .map(|r| r.ladder.iter().map(|n| lookup(dict, n)).collect())
        .collect();
    let total_weight: u32 = REGIMENS.iter().map(|r| r.weight).sum();
    let start: Day = config.end - (config.months as i32 * 30);
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record([
        "patient_id",
        "practice_code",
        "issue_date",
        "drug_name",
        "dmd_code",
        "bnf_code",
        "quantity",
        "quantity_unit",
        "dose_text",
        "days_supply",
        "ics_code",
    ])?;
    let mut rows = 0u64;
    let mut record: Vec<String> = vec![String::new(); 11];
    // The last year, when reducing practices bring their high doses down.
    let improving_from: Day = config.end - 365;
    let reducing: Vec<bool> = practices
        .iter()
        .map(|p| config.reducing.iter().any(|c| c == &p.code))
        .collect();
    // The share of long-term courses already running at the first month: mean duration D
    // over D + the months, so that courses starting balance those stopping.
    let mean_months = MEAN_LONG_TERM_ISSUES * 28.0 / 30.0;
    let prevalent_share = mean_months / (mean_months + config.months as f64);
    let stop_chance = 1.0 / MEAN_LONG_TERM_ISSUES;
    for pi in 0..config.patients {
        let patient = format!("SYN{:07}", pi + 1);
        let mut pindex = rng.below(practices.len() as u64) as usize;
        // The last practice (whose extract ends early) is small: most of its draws go again.
        if pindex == practices.len() - 1 && rng.chance(0.8) {
            pindex = rng.below(practices.len() as u64 - 1) as usize;
        }
        let practice = &practices[pindex];
        let improving = reducing[pindex];
        // A few patients move to another practice partway through.
        let moves_at: Option<(Day, usize)> = rng.chance(0.04).then(|| {
            (
                config.end - rng.below(400) as i32,
                rng.below(practices.len() as u64) as usize,
            )
        });
        let courses = if rng.chance(0.2) { 2 } else { 1 };
        for _ in 0..courses {
            // Regimen by weight.
            let mut pick = rng.below(total_weight as u64) as u32;
            let mut ri = 0;
            while pick >= REGIMENS[ri].weight {
                pick -= REGIMENS[ri].weight;
                ri += 1;
            }
            let regimen = &REGIMENS[ri];
            let ladder = &ladders[ri];
            let mut step = rng.below(ladder.len().min(3) as u64) as usize;
            let directions = *rng.pick(regimen.directions);
            let span = (config.end - start).max(1) as u64;
            // Long-term courses last a geometric number of issues; others a few issues.
            let long_term = rng.chance(0.55);
            let prevalent = long_term && rng.chance(prevalent_share);
            let mut day = if prevalent {
                // Running before the first month: its first issue in the window is within
                // one issue of the start, and its dose has moved as many issues as its age.
                let age = geometric(&mut rng, stop_chance);
                for _ in 0..age {
                    step = walk(&mut rng, step, ladder.len(), 0.03, 0.03);
                }
                start + rng.below(28) as i32
            } else if long_term {
                start + rng.below(span) as i32
            } else {
                // Some short courses began before the data (censored), most within it.
                start - 60 + rng.below(span + 60) as i32
            };
            let issues = if long_term {
                1 + geometric(&mut rng, stop_chance)
            } else {
                1 + rng.below(4)
            };
            // Of the long-term, some are tapered on purpose before they stop; the others stop
            // abruptly, at full dose.
            let planned_taper = long_term && rng.chance(0.12);
            // A rapid taper halves the dose at once (two strengths down).
            let rapid = rng.chance(0.3);
            let coding = rng.below(10);
            let mut n = 0;
            while day <= config.end && n < issues {
                let practice = match moves_at {
                    Some((when, to)) if day >= when => &practices[to],
                    _ => practice,
                };
                // The last practice's extract ends early.
                let sent = !(std::ptr::eq(practice, &practices[practices.len() - 1])
                    && day > config.end - 45);
                if day >= start && sent {
                    let product = &ladder[step];
                    let (dmd, bnf, name) = match coding {
                        0..=5 => (
                            product.dmd.as_str(),
                            product.bnf.as_str(),
                            product.name.as_str(),
                        ),
                        6 | 7 => ("", product.bnf.as_str(), product.name.as_str()),
                        8 => (product.dmd.as_str(), "", ""),
                        _ => ("", "", product.name.as_str()),
                    };
                    record[0] = patient.clone();
                    record[1] = practice.code.clone();
                    record[2] = format_day(day);
                    record[3] = name.to_string();
                    record[4] = dmd.to_string();
                    record[5] = bnf.to_string();
                    record[6] = crate::write::output::fmt_num(regimen.quantity);
                    record[7] = regimen.quantity_unit.to_string();
                    record[8] = directions.to_string();
                    record[9] = if rng.chance(0.05) {
                        "28".into()
                    } else {
                        String::new()
                    };
                    record[10] = practice.ics_code.to_string();
                    if rng.chance(config.malformed_rate) {
                        match rng.below(4) {
                            0 => record[2] = "31/02/2026".into(),
                            1 => record[6] = "0".into(),
                            2 => record[6] = "lots".into(),
                            _ => record[0] = String::new(),
                        }
                    }
                    w.write_record(&record)?;
                    rows += 1;
                    // A non-opioid alongside, sometimes (more often for long-term patients,
                    // so that gabapentinoids, benzodiazepines and Z-drugs meet the opioids).
                    if rng.chance(if long_term { 0.35 } else { 0.25 }) {
                        let (nname, nbnf, ndose, nqty) = *rng.pick(NON_OPIOIDS);
                        record[3] = nname.to_string();
                        record[4] = String::new();
                        record[5] = nbnf.to_string();
                        record[6] = crate::write::output::fmt_num(nqty);
                        record[7] = String::new();
                        record[8] = ndose.to_string();
                        record[9] = String::new();
                        record[0] = patient.clone();
                        record[2] = format_day(day);
                        w.write_record(&record)?;
                        rows += 1;
                    }
                }
                n += 1;
                // Next issue: ~28 days, with jitter and occasional early repeats.
                let base = 28 * regimen.quantity as i32 / regimen.quantity.max(1.0) as i32;
                let jitter = rng.below(7) as i32 - 3;
                let early = if rng.chance(0.08) { -10 } else { 0 };
                day += base + jitter + early;
                if planned_taper && n + step as u64 + 1 >= issues {
                    // A planned taper: down a strength each issue (two when rapid), then stop.
                    if step == 0 {
                        break;
                    }
                    step = step.saturating_sub(if rapid { 2 } else { 1 });
                } else if improving && day >= improving_from && step >= 2 && rng.chance(0.35) {
                    step -= 1; // a reducing practice reviews its high doses
                } else if improving && day >= improving_from {
                    step = walk(&mut rng, step, ladder.len(), 0.01, 0.03);
                } else {
                    step = walk(&mut rng, step, ladder.len(), 0.03, 0.03);
                }
                if rng.chance(0.03) {
                    day += 40 + rng.below(60) as i32; // a break longer than the grace period
                }
            }
        }
    }
    w.flush()?;
    Ok(rows)
}

/// A number of issues with a constant chance `p` of ending at each: 0, 1, 2... (mean
/// `(1 - p) / p`), capped at 1000.
fn geometric(rng: &mut Rng, p: f64) -> u64 {
    let mut n = 0;
    while n < 1000 && !rng.chance(p) {
        n += 1;
    }
    n
}

/// One issue's change of strength: up a step with chance `up`, else down with chance `down`,
/// within the ladder.
fn walk(rng: &mut Rng, step: usize, len: usize, up: f64, down: f64) -> usize {
    if rng.chance(up) && step + 1 < len {
        step + 1
    } else if rng.chance(down) && step > 0 {
        step - 1
    } else {
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(patients: u64, months: u32) -> SynthConfig {
        SynthConfig {
            patients,
            months,
            seed: 3,
            end: crate::values::days_from_civil(2026, 10, 31).unwrap(),
            malformed_rate: 0.0,
            practices: Some(20),
            reducing: Vec::new(),
        }
    }

    /// Issue 27.8: a steady population. The patients issued an opioid in each 30-day period
    /// stay within ±10% of their mean over 30 months (the first period, which holds the
    /// prevalent patients' first issues, and the last, cut short, left out); before, the
    /// population grew about threefold.
    #[test]
    fn the_population_is_steady_over_thirty_months() {
        let c = config(4000, 30);
        let mut out = Vec::new();
        write_extract(&c, Dictionary::builtin(), &mut out).unwrap();
        let start = c.end - 30 * 30;
        let mut by_period: Vec<std::collections::HashSet<String>> = vec![Default::default(); 31];
        let mut reader = csv::Reader::from_reader(out.as_slice());
        for rec in reader.records() {
            let rec = rec.unwrap();
            let Some(day) = crate::values::parse_date_with(
                &rec[2],
                &crate::values::DateFormat("%Y-%m-%d".into()),
            ) else {
                continue;
            };
            let opioid = !rec[7].is_empty();
            if opioid && day >= start {
                by_period[((day - start) / 30) as usize].insert(rec[0].to_string());
            }
        }
        let counts: Vec<f64> = by_period[1..29].iter().map(|s| s.len() as f64).collect();
        let mean = counts.iter().sum::<f64>() / counts.len() as f64;
        for (k, n) in counts.iter().enumerate() {
            assert!(
                (n / mean - 1.0).abs() <= 0.10,
                "period {}: {n} patients against a mean of {mean:.0}: {counts:?}",
                k + 1
            );
        }
    }

    /// `--practices` sets their number; codes run Y90001, Y90002...
    #[test]
    fn practices_are_as_many_as_asked() {
        let made = practices(&config(100, 12));
        assert_eq!(made.len(), 20);
        assert_eq!(
            (made[0].code.as_str(), made[19].code.as_str()),
            ("Y90001", "Y90020")
        );
    }
}
