//! Extracts are read and audited a chunk of rows at a time (issue 6). These tests read small
//! files in chunks of a few hundred bytes, so that records, quoted line breaks, encodings and
//! date layouts fall across chunk boundaries, and check the audit against line numbers worked
//! out by hand and against the same file read as one chunk.

use std::io::Write;
use std::path::{Path, PathBuf};

use opal::dictionary::Dictionary;
use opal::engine::{run_files, AuditConfig, AuditResult};
use opal::read::extract::{FileInfo, ReadOptions};
use opal::values::{days_from_civil, DateFormat};

fn config(date_format: Option<&str>) -> AuditConfig {
    AuditConfig {
        date_format: date_format.map(|f| DateFormat(f.into())),
        ..opal::engine::test_config()
    }
}

fn audit(
    path: &Path,
    chunk_bytes: usize,
    cfg: &AuditConfig,
) -> anyhow::Result<(FileInfo, AuditResult)> {
    let opts = ReadOptions {
        chunk_bytes,
        ..ReadOptions::default()
    };
    let (mut infos, r) = run_files(
        &[path.to_path_buf()],
        &opts,
        cfg,
        Dictionary::builtin(),
        |_| {},
    )?;
    Ok((infos.remove(0), r))
}

/// 601 records after the header:
/// - record 100 has a dose text with a quoted line break (it spans lines 102–103);
/// - record 250 has quantity 0 (line 253, one more than 250 + 2 for the break);
/// - record 400 has a Windows-1252 en dash (byte 0x96) in its dose text (line 403);
/// - record 500 is a blank line (line 503);
/// - record 550 has quantity "lots" (line 553).
fn mixed_extract(dir: &Path) -> PathBuf {
    let mut out: Vec<u8> =
        b"patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n".to_vec();
    for k in 0..601 {
        let patient = format!("P{:03}", k % 40);
        let practice = if k % 2 == 0 { "A81001" } else { "A81002" };
        // Issue dates from 2026-05-01 onwards, a day a record, all before the audit date.
        let day = opal::values::format_day(days_from_civil(2026, 5, 1).unwrap() + k / 4);
        let line: Vec<u8> = match k {
            100 => format!(
                "{patient},{practice},{day},Morphine 10mg modified-release tablets,56,\"one twice daily,\nswallow whole\"\n"
            )
            .into_bytes(),
            250 => format!("{patient},{practice},{day},Morphine 10mg modified-release tablets,0,1 bd\n")
                .into_bytes(),
            400 => {
                let mut l = format!("{patient},{practice},{day},Codeine 30mg tablets,100,1-2 qds ").into_bytes();
                l.push(0x96);
                l.extend_from_slice(b" for pain\n");
                l
            }
            500 => b"\n".to_vec(),
            550 => format!("{patient},{practice},{day},Morphine 10mg modified-release tablets,lots,1 bd\n")
                .into_bytes(),
            _ if k % 3 == 0 => format!("{patient},{practice},{day},Paracetamol 500mg tablets,100,2 qds\n").into_bytes(),
            _ => format!("{patient},{practice},{day},Morphine 10mg modified-release tablets,56,1 bd\n")
                .into_bytes(),
        };
        out.extend_from_slice(&line);
    }
    let path = dir.join("mixed.csv");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn chunks_keep_line_numbers_encodings_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = mixed_extract(dir.path());
    let cfg = config(None);
    let (whole_info, whole) = audit(&path, 0, &cfg).unwrap();
    for chunk_bytes in [0, 97, 700, 4096] {
        let (info, r) = audit(&path, chunk_bytes, &cfg).unwrap();
        let a = &r.accounting;
        assert_eq!(info.rows, 601, "chunk {chunk_bytes}");
        assert_eq!(a.blank_lines, 1, "chunk {chunk_bytes}");
        assert_eq!(a.read, 600, "chunk {chunk_bytes}");
        assert!(a.balanced(), "chunk {chunk_bytes}: {a:?}");
        // Records 0..600 but 500: every third (k % 3 == 0, not 250/400/550 etc.) is
        // paracetamol; counted by hand below.
        let paracetamol = (0..601)
            .filter(|k| k % 3 == 0 && ![100, 250, 400, 500, 550].contains(k))
            .count() as u64;
        assert_eq!(a.not_opioid, paracetamol, "chunk {chunk_bytes}");
        assert_eq!(a.rejected, 2, "chunk {chunk_bytes}");
        assert_eq!(a.used, 600 - paracetamol - 2, "chunk {chunk_bytes}");
        let lines: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
        assert_eq!(lines, vec![253, 553], "chunk {chunk_bytes}");
        assert_eq!(r.rejected[1].value, "lots");
        // The record with the quoted line break starts on line 102 and keeps its break.
        let multi = r.items.iter().find(|i| i.line == 102).unwrap();
        assert_eq!(
            r.doses[multi.dose as usize].text,
            "one twice daily,\nswallow whole"
        );
        // The Windows-1252 dash is read as an en dash wherever its chunk falls.
        let dash = r.items.iter().find(|i| i.line == 403).unwrap();
        assert_eq!(
            r.doses[dash.dose as usize].text,
            "1-2 qds \u{2013} for pain"
        );
        // The same patients and measures as reading the file whole.
        assert_eq!(r.patients.len(), whole.patients.len());
        for (p, q) in r.patients.iter().zip(&whole.patients) {
            assert_eq!(p.patient_id, q.patient_id);
            assert_eq!(p.measures.ome_mg_day, q.measures.ome_mg_day);
            assert_eq!(p.measures.duration_days, q.measures.duration_days);
        }
        assert_eq!(info.sha256, whole_info.sha256);
        assert_eq!(info.bytes, std::fs::metadata(&path).unwrap().len());
    }
}

