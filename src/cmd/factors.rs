//! `opal factors`: print the conversion factor table in use.

use std::io::{self, Write};

use anyhow::Result;

use crate::factors::{BUILTIN_SETS, DEFAULT_SET};
use crate::write::answers::FACTORS;
use crate::write::columns::CsvStream;
use crate::write::output::{fmt_num, stdout_is_terminal, table};

/// Print a conversion factor table, with the source of every row.
///
/// Print a conversion factor table: mg of oral morphine per mg of drug, by ingredient and
/// route, with the source of every row.
///
/// Built-in sets: uk-fpm (default: Faculty of Pain Medicine Opioids Aware / BNF, with
/// OpenPrescribing's table for rarer drugs), openprescribing (exactly OpenPrescribing's dm+d
/// table) and cdc-2022 (CDC 2022 factors; buprenorphine has none). Patches use the
/// transdermal factor per mg delivered: 100 gives 2.4 mg OME/day per microgram/hour.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  opal factors\n  opal factors --set cdc-2022 --csv > cdc.csv\n  opal factors --table my-factors.csv"
)]
pub struct Args {
    /// Built-in set to print: uk-fpm, openprescribing or cdc-2022.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["table", "factors"])]
    set: Option<String>,
    /// A CSV factor table to validate and print (ingredient,route,factor[,confidence,source]).
    #[arg(long, value_name = "FILE", conflicts_with = "factors")]
    table: Option<String>,
    /// Same as --set or --table: a built-in set name or a CSV file.
    #[arg(long, value_name = "NAME|FILE")]
    factors: Option<String>,
    /// Write CSV even on a terminal.
    #[arg(long)]
    csv: bool,
    /// List the built-in sets and stop.
    #[arg(long)]
    list: bool,
}

pub fn run(args: Args) -> Result<()> {
    let stdout = io::stdout();
    if args.list {
        let mut out = stdout.lock();
        for (name, _, about) in BUILTIN_SETS {
            writeln!(out, "{name:16} {about}")?;
        }
        return Ok(());
    }
    let which = args
        .set
        .or(args.table)
        .or(args.factors)
        .unwrap_or_else(|| DEFAULT_SET.to_string());
    let set = crate::read::factors::load(&which)?;
    if args.csv || !stdout_is_terminal() {
        let mut w = CsvStream::new(FACTORS, stdout.lock());
        for f in set.rows() {
            w.row(f)?;
        }
        w.finish()?;
        return Ok(());
    }
    let mut t = table(&[
        "ingredient",
        "route",
        "mg OME per mg",
        "confidence",
        "source",
    ]);
    for f in set.rows() {
        crate::write::output::add_row(
            &mut t,
            vec![
                f.ingredient.clone(),
                f.route.to_string(),
                fmt_num(f.factor),
                f.confidence.as_str().to_string(),
                f.source.clone(),
            ],
        );
    }
    let mut out = stdout.lock();
    writeln!(
        out,
        "factor set {} (sha256 {})",
        crate::error::escape(&set.name),
        set.sha256
    )?;
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "patches: mg OME/day = micrograms/hour x 24 / 1000 x the transdermal factor (100 -> 2.4)"
    )?;
    Ok(())
}
