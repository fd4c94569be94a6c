//! `opal products`: resolve names and codes to products and their OME per unit.

use std::io::{self, BufRead, Read};

use anyhow::{Context, Result};

use crate::factors::{FactorSet, DEFAULT_SET};
use crate::ome::{missing_factor_reason, unit_ome};
use crate::resolve::{ItemText, Resolution, Resolver, Status};
use crate::write::answers::{ProductAnswer, PRODUCTS};
use crate::write::columns::CsvStream;

/// What an item is, and the OME of one unit of it, for names, dm+d codes or BNF codes.
///
/// Resolve product names, dm+d codes or BNF codes and print, as CSV, what each one is and how
/// many mg of oral morphine one unit of it is worth.
///
/// Each input is taken as a dm+d id when it is all digits, a BNF code when it is a
/// 15-character BNF presentation code, and a product name otherwise. Evidence is used in the
/// order dm+d code, BNF code (then its generic equivalent), name, then the parser for unseen
/// names.
///
/// status: resolved, not_opioid, excluded (opioid dependence, BNF 0410) or unresolved (the
/// reason column says why). ome_mg_per_unit is OME in one unit of quantity: one tablet, one ml
/// of a liquid, one patch over its whole wear time. ome_mg_day_per_unit is set for patches: OME
/// per day while one is worn.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  opal products \"MST Continus 60mg tablets\"\n  \
    opal products 0407020A0AAAFAF \"Morphine Sulf_Oral Soln 10mg/5ml\"\n  \
    opal products --input data/sample/products.txt\n  \
    cut -d, -f5 extract.csv | opal products --input -"
)]
pub struct Args {
    /// Product names, dm+d ids or BNF codes.
    #[arg(value_name = "NAME_OR_CODE")]
    items: Vec<String>,
    /// Read inputs from FILE ('-' for stdin): one name or code per line, or a CSV with a `name`
    /// and/or `code` column.
    #[arg(long, short, value_name = "FILE")]
    input: Option<String>,
    /// Conversion factor set: uk-fpm (default), openprescribing, cdc-2022, or a CSV file.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_SET)]
    factors: String,
}

/// One input: what the user wrote, split into code and name.
#[derive(Debug, Clone, Default)]
struct Input {
    shown: String,
    code: String,
    name: String,
}

pub fn run(args: Args) -> Result<()> {
    let set = crate::read::factors::load(&args.factors)?;
    let mut inputs: Vec<Input> = args
        .items
        .iter()
        .map(|s| Input {
            shown: s.clone(),
            code: String::new(),
            name: s.clone(),
        })
        .collect();
    if let Some(path) = &args.input {
        inputs.extend(read_inputs(path)?);
    }
    if inputs.is_empty() {
        return Err(crate::error::hinted(
            "nothing to resolve",
            "give names or codes as arguments, or --input FILE \
             (one per line, or a CSV with a name or code column; '-' reads stdin)",
        ));
    }
    let resolver = Resolver::builtin();
    let mut w = CsvStream::new(PRODUCTS, io::stdout().lock());
    for input in &inputs {
        let resolution = resolve_input(&resolver, input);
        w.row(&answer(&input.shown, &resolution, &set))?;
    }
    w.finish()?;
    Ok(())
}

/// Resolve an input, taking a bare code as dm+d or BNF by its shape.
fn resolve_input(resolver: &Resolver<'_>, input: &Input) -> Resolution {
    let mut code = input.code.trim().to_string();
    let mut name = input.name.trim().to_string();
    if code.is_empty() && looks_like_code(&name) {
        code = std::mem::take(&mut name);
    }
    let (dmd, bnf) = if is_bnf_code(&code) {
        (String::new(), code)
    } else {
        (code, String::new())
    };
    resolver.resolve(ItemText {
        dmd_code: &dmd,
        bnf_code: &bnf,
        name: &name,
    })
}

/// A dm+d id (digits), a BNF code, or a number Excel wrote in scientific notation.
fn looks_like_code(s: &str) -> bool {
    let digits = s.len() >= 6 && s.bytes().all(|b| b.is_ascii_digit());
    let sci = s.contains(['E', 'e'])
        && s.replace(['E', 'e', '+', '.'], "")
            .bytes()
            .all(|b| b.is_ascii_digit())
        && s.starts_with(|c: char| c.is_ascii_digit());
    digits || sci || is_bnf_code(s)
}

/// A 15-character BNF presentation code such as `0407020Q0AAAIAI`.
pub fn is_bnf_code(s: &str) -> bool {
    s.len() == 15
        && s.bytes().take(2).all(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// What to say of one input: a resolved product without a factor in the set is unresolved,
/// with the reason.
fn answer<'a>(input: &'a str, r: &'a Resolution, set: &'a FactorSet) -> ProductAnswer<'a> {
    let mut status = r.status;
    let mut reason = r.reason.clone().unwrap_or_default();
    let ome = r.product.as_ref().and_then(|p| unit_ome(p, set));
    if let Some(p) = &r.product {
        if ome.is_none() && status == Status::Resolved {
            status = Status::Unresolved;
            reason = missing_factor_reason(p, set);
        }
    }
    ProductAnswer {
        input,
        status,
        matched_by: r.matched_by,
        product: r.product.as_ref(),
        ome,
        factor_set: &set.name,
        reason,
    }
}

fn read_inputs(path: &str) -> Result<Vec<Input>> {
    let mut text = String::new();
    if path == "-" {
        io::stdin()
            .lock()
            .read_to_string(&mut text)
            .context("cannot read stdin")?;
    } else {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
        text = crate::read::input::decode_text(&bytes);
    }
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let header: Vec<String> = first
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let name_col = header.iter().position(|h| h == "name");
    let code_col = header.iter().position(|h| h == "code");
    if name_col.is_none() && code_col.is_none() {
        return Ok(io::Cursor::new(text)
            .lines()
            .map_while(Result::ok)
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .map(|l| Input {
                shown: l.clone(),
                code: String::new(),
                name: l,
            })
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{path}: line {}", i + 2))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim().to_string();
        let (code, name) = (get(code_col), get(name_col));
        if code.is_empty() && name.is_empty() {
            continue;
        }
        let shown = if code.is_empty() {
            name.clone()
        } else if name.is_empty() {
            code.clone()
        } else {
            format!("{code} {name}")
        };
        out.push(Input { shown, code, name });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_shapes() {
        assert!(is_bnf_code("0407020Q0AAAIAI"));
        assert!(!is_bnf_code("36057211000001102"));
        assert!(looks_like_code("36057211000001102"));
        assert!(looks_like_code("3.6057E+16"));
        assert!(!looks_like_code("MST Continus 60mg tablets"));
    }
}