#[test]
fn gzip_is_hashed_as_stored_and_read_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = mixed_extract(dir.path());
    let gz = dir.path().join("mixed.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(&path).unwrap()).unwrap();
    enc.finish().unwrap();
    let (info, r) = audit(&gz, 300, &config(None)).unwrap();
    let stored = std::fs::read(&gz).unwrap();
    assert_eq!(info.sha256, opal::read::factors::hex_sha256(&stored));
    assert_eq!(info.bytes, stored.len() as u64);
    assert_eq!(r.accounting.read, 600);
    assert_eq!(
        r.rejected.iter().map(|x| x.line).collect::<Vec<_>>(),
        vec![253, 553]
    );
}

/// Dates whose day is 12 or less read either way round: the layout waits for one that
/// decides it, however many chunks later.
fn dated_extract(dir: &Path, name: &str, dates: &[&str]) -> PathBuf {
    let mut out =
        String::from("patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n");
    for (k, d) in dates.iter().enumerate() {
        out.push_str(&format!(
            "P{k},A81001,{d},Morphine 10mg modified-release tablets,56,1 bd\n"
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn ambiguous_first_chunks_wait_for_a_deciding_date() {
    let dir = tempfile::tempdir().unwrap();
    let mut dates = vec!["03/02/2026"; 60];
    dates.push("25/02/2026");
    let uk = dated_extract(dir.path(), "uk.csv", &dates);
    for chunk_bytes in [0, 200] {
        let (_, r) = audit(&uk, chunk_bytes, &config(None)).unwrap();
        assert_eq!(r.date_formats, vec!["%d/%m/%Y".to_string()]);
        assert_eq!(r.accounting.rejected, 0);
        // 3 February 2026, not 2 March.
        assert_eq!(r.items[0].issue_day, days_from_civil(2026, 2, 3).unwrap());
    }
    let mut dates = vec!["02/03/2026"; 60];
    dates.push("02/25/2026");
    let us = dated_extract(dir.path(), "us.csv", &dates);
    for chunk_bytes in [0, 200] {
        let e = format!("{:#}", audit(&us, chunk_bytes, &config(None)).unwrap_err());
        assert!(e.contains("month-first"), "chunk {chunk_bytes}: {e}");
        // Told the layout, the same file reads.
        let (_, r) = audit(&us, chunk_bytes, &config(Some("%m/%d/%Y"))).unwrap();
        assert_eq!(r.items[0].issue_day, days_from_civil(2026, 2, 3).unwrap());
        assert_eq!(r.accounting.used, 61);
    }
}

#[test]
fn a_ragged_row_in_a_later_chunk_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut out =
        String::from("patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n");
    for k in 0..100 {
        out.push_str(&format!(
            "P{k},A81001,2026-10-01,Morphine 10mg modified-release tablets,56,1 bd\n"
        ));
    }
    out.push_str("P100,A81001,2026-10-01,Morphine 10mg tablets, 60mg,56,1 bd\n");
    let path = dir.path().join("ragged.csv");
    std::fs::write(&path, out).unwrap();
    let e = format!("{:#}", audit(&path, 500, &config(None)).unwrap_err());
    assert!(
        e.contains("line 102 has 7 fields but the header has 6"),
        "{e}"
    );
}
