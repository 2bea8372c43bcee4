//! `--junit FILE`: the batch as JUnit XML, so CI systems list each rule's result natively.
//!
//! One `<testsuite>` per target (`convert`) or for the whole check, one `<testcase>` per rule:
//! a failed rule has a `<failure>`, the problems of a passing one are its `<system-out>`.

use crate::diag::Problem;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::io;

/// One rule's result in one suite.
pub struct Case {
    /// The rule: its title, else its place in the file.
    pub name: String,
    /// The rule's file: CI systems group cases by it.
    pub classname: String,
    /// Why the rule failed (the first error) and every problem, one per line.
    pub failure: Option<Failure>,
    /// The problems of a rule that passed, one per line (empty for none).
    pub output: String,
}

/// A failed rule: its first error's message and code (the failure's `type`), and every
/// problem as `problem_lines` writes them.
pub struct Failure {
    pub message: String,
    pub code: &'static str,
    pub details: String,
}

impl Failure {
    /// The failure of a rule with these problems: its first error says why ("not converted"
    /// when it has none).
    pub fn of(problems: &[&Problem]) -> Failure {
        let first = problems.iter().find(|p| p.is_error());
        Failure {
            message: first.map_or_else(|| "not converted".to_string(), |p| p.message.clone()),
            code: first.map_or("error", |p| p.code.name()),
            details: problem_lines(problems.iter().copied()),
        }
    }
}

/// Problems one per line, each as printed on stderr and then its code: `... message [code]`.
pub fn problem_lines<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> String {
    problems.into_iter().map(|p| format!("{p} [{}]\n", p.code)).collect()
}

pub struct Suite {
    pub name: String,
    pub cases: Vec<Case>,
}

/// The JUnit document: `<testsuites>` with counts that add up over its suites.
pub fn document(suites: &[Suite]) -> io::Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(failures).sum();
    writer
        .create_element("testsuites")
        .with_attributes([("name", "ruleconv"), ("tests", &tests.to_string()), ("failures", &failures.to_string()), ("errors", "0")])
        .write_inner_content(|writer| suites.iter().try_for_each(|suite| write_suite(writer, suite)))?;
    let mut xml = String::from_utf8(writer.into_inner()).map_err(io::Error::other)?;
    xml.push('\n');
    Ok(xml)
}

fn failures(suite: &Suite) -> usize {
    suite.cases.iter().filter(|c| c.failure.is_some()).count()
}

fn write_suite(writer: &mut Writer<Vec<u8>>, suite: &Suite) -> io::Result<()> {
    let counts = [
        ("name", xml_text(&suite.name)),
        ("tests", suite.cases.len().to_string()),
        ("failures", failures(suite).to_string()),
        ("errors", "0".into()),
        ("skipped", "0".into()),
    ];
    writer
        .create_element("testsuite")
        .with_attributes(counts.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|writer| suite.cases.iter().try_for_each(|case| write_case(writer, case)))?;
    Ok(())
}

fn write_case(writer: &mut Writer<Vec<u8>>, case: &Case) -> io::Result<()> {
    let element = writer
        .create_element("testcase")
        .with_attributes([("name", xml_text(&case.name).as_str()), ("classname", &xml_text(&case.classname))]);
    if case.failure.is_none() && case.output.is_empty() {
        element.write_empty()?;
        return Ok(());
    }
    element.write_inner_content(|writer| {
        if let Some(failure) = &case.failure {
            writer
                .create_element("failure")
                .with_attributes([("message", xml_text(&failure.message).as_str()), ("type", failure.code)])
                .write_text_content(BytesText::new(&xml_text(&failure.details)))?;
        }
        if !case.output.is_empty() {
            writer.create_element("system-out").write_text_content(BytesText::new(&xml_text(&case.output)))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `text` without the control characters XML 1.0 cannot hold even escaped (a rule's query may
/// carry them); quick-xml escapes the rest.
fn xml_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect()
}

/// A case's name: the rule's title and its index in its file (two rules of a file may share a
/// title), or `(file)` for a problem with the whole file.
pub fn case_name(title: Option<&str>, rule_index: Option<usize>) -> String {
    match (title.filter(|t| !t.is_empty()), rule_index) {
        (Some(title), Some(index)) => format!("{title} [rule {index}]"),
        (None, Some(index)) => format!("rule {index}"),
        (Some(title), None) => title.to_string(),
        (None, None) => "(file)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Position};

    #[test]
    fn a_failure_is_typed_by_its_first_errors_code_and_each_line_ends_in_its_code() {
        let warning = Problem::warning(Code::DuplicateId, "r.yaml", Position::new(1, 1), "shared id");
        let error = Problem::error(Code::KqlSyntax, "r.yaml", Position::new(5, 3), "KQL: bad");
        let failure = Failure::of(&[&warning, &error]);
        assert_eq!((failure.message.as_str(), failure.code), ("KQL: bad", "kql-syntax"));
        assert_eq!(failure.details, "r.yaml:1:1: warning: shared id [duplicate-id]\nr.yaml:5:3: error: KQL: bad [kql-syntax]\n");
        let case = Case { name: "R".into(), classname: "r.yaml".into(), failure: Some(failure), output: String::new() };
        let xml = document(&[Suite { name: "check".into(), cases: vec![case] }]).unwrap();
        assert!(xml.contains(r#"<failure message="KQL: bad" type="kql-syntax">"#), "{xml}");
        assert_eq!(Failure::of(&[&warning]).code, "error", "a rule that failed without an error");
    }
}
