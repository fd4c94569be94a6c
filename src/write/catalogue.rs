//! Every table opal writes, with its columns' meanings: the README's column tables are made
//! from this (a test fails when they disagree).

use crate::write::cells::Kind;
use crate::write::columns::{docs, ColumnDoc};

/// One table as the documentation shows it.
#[derive(Debug, Clone)]
pub struct TableDoc {
    /// The file (without `.csv`/`.parquet`), as it sits in the output folder, or the command
    /// that prints it.
    pub file: &'static str,
    /// The commands that write it.
    pub commands: &'static str,
    pub columns: Vec<ColumnDoc>,
}

/// Every table, in the order the README lists them.
pub fn catalogue() -> Vec<TableDoc> {
    use crate::write::{answers, audit, epd, epd_trend, items, packs, patients, summary, trend};
    let t = |file, commands, columns| TableDoc {
        file,
        commands,
        columns,
    };
    vec![
        t(
            "review_list",
            "opal audit; also in each practice pack",
            docs(patients::columns(false)),
        ),
        t("patients", "opal audit", docs(patients::columns(true))),
        t("items", "opal audit", docs(items::COLUMNS)),
        t(
            "practice_summary",
            "opal audit",
            docs(summary::summary_columns(false, true)),
        ),
        t(
            "ics_summary",
            "opal audit",
            docs(summary::summary_columns(true, true)),
        ),
        t(
            "resolved",
            "opal audit --previous-as-of; also in each practice pack",
            docs(audit::RESOLVED),
        ),
        t("unresolved", "opal audit", docs(audit::UNRESOLVED)),
        t("rejected", "opal audit, opal epd", docs(audit::REJECTED)),
        t(
            "practices/index",
            "opal audit --practice-packs",
            docs(packs::PACK_INDEX),
        ),
        t(
            "measures",
            "opal trend",
            docs(trend::measures_columns(false)),
        ),
        t("spc", "opal trend, opal epd", docs(trend::SPC)),
        t("aims", "opal trend, opal epd", docs(trend::AIMS)),
        t(
            "charts/index",
            "opal trend, opal epd --charts",
            docs(trend::CHART_INDEX),
        ),
        t("bnf_ome", "opal epd", docs(epd::BNF_OME)),
        t(
            "practice_measures",
            "opal epd",
            docs(epd::measures_columns(false)),
        ),
        t(
            "ics_measures",
            "opal epd",
            docs(epd::measures_columns(true)),
        ),
        t(
            "unresolved (EPD)",
            "opal epd",
            docs(epd::unresolved_columns()),
        ),
        t("deciles", "opal epd", docs(epd_trend::DECILES_COLUMNS)),
        t("ranks", "opal epd", docs(epd_trend::RANKS)),
        t("practices", "opal epd", docs(epd_trend::PRACTICES)),
        t("opal products", "CSV on stdout", docs(answers::PRODUCTS)),
        t("opal dose", "CSV on stdout", docs(answers::DOSES)),
        t(
            "opal factors --csv",
            "CSV on stdout; the columns of a factor table of one's own",
            docs(answers::FACTORS),
        ),
    ]
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Text => "text",
        Kind::Number => "number",
        Kind::Integer => "integer",
        Kind::Flag => "true/false",
        Kind::Date => "date",
    }
}

/// The README's column tables, as Markdown: a table per output, folded.
pub fn markdown() -> String {
    let mut out = String::new();
    for t in catalogue() {
        out.push_str(&format!(
            "<details><summary><code>{}</code> ({})</summary>\n\n| column | kind | meaning |\n|---|---|---|\n",
            t.file, t.commands
        ));
        for c in &t.columns {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                c.name,
                kind_name(c.kind),
                c.meaning.replace('|', "\\|")
            ));
        }
        out.push_str("\n</details>\n");
    }
    out
}
