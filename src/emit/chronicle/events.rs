//! Event variables: which Sentinel sources each YARA-L event variable stands for, and the
//! `events` lines that select and filter them.
//!
//! A rule without joins has one variable, `$e`, for all its sources (a `union` is an `or` of
//! each source's selection). Each join side brings its own variable (`$e1`, `$e2` ...).

use super::model::{CmpOp, Expr, FieldRef, Logic, UdmPath};
use super::names::{EventVar, Names};
use super::notes::Notes;
use super::predicate::{self, Scope};
use super::profile::{Profile, TableProfile};
use crate::diag::Code;
use crate::ir::detection::{Input, Predicate, Stage};
use crate::ir::{Detection, LogSource};

/// An event variable and the sources it stands for.
pub struct Variable {
    pub var: EventVar,
    /// Indexes into `Detection::sources`.
    pub sources: Vec<usize>,
}

/// The sources an input's rows come from.
pub fn sources_of(detection: &Detection, input: Input) -> Vec<usize> {
    let mut found = Vec::new();
    collect_sources(detection, input, detection.stages.len(), &mut found);
    found.sort_unstable();
    found.dedup();
    found
}

/// Stages refer only to earlier stages; `before` enforces it so a malformed plan cannot loop.
fn collect_sources(detection: &Detection, input: Input, before: usize, found: &mut Vec<usize>) {
    match input {
        Input::Source(i) if i < detection.sources.len() => found.push(i),
        Input::Stage(j) if j < before => match &detection.stages[j] {
            Stage::Join(join) => {
                collect_sources(detection, join.left, j, found);
                collect_sources(detection, join.right, j, found);
            }
            Stage::Aggregate(aggregate) => collect_sources(detection, aggregate.input, j, found),
            Stage::Union { inputs, .. } => inputs.iter().for_each(|i| collect_sources(detection, *i, j, found)),
            Stage::Filter { input, .. } | Stage::Extend { input, .. } => collect_sources(detection, *input, j, found),
        },
        _ => {}
    }
}

/// The event variables: one per join side not covered yet, then one for the sources left;
/// with the registry the rule's other variables are named by.
pub fn variables(detection: &Detection) -> (Names, Vec<Variable>) {
    let mut sides: Vec<Vec<usize>> = Vec::new();
    for stage in &detection.stages {
        if let Stage::Join(join) = stage {
            sides.push(sources_of(detection, join.left));
            sides.push(sources_of(detection, join.right));
        }
    }
    let all: Vec<usize> = match detection.result.map(|r| sources_of(detection, r)) {
        Some(reached) if !reached.is_empty() => reached,
        _ => (0..detection.sources.len()).collect(),
    };
    sides.push(all);
    let mut assigned: Vec<usize> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for side in sides {
        let fresh: Vec<usize> = side.into_iter().filter(|s| !assigned.contains(s)).collect();
        if !fresh.is_empty() {
            assigned.extend(&fresh);
            groups.push(fresh);
        }
    }
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let (names, vars) = Names::new(groups.len());
    (names, vars.into_iter().zip(groups).map(|(var, sources)| Variable { var, sources }).collect())
}

/// The variable holding a source, else the first one.
pub fn variable_of(vars: &[Variable], source: Option<usize>) -> &Variable {
    source.and_then(|s| vars.iter().find(|v| v.sources.contains(&s))).unwrap_or(&vars[0])
}

/// The profile entry a source's fields are mapped by: its first table, or its Sigma
/// logsource's key (else the logsource's first part, which names it in TODOs).
pub fn table_of<'a>(detection: &'a Detection, profile: &'a Profile, source: Option<usize>) -> &'a str {
    let Some(source) = source.and_then(|s| detection.sources.get(s)) else { return "" };
    match &source.logsource {
        Some(logsource) => profile.logsource_key(logsource).or(logsource_name(logsource)).unwrap_or(""),
        None => source.tables.first().map_or("", String::as_str),
    }
}

/// A logsource as written, for messages: its category, else its product or service.
fn logsource_name(logsource: &LogSource) -> Option<&str> {
    [&logsource.category, &logsource.product, &logsource.service].into_iter().flatten().next().map(String::as_str)
}

