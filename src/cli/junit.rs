//! `--junit FILE`: the batch as JUnit XML, so CI systems list each rule's result natively.
//!
//! One `<testsuite>` per target (`convert`) or for the whole check, one `<testcase>` per rule:
//! a failed rule has a `<failure>`, the problems of a passing one are its `<system-out>`.

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
    pub failure: Option<(String, String)>,
    /// The problems of a rule that passed, one per line (empty for none).
    pub output: String,
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
        if let Some((message, details)) = &case.failure {
            writer
                .create_element("failure")
                .with_attributes([("message", xml_text(message).as_str()), ("type", "error")])
                .write_text_content(BytesText::new(&xml_text(details)))?;
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
