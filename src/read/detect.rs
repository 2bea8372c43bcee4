//! Format detection: by the keys of the parsed document, not by lines of text.
//!
//! YAML spells one key many ways (`{title: …}`, `"title":`, `'title':`, `? title`, a fully
//! indented document, `detection :`); all of them parse to the same key, so a rule is read the
//! same however it is written, as pySigma reads it. Only text that does not parse is judged by
//! its lines, so that the reader of its likely format names the syntax error.

use super::documents::Documents;
use super::{catalog, front_matter, page, sigma};
use crate::ir::SourceFormat;
use crate::yaml::{Node, Value};
use std::path::Path;

/// Why no format was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undetected {
    /// YAML or JSON data, but without the keys of any rule format.
    NoRuleKeys,
    /// Not data, and no markdown or page form either.
    Unknown,
}

/// The keys a Sigma rule file has (pySigma: `detection` and `logsource` for a rule; `title`
/// with `correlation` or `filter` for the other kinds).
fn is_sigma(keys: &[&str]) -> bool {
    let has = |key: &str| keys.contains(&key);
    (has("detection") && has("logsource")) || (has("correlation") || has("filter")) && has("title")
}

/// The keys that name a Sentinel rule (the reader then says which of them are missing).
const SENTINEL_KEYS: [&str; 4] = ["name", "query", "id", "displayName"];

/// An ARM template (a `resources` list), a bare resource (`type` and `properties`) or a list of
/// resources: what the ARM reader takes.
fn is_arm(root: &Node) -> bool {
    match &root.value {
        Value::Map(_) => {
            matches!(root.get("resources").map(|r| &r.value), Some(Value::Seq(_)))
                || root.get("type").is_some() && root.get("properties").is_some()
        }
        Value::Seq(_) => true,
        _ => false,
    }
}

/// The format of `text`: by the keys of its documents when it parses as YAML (JSON included),
/// by its markdown form otherwise; the file name only breaks ties the content leaves open (a
/// `.md` file is never read as Sigma or Sentinel YAML).
pub fn classify(text: &str, file: &Path) -> Result<SourceFormat, Undetected> {
    classify_documents(&Documents::new(text.strip_prefix('\u{feff}').unwrap_or(text)), file)
}

/// As `classify`, on the file's documents (text without its byte order mark), so that the
/// reader takes the parse made here.
pub fn classify_documents(parsed: &Documents, file: &Path) -> Result<SourceFormat, Undetected> {
    let text = parsed.text();
    let markdown = has_extension(file, &["md", "markdown"]);
    let body = text.trim_start();
    let json = body.starts_with('{') || body.starts_with('[');
    let documents = if markdown { None } else { parsed.get().as_ref().ok() };
    let keys: Vec<&str> = documents.into_iter().flatten().filter_map(Node::entries).flatten().map(|e| e.key.as_str()).collect();
    match &documents {
        Some(_) if is_sigma(&keys) => return Ok(SourceFormat::Sigma),
        Some(documents) if json => {
            return if documents.first().is_some_and(is_arm) {
                Ok(SourceFormat::Arm)
            } else if keys.iter().any(|k| SENTINEL_KEYS.contains(k)) {
                Ok(SourceFormat::SentinelYaml)
            } else {
                Err(Undetected::NoRuleKeys)
            };
        }
        // JSON that does not parse: the ARM or Sentinel reader names the syntax error.
        None if json && !markdown => {
            let arm = ["\"resources\"", "\"properties\"", "deploymentTemplate.json"].iter().any(|m| body.contains(m));
            return Ok(if arm { SourceFormat::Arm } else { SourceFormat::SentinelYaml });
        }
        None if !markdown && sigma::looks_like_sigma(text) => return Ok(SourceFormat::Sigma),
        _ => {}
    }
    if let Some(front) = front_matter::split(text) {
        let fenced = front.yaml.contains("```");
        if markdown || fenced || !front.body.trim().is_empty() && !looks_like_yaml(front.body) {
            return Ok(SourceFormat::MarkdownFrontMatter);
        }
    }
    if catalog::looks_like_catalog(text) {
        return Ok(SourceFormat::MarkdownCatalog);
    }
    if page::looks_like_page(text) {
        return Ok(SourceFormat::Page);
    }
    if markdown {
        return Err(Undetected::Unknown);
    }
    match documents {
        Some(_) if keys.iter().any(|k| SENTINEL_KEYS.contains(k)) => Ok(SourceFormat::SentinelYaml),
        Some(documents) if documents.iter().any(|d| matches!(d.value, Value::Map(_) | Value::Seq(_))) => Err(Undetected::NoRuleKeys),
        Some(_) => Err(Undetected::Unknown),
        // YAML that does not parse: the Sentinel reader names the syntax error.
        None => {
            let sentinel_line = text.lines().any(|l| SENTINEL_KEYS.iter().any(|k| l.strip_prefix(k).is_some_and(|r| r.starts_with(':'))));
            if sentinel_line || has_extension(file, &["yaml", "yml"]) { Ok(SourceFormat::SentinelYaml) } else { Err(Undetected::Unknown) }
        }
    }
}

