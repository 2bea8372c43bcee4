//! Rule text made safe for a markdown page: table cells that keep their columns, inline text
//! and paragraphs that cannot open a heading, list or raw HTML, and code blocks that rule text
//! cannot close.

/// Characters markdown (or the HTML it may carry) would read as syntax, escaped so they print.
fn escape_inline(text: &str, out: &mut String) {
    out.reserve(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // `_` stays: field names are full of it and GitHub does not read it inside words.
            '\\' | '|' | '`' | '*' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
}

/// One line of text: line breaks become spaces, markdown syntax is escaped.
pub fn inline(text: &str) -> String {
    let mut out = String::new();
    escape_inline(&text.split_whitespace().collect::<Vec<_>>().join(" "), &mut out);
    out
}

/// A table cell: as `inline`, so a `|` or a line break cannot split the row.
pub fn cell(text: &str) -> String {
    inline(text)
}

/// Paragraphs: lines are kept (ending in a hard break), each trimmed so that indentation does
/// not make a code block, and a line that would start a heading, quote, list or rule is escaped.
pub fn paragraphs(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let line = line.trim();
            let mut out = String::new();
            let digits = ordered_list_digits(line);
            if line.starts_with(['#', '-', '+', '=', '~']) {
                out.push('\\');
            } else if digits > 0 {
                // `1.` is a list item, `1\.` is text.
                out.push_str(&line[..digits]);
                out.push('\\');
            }
            escape_inline(&line[digits..], &mut out);
            out
        })
        .collect();
    // A blank line separates paragraphs; other lines end with a hard break (two spaces would be
    // invisible in review, so a backslash).
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        let next_is_text = lines.get(i + 1).is_some_and(|next| !next.is_empty());
        if !line.is_empty() && next_is_text {
            out.push('\\');
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
    out.trim_matches('\n').to_string()
}

/// The digits of a `1.` or `1)` that opens an ordered list at the start of a line; 0 if none.
fn ordered_list_digits(line: &str) -> usize {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(line.as_bytes().get(digits), Some(b'.' | b')')) { digits } else { 0 }
}

/// A fenced code block whose fence is longer than any run of backticks in `code`, so no text
/// of the rule can close it early.
pub fn code_block(language: &str, code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{language}\n{}\n{fence}", code.trim_end_matches(['\n', '\r']))
}

/// Text for an HTML comment: `--` could end it early, so it is spaced out.
pub fn comment(text: &str) -> String {
    let mut out = text.to_string();
    while out.contains("--") {
        out = out.replace("--", "- -");
    }
    out.replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_their_column_and_raw_html_out() {
        assert_eq!(cell("a | b\nc `d` <script>x</script>"), "a \\| b c \\`d\\` &lt;script&gt;x&lt;/script&gt;");
        assert_eq!(cell("{{ title }}"), "{{ title }}");
    }

    #[test]
    fn paragraph_lines_cannot_open_blocks() {
        assert_eq!(paragraphs("# not a heading\n    - nor a list\n\n1. nor this"), "\\# not a heading\\\n\\- nor a list\n\n1\\. nor this");
    }

    #[test]
    fn code_blocks_outlast_the_backticks_inside() {
        assert_eq!(code_block("kql", "T | where A == \"```\"\n"), "````kql\nT | where A == \"```\"\n````");
        assert_eq!(code_block("kql", "T"), "```kql\nT\n```");
    }

    #[test]
    fn comments_cannot_be_closed_by_the_text() {
        assert_eq!(comment("a --> b --- c"), "a - -&gt; b - - - c");
    }
}
