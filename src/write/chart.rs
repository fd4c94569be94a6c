//! SPC XmR charts as SVG (Making Data Count's name: a run chart has no process limits),
//! written by hand: points and line, mean, process limits, target, point types by colour
//! *and* shape, the variation and assurance icons, month labels. A small module rather than
//! a plotting crate: the chart is a few dozen elements, and a crate would bring a font stack
//! and a build cost for no gain in what a reader sees.

use std::fmt::Write;

use crate::spc::{Assurance, PointType, Spc};
use crate::trend::Measure;

/// What one chart shows.
pub struct Chart<'a> {
    /// The practice's or ICS's name and code.
    pub title: &'a str,
    /// What is measured ([`label`] of a trend measure).
    pub label: &'a str,
    /// When: "at each month end" (a trend), "each month" (the EPD).
    pub per: &'a str,
    /// `YYYY-MM` of each point.
    pub months: &'a [String],
    pub spc: &'a Spc,
    pub target: Option<f64>,
    /// The aim's baseline months, shaded and labelled.
    pub baseline: Option<std::ops::Range<usize>>,
    /// The first complete month: the points before it (warm-up) are drawn faded.
    pub complete_from: usize,
}

const W: f64 = 860.0;
const H: f64 = 470.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 96.0;
const BOTTOM: f64 = 118.0;

/// NHS England's Making Data Count colours.
const GREY: &str = "#7b7d7d";
const BLUE: &str = "#289de0";
const ORANGE: &str = "#e46c0a";
const PURPLE: &str = "#361475";
const RED: &str = "#d5281b";

/// Text in a chart, escaped, with the characters XML refuses replaced (write/markup.rs).
pub fn xml(text: &str) -> String {
    crate::write::markup::escape(text)
}

/// A trend measure's words on its chart.
pub fn label(m: Measure) -> &'static str {
    match m {
        Measure::HighDose => "Patients above the high-dose threshold",
        Measure::HighDosePer1000 => "High-dose patients per 1,000 registered patients",
        Measure::LongTerm => "Patients on opioids for more than the long-term limit",
        Measure::HighDoseAndLongTerm => "Patients both high-dose and long-term",
        Measure::LongTermPer1000 => "Long-term patients per 1,000 registered patients",
        _ => m.name(),
    }
}

/// A round step for about `n` ticks over `range`.
fn nice_step(range: f64, n: f64) -> f64 {
    let raw = (range / n).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn num(v: f64) -> String {
    crate::values::fmt_num((v * 100.0).round() / 100.0)
}

/// The shape of a point: circle (common cause), diamond (improvement), square (concern),
/// triangle (neutral).
fn marker(out: &mut String, t: PointType, x: f64, y: f64, text: &str) {
    let r = 5.5;
    let _ = match t {
        PointType::CommonCause => write!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{GREY}"><title>{text}</title></circle>"#
        ),
        PointType::Improvement => write!(
            out,
            r#"<path d="M{x:.1} {:.1} L{:.1} {y:.1} L{x:.1} {:.1} L{:.1} {y:.1} Z" fill="{BLUE}"><title>{text}</title></path>"#,
            y - r * 1.3,
            x + r * 1.3,
            y + r * 1.3,
            x - r * 1.3
        ),
        PointType::Concern => write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{ORANGE}"><title>{text}</title></rect>"#,
            x - r,
            y - r,
            2.0 * r,
            2.0 * r
        ),
        PointType::Neutral => write!(
            out,
            r#"<path d="M{x:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z" fill="{PURPLE}"><title>{text}</title></path>"#,
            y - r * 1.3,
            x + r * 1.2,
            y + r,
            x - r * 1.2,
            y + r
        ),
    };
}

/// The variation icon's colour, letter and words.
fn variation_icon(v: &str) -> (&'static str, &'static str, &'static str) {
    match v {
        "improvement_high" => (BLUE, "H", "Special cause: improvement (high)"),
        "improvement_low" => (BLUE, "L", "Special cause: improvement (low)"),
        "concern_high" => (ORANGE, "H", "Special cause: concern (high)"),
        "concern_low" => (ORANGE, "L", "Special cause: concern (low)"),
        "neutral_high" => (
            PURPLE,
            "H",
            "Special cause: neither better nor worse (high)",
        ),
        "neutral_low" => (PURPLE, "L", "Special cause: neither better nor worse (low)"),
        _ => (GREY, "~", "Common cause variation"),
    }
}

