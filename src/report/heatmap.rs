//! Coverage as an SVG heatmap: a column per Enterprise tactic in kill-chain order, a cell per
//! technique covered under it, colored by its rule count (`palette`), most covered on top.
//! Labels are cut to fit their cell; each cell's `<title>` (the tooltip) holds the full name,
//! the count and the sub-techniques. All rule-derived text is XML-escaped.

use super::palette;
use super::rules_words;
use super::{Coverage, TechniqueCoverage};
use std::fmt::Write;

const MARGIN: usize = 10;
const COLUMN: usize = 160;
const GAP: usize = 4;
const HEADER: usize = 40;
const CELL: usize = 26;
/// Horizontal room of an average character at 11px (bold a little more), in pixels.
const CHAR_WIDTH: f64 = 6.6;
const BOLD_CHAR_WIDTH: f64 = 7.4;
/// Padding on each side of a cell's text.
const PAD: usize = 5;

pub fn svg(coverage: &Coverage) -> String {
    let max_rules = coverage.max_rules();
    let rows = coverage.tactics.iter().map(|t| t.techniques.len()).max().unwrap_or(0);
    let width = 2 * MARGIN + coverage.tactics.len() * (COLUMN + GAP) - GAP;
    let height = 2 * MARGIN + HEADER + rows.max(1) * (CELL + GAP);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##);
    for (column, tactic) in coverage.tactics.iter().enumerate() {
        let x = MARGIN + column * (COLUMN + GAP);
        let summary = if tactic.rules == 0 { "no rules".to_string() } else { rules_words(tactic.rules) };
        let _ = writeln!(
            out,
            r##"<g class="tactic"><title>{} ({}): {summary}</title><rect x="{x}" y="{MARGIN}" width="{COLUMN}" height="{}" fill="#e8e8e8"/><text x="{}" y="{}" font-weight="bold">{}</text><text x="{}" y="{}" fill="#555555">{summary}</text></g>"##,
            escape(tactic.name),
            tactic.id,
            HEADER - GAP,
            x + PAD,
            MARGIN + 15,
            escape(&fit(tactic.name, chars_in((COLUMN - 2 * PAD) as f64, BOLD_CHAR_WIDTH))),
            x + PAD,
            MARGIN + 30,
        );
        for (row, technique) in tactic.techniques.iter().enumerate() {
            cell(&mut out, technique, x, MARGIN + HEADER + row * (CELL + GAP), max_rules);
        }
    }
    out.push_str("</svg>\n");
    out
}

fn cell(out: &mut String, technique: &TechniqueCoverage, x: usize, y: usize, max_rules: usize) {
    let label = format!("{} {}", technique.id, technique.name);
    let mut tooltip = format!("{label}: {}", rules_words(technique.rules));
    for sub in &technique.sub_techniques {
        let _ = write!(tooltip, "\n{} {}: {}", sub.id, sub.name, rules_words(sub.rules));
    }
    // Dark text on the light half of the scale, white on the dark half.
    let ink = if palette::position(technique.rules, max_rules) > 0.5 { "#ffffff" } else { "#1a1a1a" };
    let _ = writeln!(
        out,
        r#"<g><title>{}</title><rect class="cell" x="{x}" y="{y}" width="{COLUMN}" height="{CELL}" rx="2" fill="{}"/><text x="{}" y="{}" fill="{ink}">{}</text><text x="{}" y="{}" fill="{ink}" text-anchor="end" font-weight="bold">{}</text></g>"#,
        escape(&tooltip),
        palette::shade(technique.rules, max_rules),
        x + PAD,
        y + 17,
        escape(&fit(&label, label_chars(technique.rules))),
        x + COLUMN - PAD,
        y + 17,
        technique.rules,
    );
}

/// How many characters of a technique's label fit beside its count.
fn label_chars(rules: usize) -> usize {
    let count = rules.to_string().len() as f64 * BOLD_CHAR_WIDTH;
    chars_in((COLUMN - 3 * PAD) as f64 - count, CHAR_WIDTH)
}

/// How many characters of this width fit in so many pixels.
fn chars_in(pixels: f64, char_width: f64) -> usize {
    (pixels / char_width).floor() as usize
}

/// The text cut to `chars` characters, an ellipsis marking the cut.
fn fit(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars { text.to_string() } else { format!("{}…", text.chars().take(chars - 1).collect::<String>()) }
}

/// Text safe in XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_cut() {
        assert_eq!(escape(r#"a<b & "c">'"#), "a&lt;b &amp; &quot;c&quot;&gt;&apos;");
        assert_eq!(fit("T1078 Valid Accounts and more", 10), "T1078 Val…");
        assert_eq!(fit("short", 10), "short");
    }
}
