//! The colors of rule counts, shared by the heatmap and the Navigator layer's gradient so both
//! pictures read alike: one rule is the light end, the pack's most covered technique the dark.

pub const LOW: &str = "#fde0c5";
pub const HIGH: &str = "#b3400a";

/// The count range the colors span: 1 to the largest count (the Navigator needs max > min).
pub fn range(max_rules: usize) -> (usize, usize) {
    (1, max_rules.max(2))
}

/// How far along the range a count is, 0 at its low end and 1 at its high end.
pub fn position(rules: usize, max_rules: usize) -> f64 {
    let (low, high) = range(max_rules);
    (rules.clamp(low, high) - low) as f64 / (high - low) as f64
}

/// The color of a count: `LOW` and `HIGH` mixed by its position.
pub fn shade(rules: usize, max_rules: usize) -> String {
    let at = position(rules, max_rules);
    let (low, high) = (rgb(LOW), rgb(HIGH));
    let mix = |i: usize| (f64::from(low[i]) + (f64::from(high[i]) - f64::from(low[i])) * at).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(0), mix(1), mix(2))
}

fn rgb(color: &str) -> [u8; 3] {
    let channel = |i: usize| u8::from_str_radix(&color[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0);
    [channel(0), channel(1), channel(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_span_low_to_high() {
        assert_eq!(shade(1, 10), LOW);
        assert_eq!(shade(10, 10), HIGH);
        assert_eq!(shade(1, 1), LOW, "a pack of single rules is all light");
        assert_eq!(range(1), (1, 2));
    }
}