/// The `events` lines selecting and filtering one variable's sources; none when nothing
/// selects them (the rule is then refused, see `structure`).
pub fn lines(detection: &Detection, variable: &Variable, profile: &Profile, notes: &mut Notes) -> Vec<Expr> {
    let blocks: Vec<Vec<Expr>> = variable.sources.iter().map(|&s| source_block(detection, s, &variable.var, profile, notes)).collect();
    any_of(blocks)
}

/// A UDM field of the variable.
fn udm(var: &EventVar, path: &str) -> Expr {
    Expr::Field(FieldRef { var: var.clone(), path: UdmPath::Udm(path.to_string()) })
}

/// One source: its log-source selectors, then each part of its filter.
fn source_block(detection: &Detection, index: usize, var: &EventVar, profile: &Profile, notes: &mut Notes) -> Vec<Expr> {
    let source = &detection.sources[index];
    if let Some(logsource) = &source.logsource {
        return logsource_block(detection, index, logsource, var, profile, notes);
    }
    if source.tables.is_empty() {
        notes.todo(Code::UnknownSource, source.span, format!("the tables of `{}` are not known", source.name));
    }
    let mut per_table: Vec<Vec<Expr>> = Vec::new();
    for table in &source.tables {
        per_table.push(match profile.tables.get(table) {
            Some(entry) => selector_lines(entry, var),
            // A table name is no UDM product name (`Okta_CL` never matches): nothing selects
            // the table's events until someone names the product or log type they arrive as.
            None => {
                notes.todo(
                    Code::UnknownSource,
                    source.span,
                    format!("{table} has no UDM log source in the profile; set the product_name or log_type its events arrive as"),
                );
                Vec::new()
            }
        });
    }
    let mut lines = any_of(per_table);
    let scope = Scope { var, table: source.tables.first().map_or("", String::as_str), profile };
    lines.extend(conjuncts(&source.filter, &scope, notes));
    lines
}

/// A Sigma source: its logsource's selectors, then each part of its filter.
fn logsource_block(
    detection: &Detection,
    index: usize,
    logsource: &LogSource,
    var: &EventVar,
    profile: &Profile,
    notes: &mut Notes,
) -> Vec<Expr> {
    let source = &detection.sources[index];
    let mut lines = Vec::new();
    match profile.logsource_key(logsource).and_then(|key| profile.logsources.get(key)) {
        Some(entry) => lines.extend(selector_lines(entry, var)),
        None => {
            let written = serde_json::to_string(logsource).unwrap_or_default();
            notes.todo(
                Code::UnknownSource,
                source.span,
                format!("the Sigma logsource {written} has no UDM log source in the profile; select its events"),
            );
        }
    }
    let scope = Scope { var, table: table_of(detection, profile, Some(index)), profile };
    lines.extend(conjuncts(&source.filter, &scope, notes));
    lines
}

/// The lines selecting the events of a table or logsource.
fn selector_lines(entry: &TableProfile, var: &EventVar) -> Vec<Expr> {
    entry.selectors().into_iter().map(|(path, value)| Expr::compare(udm(var, path), CmpOp::Eq, Expr::String(value.to_string()))).collect()
}

/// Blocks of lines (each a conjunction) as the lines of their disjunction; none when one
/// block is empty, since it lets every event through.
fn any_of(mut blocks: Vec<Vec<Expr>>) -> Vec<Expr> {
    match blocks.len() {
        0 => Vec::new(),
        1 => blocks.pop().unwrap_or_default(),
        _ if blocks.iter().any(Vec::is_empty) => Vec::new(),
        _ => vec![Expr::Group(Logic::Or, blocks.into_iter().map(|b| Expr::Group(Logic::And, b)).collect())],
    }
}

/// A condition as lines: each part of a top-level `and` on its own line.
pub fn conjuncts(predicate: &Predicate, scope: &Scope, notes: &mut Notes) -> Vec<Expr> {
    match predicate {
        Predicate::And(parts) => parts.iter().flat_map(|p| conjuncts(p, scope, notes)).collect(),
        other => predicate::condition(other, scope, notes).into_iter().collect(),
    }
}