fn assurance_icon(a: Option<Assurance>) -> (&'static str, &'static str, &'static str) {
    match a {
        Some(Assurance::ConsistentPass) => {
            (BLUE, "P", "Assurance: will consistently meet the target")
        }
        Some(Assurance::ConsistentFail) => {
            (ORANGE, "F", "Assurance: will consistently miss the target")
        }
        Some(Assurance::Inconsistent) => (
            GREY,
            "?",
            "Assurance: will meet the target some months and not others",
        ),
        None => (GREY, "–", "No target"),
    }
}

/// "How to read these charts", Making Data Count's card: the point types by colour and shape,
/// every variation and assurance icon with its meaning, the baseline and warm-up months.
pub fn key_svg() -> String {
    const KW: f64 = 860.0;
    const KH: f64 = 380.0;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg viewBox="0 0 {KW} {KH}" width="{KW}" height="{KH}" role="img" aria-labelledby="kt" font-family="Arial, Helvetica, sans-serif"><title id="kt">How to read these charts: point types, variation and assurance icons, baseline and warm-up months, rebases</title><rect width="{KW}" height="{KH}" fill="white"/>"#
    );
    let heading = |o: &mut String, x: f64, y: f64, text: &str| {
        let _ = write!(
            o,
            r##"<text x="{x}" y="{y}" font-size="14" font-weight="bold" fill="#212b32">{text}</text>"##
        );
    };
    heading(&mut o, 20.0, 24.0, "Points");
    for (k, (t, words)) in [
        (
            PointType::CommonCause,
            "common cause: the usual variation of this process",
        ),
        (
            PointType::Improvement,
            "improvement: a special cause in the better direction",
        ),
        (
            PointType::Concern,
            "concern: a special cause in the worse direction",
        ),
        (
            PointType::Neutral,
            "neither: a special cause where no direction is better",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let y = 48.0 + 24.0 * k as f64;
        marker(&mut o, t, 30.0, y, words);
        let _ = write!(
            o,
            r##"<text x="44" y="{:.1}" font-size="12" fill="#212b32">{}</text>"##,
            y + 4.0,
            xml(words)
        );
    }
    let _ = write!(o, r##"<g opacity="0.35">"##);
    marker(&mut o, PointType::CommonCause, 30.0, 144.0, "warm-up month");
    o.push_str("</g>");
    let _ = write!(
        o,
        r##"<text x="44" y="148" font-size="12" fill="#212b32">faded: a warm-up month (the extract does not yet cover the look-back), in no limit or baseline</text><rect x="22" y="160" width="16" height="14" fill="#eef3f8"/><text x="44" y="172" font-size="12" fill="#212b32">shaded: the baseline months the target is set from</text>"##
    );
    // Rebases: a known change (drawn), a run that suggests one (suggested only).
    let _ = write!(
        o,
        r##"<line x1="470" x2="470" y1="36" y2="62" stroke="#425563" stroke-width="1.2"/><text x="482" y="46" font-size="12" fill="#212b32">rebased: the limits recalculated from a known change</text><text x="482" y="60" font-size="12" fill="#212b32">in the process (--rebase)</text><line x1="470" x2="470" y1="76" y2="102" stroke="#ffb81c" stroke-width="1.6" stroke-dasharray="3 3"/><text x="482" y="86" font-size="12" fill="#212b32">rebase?: a run on one side of the mean to the latest</text><text x="482" y="100" font-size="12" fill="#212b32">month; rebase only if the process is known to have changed</text>"##
    );
    heading(&mut o, 20.0, 204.0, "Variation (left icon)");
    for (k, v) in [
        "common_cause",
        "improvement_low",
        "concern_high",
        "neutral_high",
    ]
    .into_iter()
    .enumerate()
    {
        let (col, row) = (k % 2, k / 2);
        badge(
            &mut o,
            34.0 + 420.0 * col as f64,
            232.0 + 30.0 * row as f64,
            variation_icon(v),
        );
    }
    heading(
        &mut o,
        20.0,
        302.0,
        "Assurance (right icon): the process limits against the target",
    );
    for (k, a) in [
        Some(Assurance::ConsistentPass),
        Some(Assurance::ConsistentFail),
        Some(Assurance::Inconsistent),
    ]
    .into_iter()
    .enumerate()
    {
        let (col, row) = (k % 2, k / 2);
        badge(
            &mut o,
            34.0 + 420.0 * col as f64,
            330.0 + 30.0 * row as f64,
            assurance_icon(a),
        );
    }
    o.push_str("</svg>\n");
    o
}

/// A chart's variation or assurance icon on its own, small, for a table's cell: the icon and
/// its words as the title.
pub fn icon_svg(variation: Option<&str>, assurance: Option<Option<Assurance>>) -> String {
    let (colour, letter, words) = match (variation, assurance) {
        (Some(v), _) => variation_icon(v),
        (None, Some(a)) => assurance_icon(a),
        (None, None) => (GREY, "–", "none"),
    };
    format!(
        r##"<svg viewBox="0 0 24 24" width="22" height="22" role="img"><title>{}</title><circle cx="12" cy="12" r="10" fill="white" stroke="{colour}" stroke-width="2.5"/><text x="12" y="16.5" text-anchor="middle" font-size="12" font-weight="bold" font-family="Arial, Helvetica, sans-serif" fill="{colour}">{letter}</text></svg>"##,
        xml(words)
    )
}

fn badge(out: &mut String, x: f64, y: f64, (colour, letter, words): (&str, &str, &str)) {
    let _ = write!(
        out,
        r##"<g><circle cx="{x:.1}" cy="{y:.1}" r="13" fill="white" stroke="{colour}" stroke-width="3"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="14" font-weight="bold" fill="{colour}">{letter}</text><text x="{:.1}" y="{:.1}" font-size="12" fill="#212b32">{}</text></g>"##,
        y + 5.0,
        x + 20.0,
        y + 4.0,
        xml(words)
    );
}

/// The chart as a standalone SVG document.
pub fn svg(c: &Chart) -> String {
    let s = c.spc;
    // One place per month; with --suppress a hidden month is a gap (no point).
    let n = c.months.len().max(s.points.len()).max(1);
    let pm = |i: usize| s.month_of(i);
    let gaps = n.saturating_sub(s.points.len());
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let lines = s
        .segments
        .iter()
        .flat_map(|g| [g.mean, g.lower_process_limit, g.upper_process_limit])
        .chain(c.target);
    for v in s.points.iter().map(|p| p.value).chain(lines) {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        (lo, hi) = (lo - 1.0, hi + 1.0);
    }
    let step = nice_step(hi - lo, 5.0);
    let (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| LEFT + (i as f64 + 0.5) * plot_w / n as f64;
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * plot_h;

    let title = xml(c.title);
    let what = xml(c.label);
    let per = if gaps > 0 {
        format!(
            "{}; {gaps} month(s) with 1 to 7 patients hidden by --suppress are gaps",
            xml(c.per)
        )
    } else {
        xml(c.per)
    };
    let limits = if s.trial_limits {
        "trial limits (fewer than 12 points)"
    } else {
        "process limits"
    };
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="t d" font-family="Arial, Helvetica, sans-serif">"#
    );
    let last = s.points.last().map(|p| p.value).unwrap_or(f64::NAN);
    let _ = write!(
        o,
        r#"<title id="t">{title}: {what}</title><desc id="d">XmR chart of {n} months{}; latest {}; mean {}; {limits} {} to {}{}{}. {}. {}.</desc>"#,
        c.months
            .first()
            .zip(c.months.last())
            .map(|(a, b)| format!(" from {a} to {b}"))
            .unwrap_or_default(),
        num(last),
        num(s.mean),
        num(s.lower_process_limit),
        num(s.upper_process_limit),
        c.target
            .map(|t| format!("; target {}", num(t)))
            .unwrap_or_default(),
        rebase_words(c),
        variation_icon(s.variation).2,
        assurance_icon(s.assurance).2,
    );
    let _ = write!(o, r##"<rect width="{W}" height="{H}" fill="white"/>"##);
    let _ = write!(
        o,
        r##"<text x="{LEFT}" y="26" font-size="17" font-weight="bold" fill="#212b32">{title}</text><text x="{LEFT}" y="46" font-size="13" fill="#425563">{what}, {per}</text>"##
    );
    badge(&mut o, LEFT + 10.0, 72.0, variation_icon(s.variation));
    badge(&mut o, LEFT + 400.0, 72.0, assurance_icon(s.assurance));
    // The baseline months, shaded behind everything.
    if let Some(b) = c
        .baseline
        .as_ref()
        .filter(|b| b.start < b.end && b.end <= n)
    {
        let half = plot_w / n as f64 / 2.0;
        let (x0, x1) = (x(b.start) - half, x(b.end - 1) + half);
        let _ = write!(
            o,
            r##"<rect x="{x0:.1}" y="{TOP}" width="{:.1}" height="{plot_h:.1}" fill="#eef3f8"><title>baseline: {} to {}</title></rect><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#425563">baseline</text>"##,
            x1 - x0,
            xml(c.months.get(b.start).map(String::as_str).unwrap_or("")),
            xml(c.months.get(b.end - 1).map(String::as_str).unwrap_or("")),
            (x0 + x1) / 2.0,
            TOP - 4.0
        );
    }
    // Axes and grid.
    let mut v = lo;
    while v <= hi + step / 2.0 {
        let yy = y(v);
        let _ = write!(
            o,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e8edee"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#425563">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            num(v)
        );
        v += step;
    }
    let every = ((n as f64 * 58.0 / plot_w).ceil() as usize).max(1);
    for (i, m) in c.months.iter().enumerate() {
        // Every `every` months, counted back from the latest, which is always labelled.
        if (n - 1 - i) % every == 0 {
            let _ = write!(
                o,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#425563">{}</text>"##,
                x(i),
                TOP + plot_h + 18.0,
                xml(m)
            );
        }
    }
    let _ = write!(
        o,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}" stroke="#425563"/>"##,
        TOP + plot_h
    );
    // Lines: limits and mean of each part (one unless rebased), target.
    let half = plot_w / n as f64 / 2.0;
    // A part's span, from its first point (an index into the points) to its last.
    let (from_x, to_x) = (
        |a: usize| if a == 0 { LEFT } else { x(pm(a)) - half },
        |z: usize| {
            if z >= s.points.len() {
                W - RIGHT
            } else {
                x(pm(z - 1)) + half
            }
        },
    );
    let hline = |o: &mut String, span: (f64, f64), v: f64, style: (&str, &str), name: &str| {
        if v.is_finite() {
            let (yy, (colour, dash)) = (y(v), style);
            let _ = write!(
                o,
                r#"<line x1="{}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="{colour}" stroke-width="1.6" stroke-dasharray="{dash}"><title>{name} {}</title></line>"#,
                // The left edge as it always was written (the plot's edge, a whole number).
                if span.0 == LEFT {
                    format!("{LEFT}")
                } else {
                    format!("{:.1}", span.0)
                },
                span.1,
                num(v)
            );
        }
    };
    for g in &s.segments {
        let span = (from_x(g.points.start), to_x(g.points.end));
        let upper = g.upper_process_limit;
        hline(&mut o, span, upper, (GREY, "6 4"), "upper process limit");
        let lower = g.lower_process_limit;
        hline(&mut o, span, lower, (GREY, "6 4"), "lower process limit");
        hline(&mut o, span, g.mean, ("#212b32", ""), "mean");
    }
    if let Some(t) = c.target {
        hline(&mut o, (LEFT, W - RIGHT), t, (RED, "2 3"), "target");
    }
    // Where the chart is rebased, and where a run suggests it might be.
    for g in s.segments.iter().skip(1) {
        let xx = from_x(g.points.start);
        let month = xml(c
            .months
            .get(pm(g.points.start))
            .map(String::as_str)
            .unwrap_or(""));
        let _ = write!(
            o,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{:.1}" stroke="#425563" stroke-width="1.2"><title>rebased at {month}: limits recalculated from here</title></line><text x="{:.1}" y="{:.1}" font-size="11" fill="#425563">rebased</text>"##,
            TOP + plot_h,
            xx + 3.0,
            TOP + 12.0
        );
    }
    if let Some(k) = s.suggested_rebase {
        let xx = from_x(k);
        let month = xml(c.months.get(pm(k)).map(String::as_str).unwrap_or(""));
        let _ = write!(
            o,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{:.1}" stroke="#ffb81c" stroke-width="1.6" stroke-dasharray="3 3"><title>a rebase suggested at {month}: a run on one side of the mean from here to the latest month; rebase only for a known change (--rebase)</title></line><text x="{:.1}" y="{:.1}" font-size="11" fill="#425563">rebase?</text>"##,
            TOP + plot_h,
            xx + 3.0,
            TOP + plot_h - 6.0
        );
    }
    // The data line (broken at gaps) and the points.
    let mut runs: Vec<Vec<String>> = Vec::new();
    for (i, p) in s.points.iter().enumerate() {
        if i == 0 || pm(i) != pm(i - 1) + 1 {
            runs.push(Vec::new());
        }
        if let Some(run) = runs.last_mut() {
            run.push(format!("{:.1},{:.1}", x(pm(i)), y(p.value)));
        }
    }
    for path in runs.iter().filter(|r| !r.is_empty()) {
        let _ = write!(
            o,
            r#"<polyline points="{}" fill="none" stroke="{GREY}" stroke-width="1.5"/>"#,
            path.join(" ")
        );
    }
    for (i, p) in s.points.iter().enumerate() {
        let month = c.months.get(pm(i)).map(String::as_str).unwrap_or("");
        let text = format!(
            "{}: {} ({}{})",
            xml(month),
            num(p.value),
            p.point_type.as_str().replace('_', " "),
            if p.rules.is_empty() {
                String::new()
            } else {
                format!(": {}", p.rules.label().replace('_', " "))
            }
        );
        if pm(i) < c.complete_from {
            // Warm-up: the extract does not yet cover the measure's look-back.
            let _ = write!(o, r#"<g opacity="0.35">"#);
            marker(
                &mut o,
                p.point_type,
                x(pm(i)),
                y(p.value),
                &format!("{text}; warm-up month"),
            );
            o.push_str("</g>");
        } else {
            marker(&mut o, p.point_type, x(pm(i)), y(p.value), &text);
        }
    }
    // Legend.
    let ly = H - 40.0;
    let mut lx = LEFT;
    for (t, words) in [
        (PointType::CommonCause, "common cause"),
        (PointType::Improvement, "improvement"),
        (PointType::Concern, "concern"),
        (PointType::Neutral, "neither"),
    ] {
        marker(&mut o, t, lx + 6.0, ly, words);
        let _ = write!(
            o,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#212b32">{words}</text>"##,
            lx + 16.0,
            ly + 4.0
        );
        lx += 118.0;
    }
    let legend_lines: [(&str, &str, &str); 3] = [
        ("#212b32", "", "mean"),
        (GREY, "6 4", limits),
        (RED, "2 3", "target"),
    ];
    let ly2 = H - 16.0;
    let mut lx = LEFT;
    for (colour, dash, words) in legend_lines {
        if words == "target" && c.target.is_none() {
            continue;
        }
        let _ = write!(
            o,
            r##"<line x1="{lx:.1}" x2="{:.1}" y1="{ly2:.1}" y2="{ly2:.1}" stroke="{colour}" stroke-width="1.6" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#212b32">{words}</text>"##,
            lx + 26.0,
            lx + 32.0,
            ly2 + 4.0
        );
        lx += 56.0 + 6.0 * words.len() as f64;
    }
    o.push_str("</svg>\n");
    o
}

/// The chart's rebases and suggested rebase, for its description.
fn rebase_words(c: &Chart) -> String {
    let s = c.spc;
    let month = |k: usize| {
        c.months
            .get(s.month_of(k))
            .map(String::as_str)
            .unwrap_or("")
    };
    let mut out = String::new();
    for g in s.segments.iter().skip(1) {
        out.push_str(&format!("; rebased at {}", xml(month(g.points.start))));
    }
    if let Some(k) = s.suggested_rebase {
        out.push_str(&format!("; a rebase suggested at {}", xml(month(k))));
    }
    out
}

/// What an OpenPrescribing-style chart shows: an organisation's value each month against the
/// national deciles of practices.
pub struct DecilesChart<'a> {
    pub title: &'a str,
    pub label: &'a str,
    /// `YYYY-MM` of each month.
    pub months: &'a [String],
    /// Per month: the 10th to 90th percentiles across practices.
    pub deciles: &'a [Option<[f64; 9]>],
    /// Per month: the organisation's value (a gap where it has none).
    pub own: &'a [Option<f64>],
    /// Whose deciles: "practices" or "ICSs".
    pub of: &'a str,
}

/// The organisation's line (red, solid) over the national deciles (blue, dashed; the median
/// bold), as OpenPrescribing draws its measures. Months without a value are gaps.
pub fn deciles_svg(c: &DecilesChart) -> String {
    let n = c.months.len().max(1);
    let (mut lo, mut hi) = (0.0f64, f64::NEG_INFINITY);
    for v in c
        .deciles
        .iter()
        .flatten()
        .flat_map(|d| d.iter().copied())
        .chain(c.own.iter().flatten().copied())
    {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !hi.is_finite() || hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let step = nice_step(hi - lo, 5.0);
    let (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    let (top, bottom) = (64.0, 64.0);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - top - bottom;
    let x = |i: usize| LEFT + (i as f64 + 0.5) * plot_w / n as f64;
    let y = |v: f64| top + (hi - v) / (hi - lo) * plot_h;
    let (title, what) = (xml(c.title), xml(c.label));
    let mut o = String::new();
    let last = c.own.iter().rev().flatten().next().copied();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="t d" font-family="Arial, Helvetica, sans-serif"><title id="t">{title}: {what} against national deciles</title><desc id="d">{n} months; latest {}; the dashed lines are the 10th to 90th percentiles of {of} in England, the bold one the median.</desc><rect width="{W}" height="{H}" fill="white"/>"#,
        last.map(num).unwrap_or_else(|| "none".into()),
        of = xml(c.of),
    );
    let _ = write!(
        o,
        r##"<text x="{LEFT}" y="26" font-size="17" font-weight="bold" fill="#212b32">{title}</text><text x="{LEFT}" y="46" font-size="13" fill="#425563">{what}, each month, against England's {of}</text>"##,
        of = xml(c.of),
    );
    let mut v = lo;
    while v <= hi + step / 2.0 {
        let yy = y(v);
        let _ = write!(
            o,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e8edee"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#425563">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            num(v)
        );
        v += step;
    }
    let every = ((n as f64 * 58.0 / plot_w).ceil() as usize).max(1);
    for (i, m) in c.months.iter().enumerate() {
        if (n - 1 - i) % every == 0 {
            let _ = write!(
                o,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#425563">{}</text>"##,
                x(i),
                top + plot_h + 18.0,
                xml(m)
            );
        }
    }
    // A line through the months that have a value; a missing month breaks it (and a lone
    // month between gaps is a dot).
    let line = |o: &mut String,
                values: &mut dyn Iterator<Item = Option<f64>>,
                (style, dot): (&str, &str)| {
        let mut run: Vec<(f64, f64)> = Vec::new();
        let flush = |o: &mut String, run: &mut Vec<(f64, f64)>| {
            if run.len() == 1 {
                let _ = write!(
                    o,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{dot}"/>"#,
                    run[0].0, run[0].1
                );
            } else if run.len() > 1 {
                let pts: Vec<String> = run.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
                let _ = write!(
                    o,
                    r#"<polyline points="{}" fill="none" {style}/>"#,
                    pts.join(" ")
                );
            }
            run.clear();
        };
        for (i, v) in values.enumerate() {
            match v.filter(|v| v.is_finite()) {
                Some(v) => run.push((x(i), y(v))),
                None => flush(o, &mut run),
            }
        }
        flush(o, &mut run);
    };
    for k in 0..9 {
        let style = if k == 4 {
            (
                r##"stroke="#005eb8" stroke-width="2.4" stroke-dasharray="8 4""##,
                "#005eb8",
            )
        } else {
            (
                r##"stroke="#41b6e6" stroke-width="1.2" stroke-dasharray="4 4""##,
                "#41b6e6",
            )
        };
        line(
            &mut o,
            &mut c.deciles.iter().map(|d| d.map(|d| d[k])),
            style,
        );
    }
    line(
        &mut o,
        &mut c.own.iter().copied(),
        (&format!(r#"stroke="{RED}" stroke-width="2.6""#), RED),
    );
    let ly = H - 22.0;
    let _ = write!(
        o,
        r##"<line x1="{LEFT}" x2="{:.1}" y1="{ly}" y2="{ly}" stroke="{RED}" stroke-width="2.6"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#212b32">this organisation</text><line x1="{:.1}" x2="{:.1}" y1="{ly}" y2="{ly}" stroke="#005eb8" stroke-width="2.4" stroke-dasharray="8 4"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#212b32">median of {of}</text><line x1="{:.1}" x2="{:.1}" y1="{ly}" y2="{ly}" stroke="#41b6e6" stroke-width="1.2" stroke-dasharray="4 4"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#212b32">10th to 90th percentiles</text></svg>"##,
        LEFT + 28.0,
        LEFT + 34.0,
        ly + 4.0,
        LEFT + 170.0,
        LEFT + 198.0,
        LEFT + 204.0,
        ly + 4.0,
        LEFT + 350.0,
        LEFT + 378.0,
        LEFT + 384.0,
        ly + 4.0,
        of = xml(c.of),
    );
    o
}

#[cfg(test)]
mod tests;