fn has_extension(file: &Path, extensions: &[&str]) -> bool {
    file.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Whether text after a `---` block reads as more YAML (a second document) rather than prose.
fn looks_like_yaml(text: &str) -> bool {
    text.lines().map(str::trim_end).find(|l| !l.trim().is_empty() && !l.starts_with('#')).is_some_and(|l| {
        let l = l.trim_start();
        l.starts_with("- ") || l.split_once(':').is_some_and(|(key, _)| !key.is_empty() && !key.contains(' '))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str, file: &str) -> Option<SourceFormat> {
        classify(text, Path::new(file)).ok()
    }

    #[test]
    fn detects_by_content() {
        assert_eq!(detect("id: 1\nname: a\nquery: T\n", "x"), Some(SourceFormat::SentinelYaml));
        assert_eq!(detect("\u{feff}name: a\r\nquery: T\r\n", "x"), Some(SourceFormat::SentinelYaml));
        assert_eq!(detect("---\nname: a\nquery: T\n---\nname: b\nquery: U\n", "x.yaml"), Some(SourceFormat::SentinelYaml));
        assert_eq!(detect("---\nname: a\nquery: \"```kql\\nT\\n```\"\n---\n", "x"), Some(SourceFormat::MarkdownFrontMatter));
        assert_eq!(detect("---\nname: a\nquery: T\n---\n\n# Notes\n\nSome prose.\n", "x"), Some(SourceFormat::MarkdownFrontMatter));
        assert_eq!(detect("---\nname: a\nquery: T\n---\n", "x.md"), Some(SourceFormat::MarkdownFrontMatter));
        assert_eq!(
            detect("# Rules\n\n## A\n\n|Name | Value |\n| --- | --- |\n|DetectionId | x |\n\n```kql\nT\n```\n", "x"),
            Some(SourceFormat::MarkdownCatalog)
        );
        assert_eq!(detect("{\"resources\": []}", "x"), Some(SourceFormat::Arm));
        assert_eq!(detect("{\"name\": \"a\", \"query\": \"T\"}", "x"), Some(SourceFormat::SentinelYaml));
        assert_eq!(detect("title: T\nlogsource:\n  product: windows\ndetection:\n  condition: x\n", "x.yaml"), Some(SourceFormat::Sigma));
        assert_eq!(detect("name: a\nquery: T\ndetection_note: x\nlogsource_note: y\n", "x.yaml"), Some(SourceFormat::SentinelYaml));
        assert_eq!(detect("# Just a readme\n", "x.md"), None);
        assert_eq!(detect("hello world", "x"), None);
    }

    /// Issue 19 item 6: every YAML spelling of Sigma's keys is Sigma (pySigma reads them all).
    #[test]
    fn sigma_is_detected_however_its_keys_are_written() {
        let spellings = [
            "{title: T, logsource: {product: windows}, detection: {sel: {a: 1}, condition: sel}}\n",
            "\"title\": T\n\"logsource\":\n  product: windows\n\"detection\":\n  sel:\n    a: 1\n  condition: sel\n",
            "'title': T\n'logsource':\n  product: windows\n'detection':\n  sel:\n    a: 1\n  condition: sel\n",
            "  title: T\n  logsource:\n    product: windows\n  detection:\n    sel:\n      a: 1\n    condition: sel\n",
            "title: T\nlogsource :\n  product: windows\ndetection :\n  sel:\n    a: 1\n  condition: sel\n",
            "title: T\n? logsource\n: product: windows\n? detection\n: sel:\n    a: 1\n  condition: sel\n",
        ];
        for text in spellings {
            assert_eq!(detect(text, "rule.yml"), Some(SourceFormat::Sigma), "{text}");
        }
    }

    /// Issue 19 item 6: a JSON Sentinel rule is read as one even when its text says `"resources"`.
    #[test]
    fn json_is_arm_by_its_keys_not_its_words() {
        let rule = "{\"name\": \"a\", \"description\": \"new \\\"resources\\\" and \\\"properties\\\"\", \"query\": \"T\"}";
        assert_eq!(detect(rule, "rule.json"), Some(SourceFormat::SentinelYaml));
        assert_eq!(detect("{\"type\": \"t\", \"properties\": {}}", "x.json"), Some(SourceFormat::Arm));
        assert_eq!(classify("{\"compilerOptions\": {\"strict\": true}}", Path::new("tsconfig.json")), Err(Undetected::NoRuleKeys));
        assert_eq!(classify("foo: 1\nbar: [1, 2]\n", Path::new("settings.yaml")), Err(Undetected::NoRuleKeys));
    }
}
