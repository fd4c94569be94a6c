//! The shape of the code, held by tests that read the source (as rust-analyzer's tidy tests
//! do): each states an absence that ARCHITECTURE.md names.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`: its path from the project's root (with `/`), and its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.into_iter()
        .map(|(path, text)| {
            let rel = path.strip_prefix(root()).unwrap_or(&path);
            (rel.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

/// The lines of a file that are code: comments and doc comments left out.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

/// The four parts depend on each other one way only: `read` on none of the others, `engine`
/// on `read`, `write` on `engine` and `read`; nothing but `cmd` (and `main`/`cli`) on `cmd`.
#[test]
fn no_import_runs_against_the_direction() {
    let forbidden: &[(&str, &[&str])] = &[
        ("src/read", &["crate::engine", "crate::write", "crate::cmd"]),
        ("src/engine", &["crate::write", "crate::cmd"]),
        ("src/write", &["crate::cmd"]),
    ];
    let mut found = Vec::new();
    for (dir, paths) in forbidden {
        for (path, text) in sources(&root().join(dir)) {
            for (n, line) in code_lines(&text) {
                for p in *paths {
                    if line.contains(p) {
                        found.push(format!("{path}:{n}: {p}"));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "imports against the direction:\n{}",
        found.join("\n")
    );
}

/// The crates that make output — HTML (maud), workbooks (rust_xlsxwriter and zip), terminal
/// tables (comfy_table) and JSON (serde_json) — are used only in `write/`: a command translates
/// arguments and calls the engine and the writers, it formats nothing itself. The one
/// exception is reading FHIR input, which is JSON (`read/fhir.rs`).
#[test]
fn output_crates_are_used_only_in_write() {
    let crates = [
        "maud",
        "rust_xlsxwriter",
        "zip",
        "comfy_table",
        "serde_json",
    ];
    let mut found = Vec::new();
    for (rel, text) in sources(&root().join("src")) {
        if rel.starts_with("src/write/") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            for c in crates {
                // FHIR input is JSON: read/fhir.rs reads it with serde_json, and writes nothing.
                if c == "serde_json" && rel == "src/read/fhir.rs" {
                    continue;
                }
                if line.contains(&format!("{c}::")) || line.contains(&format!("use {c}")) {
                    found.push(format!("{rel}:{n}: {c}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "output crates outside write/:\n{}",
        found.join("\n")
    );
}

/// Every source file of both crates opens with a `//!` paragraph saying what it is.
#[test]
fn commands_start_no_thread_and_stage_no_output() {
    // A command translates its arguments, calls one engine pipeline and one writer: the
    // threads are the engine's and the writers', the output folder the writers'.
    let banned = ["thread::", "resume_unwind", "Staging::", ".commit("];
    let mut found = Vec::new();
    for (rel, text) in sources(&root().join("src/cmd")) {
        for (n, line) in code_lines(&text) {
            for b in banned {
                if line.contains(b) {
                    found.push(format!("{rel}:{n}: {b}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "threads or output folders in cmd/ (they belong in engine/ or write/):\n{}",
        found.join("\n")
    );
}

#[test]
fn tables_are_written_only_from_declared_columns() {
    // Every table file is written from a list of `write::columns::Column`s (name, kind,
    // meaning, cell): no table is put together column by column anywhere else, and no CSV
    // header is written by hand outside the writers that take a declaration.
    let banned = ["Table {", "Values::", "write_parquet(", "csv_writer("];
    // `opal synth` writes extracts, practices and list sizes in the layouts the readers take,
    // not tables of opal's own.
    let allowed = [
        "src/write/table.rs",
        "src/write/columns.rs",
        "src/write/output.rs",
        "src/cmd/synth.rs",
        "src/synth.rs",
    ];
    let mut found = Vec::new();
    for (rel, text) in sources(&root().join("src")) {
        if allowed.contains(&rel.as_str()) {
            continue;
        }
        for (n, line) in code_lines(&text) {
            // A return type (`-> Table {`) is not a table being built.
            let built = |b: &str| line.contains(b) && !(b == "Table {" && line.contains("->"));
            for b in banned {
                if built(b) {
                    found.push(format!("{rel}:{n}: {b}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a table built outside write/columns.rs (declare its columns and use \
         columns::write_rows or TableWriter):\n{}",
        found.join("\n")
    );
}

#[test]
fn hints_are_not_written_into_messages() {
    // An error's hint is a Diagnostic's `hint` (or, in the core, a Problem's), a warning's
    // goes through `error::with_hint`: cli.rs shows it after the causes. No message, in the
    // root package or the core, carries its own "\nhint:"; `Problem::text` is the one place
    // a message and its hint are joined.
    let mut found = Vec::new();
    let files = sources(&root().join("src"))
        .into_iter()
        .chain(sources(&root().join("core/src")));
    for (rel, text) in files {
        // The two places that render a hint after its message.
        if rel == "core/src/problem.rs" || rel == "src/error.rs" {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains("\\nhint:") || line.trim_start().starts_with("hint: ") {
                found.push(format!("{rel}:{n}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "hints written into messages (use Diagnostic::hint or error::with_hint):\n{}",
        found.join("\n")
    );
}

#[test]
fn every_source_file_says_what_it_is() {
    let mut missing = Vec::new();
    for dir in ["src", "core/src", "tests/it", "examples"] {
        for (path, text) in sources(&root().join(dir)) {
            if !text.trim_start().starts_with("//!") {
                missing.push(path);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no //! paragraph:\n{}",
        missing.join("\n")
    );
}

/// The README's column tables name only columns the outputs have (issue 24.2): every name in
/// the first cell of the review list's column table is a `review_list.csv` column, and the
/// names in `patients.csv`'s row are `patients.csv` columns — taken from the one declaration
/// of those columns (`write::patients::COLUMNS`), which also makes the workbook's `columns`
/// sheet.
#[test]
fn the_readmes_column_tables_name_the_declared_columns() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let declared: Vec<&str> = opal::write::patients::COLUMNS
        .iter()
        .map(|c| c.name)
        .collect();
    let on_list: Vec<&str> = opal::write::patients::COLUMNS
        .iter()
        .filter(|c| c.tag == opal::write::patients::Lists::Both)
        .map(|c| c.name)
        .collect();
    let names = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    // The review list's table: from its header to the first line that is not a row.
    let start = readme
        .find("| column | example | what |")
        .expect("the review list's column table");
    let mut checked = 0;
    for line in readme[start..].lines().skip(2) {
        if !line.starts_with("| `") {
            break;
        }
        let first = line.split('|').nth(1).unwrap_or("");
        for name in names(first) {
            assert!(
                on_list.contains(&name.as_str()),
                "README names a review_list column `{name}` that review_list.csv does not have"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 7,
        "only {checked} names found in the README's column table"
    );
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `patients.csv` |"))
        .expect("patients.csv in the README's outputs table");
    let described = row.split('|').nth(2).unwrap_or("");
    for name in names(described) {
        assert!(
            declared.contains(&name.as_str()),
            "README names a patients column `{name}` that patients.csv does not have"
        );
    }
}

/// The README's "Every output's columns" is made from the declarations every writer uses
/// (`write::catalogue`): name, kind and meaning of each column of each table. When they
/// disagree the test fails; `OPAL_UPDATE_README=1` writes the declarations into the README.
#[test]
fn readme_column_tables_match_the_declarations() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- columns:start -->\n", "<!-- columns:end -->");
    let from = readme
        .find(start)
        .expect("the README's columns:start marker")
        + start.len();
    let to = readme.find(end).expect("the README's columns:end marker");
    let want = opal::write::catalogue::markdown();
    if readme[from..to] == want {
        return;
    }
    if std::env::var_os("OPAL_UPDATE_README").is_some() {
        let updated = format!("{}{want}{}", &readme[..from], &readme[to..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    let differs = readme[from..to]
        .lines()
        .zip(want.lines())
        .find(|(a, b)| a != b)
        .map(|(a, b)| format!("README has\n  {a}\nthe declarations say\n  {b}"))
        .unwrap_or_else(|| "one has more lines than the other".into());
    panic!(
        "the README's column tables differ from the declarations (src/write/catalogue.rs):\n\
         {differs}\nrun OPAL_UPDATE_README=1 cargo test --test it readme_column to rewrite them"
    );
}

/// Every table's columns have a meaning of a sentence, and no table names a column twice.
#[test]
fn every_declared_column_has_a_meaning_and_a_distinct_name() {
    for t in opal::write::catalogue::catalogue() {
        let mut seen = std::collections::HashSet::new();
        for c in &t.columns {
            assert!(
                c.meaning.len() > 5 && c.meaning.ends_with(['.', ')']),
                "{}: `{}` has no meaning of a sentence: {:?}",
                t.file,
                c.name,
                c.meaning
            );
            assert!(seen.insert(c.name), "{}: `{}` twice", t.file, c.name);
        }
    }
}
