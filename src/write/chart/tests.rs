//! Unit tests of `chart`.

// A chart against the deciles whose organisation has a lone month between gaps: a dot,
// no line through the gaps, and no element with an attribute twice (a standalone SVG
// with one is not XML, and a browser shows a broken image).
#[test]
fn deciles_chart_breaks_at_gaps_and_is_well_formed() {
    let months: Vec<String> = (1..=4).map(|m| format!("2024-{m:02}")).collect();
    let d = Some([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    let svg = deciles_svg(&DecilesChart {
        title: "A & B",
        label: "per 1,000",
        months: &months,
        deciles: &[d, d, None, d],
        own: &[Some(2.0), None, Some(3.0), None],
        of: "practices",
    });
    // The organisation's two lone months (red), and each decile's lone last month.
    assert_eq!(svg.matches(&format!("fill=\"{RED}\"")).count(), 2);
    assert_eq!(svg.matches("<circle").count(), 11);
    assert!(!svg.contains("<polyline points=\"\""));
    assert!(svg.contains("A &amp; B"));
    for element in svg.split('<').skip(1) {
        let tag = element.split('>').next().unwrap();
        let mut names: Vec<&str> = tag
            .split_whitespace()
            .skip(1)
            .filter_map(|a| a.split_once('=').map(|(n, _)| n))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "an attribute twice in <{tag}>");
    }
}

use super::*;
use crate::spc::{xmr, Direction, SpcOptions};

#[test]
fn a_chart_has_a_point_per_month_its_lines_and_escaped_text() {
    let v = [10.0, 12.0, 11.0, 9.0, 8.0, 30.0];
    let spc = xmr(
        &v,
        &SpcOptions {
            direction: Direction::Decrease,
            baseline: None,
            target: Some(5.0),
            ..SpcOptions::default()
        },
    );
    let months: Vec<String> = (1..=6).map(|m| format!("2026-{m:02}")).collect();
    let out = svg(&Chart {
        title: "Practice <A&B>",
        label: label(Measure::HighDose),
        per: "at each month end",
        months: &months,
        spc: &spc,
        target: Some(5.0),
        baseline: None,
        complete_from: 0,
    });
    assert!(out.starts_with("<svg") && out.ends_with("</svg>\n"));
    assert!(!out.contains("warm-up") && !out.contains(">baseline<"));
    // A shaded baseline (months 2 to 4) and two faded warm-up months.
    let shaded = svg(&Chart {
        title: "Practice",
        label: label(Measure::HighDose),
        per: "at each month end",
        months: &months,
        spc: &spc,
        target: Some(5.0),
        baseline: Some(2..5),
        complete_from: 2,
    });
    assert!(shaded.contains("<title>baseline: 2026-03 to 2026-05</title>"));
    assert_eq!(shaded.matches("warm-up month").count(), 2);
    assert_eq!(shaded.matches(r#"<g opacity="0.35">"#).count(), 2);
    assert!(out.contains("Practice &lt;A&amp;B&gt;"));
    assert!(!out.contains("<A&B>"));
    // Six points plus four legend markers, each with a title.
    let markers = out.matches("<title>").count();
    assert!(markers >= 6 + 4 + 4, "{markers}");
    assert!(out.contains("target 5"));
    assert!(out.contains("2026-06: 30"));
    // Every element opened is closed (a well-formedness check without an XML parser).
    for tag in [
        "svg", "text", "title", "g", "circle", "path", "rect", "line", "desc",
    ] {
        let opened =
            out.matches(&format!("<{tag} ")).count() + out.matches(&format!("<{tag}>")).count();
        let closed = out.matches(&format!("</{tag}>")).count();
        let self_closed = out
            .split(&format!("<{tag} "))
            .skip(1)
            .filter(|rest| {
                let end = rest.find('>').unwrap_or(0);
                rest[..end].ends_with('/')
            })
            .count();
        assert_eq!(opened, closed + self_closed, "<{tag}>");
    }
    assert!(
        !out.contains("http://") || out.matches("http://").count() == 1,
        "only the xmlns"
    );
}
