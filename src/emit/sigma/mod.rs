//! `--to sigma`: Sigma rules (v2 specification), one per event source and table, plus
//! correlation rules for thresholds and joins, as `---`-separated documents.
//!
//! Each document starts with the fidelity header as `#` comments. Logsources and field names
//! of Sentinel tables come from `targets/sigma.yaml`; a Sigma rule keeps its logsource and
//! field names as written, so `--to sigma` on Sigma input normalizes it (same meaning, one
//! layout). Predicates become selections named by their fields (`selection_image`), the negated
//! ones filters (`filter_user`); what Sigma cannot say is a loss, never silently dropped.

mod correlation;
mod forms;
mod keywords;
mod metadata;
mod names;
mod profile;
mod selection;
mod values;

pub(super) use profile::is_addon_field;

use super::{
    EmitOptions, Emitted, Emitter, Evidence, Subject, broader, computed_column_losses, header_lines, join_documents, loss_at,
    unmodelled_losses, unplaced_page_notes,
};
use crate::diag::{Code, Kind, Problem};
use crate::ir::Rule;
use crate::ir::detection::{Detection, EventSource, Input, OutputOrigin, Predicate, Span, Stage};
use crate::yaml;
use serde_json::{Map, Value as Json, json};

pub struct Sigma;

impl Emitter for Sigma {
    fn name(&self) -> &'static str {
        "sigma"
    }

    fn extension(&self) -> &'static str {
        "yml"
    }

    fn about(&self) -> &'static str {
        "Sigma rules, one per event source, with correlation rules for thresholds and joins"
    }

    fn reads_sigma(&self) -> bool {
        true
    }

    /// SigmaHQ's CI (pySigma's `FilenameLengthValidator`, which `sigma check` runs) wants rule
    /// file names of 10 to 90 characters.
    fn file_name_length(&self) -> Option<(usize, usize)> {
        Some((10, 90))
    }

    fn emit(&self, subjects: &[Subject], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
        join_documents(subjects, "---\n", |subject| rule_documents(subject, options))
    }
}

/// One base rule: an event source read from one table (or one Sigma logsource).
struct Base {
    source: usize,
    table: String,
    /// The profile entry its field names come from (see `profile::scopes`).
    scope: String,
    logsource: Json,
    detection: Json,
}

/// The events one base rule reads, and the part of the source's filter it tests.
struct Scoped {
    table: String,
    scope: String,
    logsource: Json,
    /// A logsource of our own naming the table, as SigmaHQ has none for it.
    custom: bool,
    filter: Predicate,
}

/// A Sigma source keeps its logsource, and its field names as written (`profile::AS_WRITTEN`);
/// each table of a Sentinel source takes the profile's scopes.
fn scoped(source: &EventSource, filter: &Predicate) -> Vec<Scoped> {
    if let Some(logsource) = &source.logsource {
        let logsource = serde_json::to_value(logsource).unwrap_or_default();
        let scope = profile::AS_WRITTEN.to_string();
        return vec![Scoped { table: source.name.clone(), scope, logsource, custom: false, filter: filter.clone() }];
    }
    let scopes = source.tables.iter().flat_map(|t| profile::scopes(t, filter).into_iter().map(move |s| (t, s)));
    scopes
        .map(|(table, (scope, filter))| {
            let (logsource, known) = profile::logsource(&scope);
            Scoped { table: table.clone(), logsource, custom: !known, scope, filter }
        })
        .collect()
}

fn rule_documents(subject: &Subject, options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
    let rule = subject.rule;
    let mut problems = unmodelled_losses(&Subject { detection: &without_carried(subject), ..*subject });
    problems.extend(computed_column_losses(subject));
    let mut bases = Vec::new();
    for (index, source) in subject.detection.sources.iter().enumerate() {
        // Sigma tests event fields; a test of a computed column is dropped (and reported above).
        let filter = subject.detection.on_event_fields(&source.filter);
        for Scoped { table, scope, logsource, custom, filter } in scoped(source, &filter) {
            if custom {
                let message = format!(
                    "SigmaHQ has no logsource for `{table}`: the rule reads `product: sentinel`, `service: {table}`, which a Sigma backend knows only through a pipeline of its own"
                );
                problems.push(change_at(subject, Code::CustomLogsource, source.span, message));
            }
            let translated = selection::translate(&filter, &scope, &|span| keywords::list_at(subject.detection, span));
            problems.extend(translated.losses.into_iter().map(|(span, code, message)| loss_at(subject, code, span, message)));
            problems.extend(translated.changes.into_iter().map(|(span, code, message)| change_at(subject, code, span, message)));
            let undirected = profile::direction_losses(&scope, &filter);
            problems.extend(undirected.into_iter().map(|(span, message)| loss_at(subject, Code::Reshaped, span, message)));
            match translated.detection {
                Some(detection) => bases.push(Base { source: index, table, scope, logsource, detection }),
                None => problems.push(loss_at(
                    subject,
                    Code::NoDetection,
                    source.span,
                    format!("events of `{table}` ({}) have no condition Sigma can test; no Sigma rule reads them", source.name),
                )),
            }
        }
    }
    if bases.is_empty() {
        let unfiltered = subject.detection.sources.iter().all(|s| s.filter.is_always());
        let reason = if unfiltered {
            "no event source is filtered by a condition on its fields (the query detects through computed values, joins or \
             aggregates alone), so there is no Sigma detection to write"
        } else {
            "no event source has a condition Sigma can express, so there is no Sigma detection to write"
        };
        problems.push(Problem::about(Kind::Error, Code::NoDetection, rule, rule.origin.position, reason));
        return Err(problems.into_iter().filter(Problem::is_error).collect());
    }
    problems.extend(trigger_loss(rule));
    let (entity_renames, entity_problems) = entity_columns(subject);
    problems.extend(entity_problems);
    problems.extend(dynamic_path_losses(subject));
    problems.extend(zero_or_one_losses(subject));
    // A Sigma rule's own tags are judged by `retag_problems`.
    let (tactics, techniques) = if rule.sigma.is_none() { metadata::untagged(rule) } else { Default::default() };
    problems.extend(tactics.into_iter().map(|t| {
        let message =
            format!("tactic `{t}` is not an ATT&CK Enterprise tactic, so it has no Sigma tag; only the `sentinel` attribute keeps it");
        Problem::at_key(Kind::Loss, Code::Untagged, rule, "tactics", message)
    }));
    problems.extend(techniques.into_iter().map(|t| {
        let message = format!("technique `{t}` is not in ATT&CK Enterprise, which Sigma's tools check tags against; it is not tagged");
        Problem::at_key(Kind::Loss, Code::Untagged, rule, "relevantTechniques", message)
    }));
    problems.extend(metadata::retag_problems(rule));
    problems.extend(metadata::id_problem(rule));
    // The page's facts are among the section's keys, so the `sentinel` attribute carries them.
    problems.extend(unplaced_page_notes(rule, "Sigma", "only the `sentinel` attribute keeps it"));

    // A table split by its events (`table/value` scopes) gives one id per scope.
    let key = |b: &Base| if b.scope == profile::AS_WRITTEN { b.table.clone() } else { b.scope.clone() };
    let ids: Vec<String> = bases.iter().map(|b| metadata::derived_id(rule, &format!("{}/{}", b.source, key(b)))).collect();
    let mut source_ids = vec![Vec::new(); subject.detection.sources.len()];
    let mut source_tables = vec![String::new(); subject.detection.sources.len()];
    for (base, id) in bases.iter().zip(&ids) {
        source_ids[base.source].push(id.clone());
        if source_tables[base.source].is_empty() {
            source_tables[base.source] = base.scope.clone();
        }
    }
    let computed: Vec<Vec<String>> =
        subject.detection.sources.iter().map(|s| s.computed.iter().map(|c| c.name.clone()).collect()).collect();
    let (correlations, losses) = correlation::translate(
        rule,
        subject.detection,
        &correlation::Bases { ids: &source_ids, tables: &source_tables, computed: &computed },
    );
    problems.extend(losses.into_iter().map(|(span, code, message)| loss_at(subject, code, span, message)));
    let OutputFields { fields, computed, unlisted } = output_fields(subject, &source_tables);
    if let Some((_, span)) = computed.first() {
        let names: Vec<&str> = computed.iter().map(|(name, _)| name.as_str()).collect();
        let message = format!("computed output columns are not carried (Sigma `fields` lists event fields): {}", names.join(", "));
        problems.push(loss_at(subject, Code::ComputedColumn, *span, message));
    }
    for (logsource, (names, span)) in unlisted {
        let message =
            format!("output columns SigmaHQ lists no field for under the logsource {logsource} are not carried: {}", names.join(", "));
        problems.push(loss_at(subject, Code::UnknownField, span, message));
    }
    broader::judge(subject, &mut problems, options.allow_broader)?;

    // The last document (the correlation that alerts, else the only rule) keeps the rule's id.
    let main = correlations.len() + bases.len() - 1;
    let id_of = |index: usize, derived: &str| if index == main { metadata::rule_id(rule) } else { derived.to_string() };
    let mut documents = Vec::new();
    for (index, (base, derived)) in bases.iter().zip(&ids).enumerate() {
        let source = &subject.detection.sources[base.source];
        // A Sigma source is named by its rule, which reads no table.
        let label = if source.logsource.is_some() { source.name.clone() } else { format!("{} ({})", source.name, base.table) };
        let title = if index == main { rule.title.clone() } else { format!("{}: {label} #{}", rule.title, index + 1) };
        let body = [("logsource", base.logsource.clone()), ("detection", base.detection.clone())];
        documents.push(document(rule, &title, &id_of(index, derived), &body, &fields, &entity_renames));
    }
    for (offset, block) in correlations.into_iter().enumerate() {
        let index = bases.len() + offset;
        let derived = metadata::derived_id(rule, &format!("correlation/{offset}"));
        let title = if index == main { rule.title.clone() } else { format!("{}: correlation {}", rule.title, offset + 1) };
        documents.push(document(rule, &title, &id_of(index, &derived), &[("correlation", block)], &[], &entity_renames));
    }
    // Messages may quote multi-line query text; every line stays a comment.
    // Fields checked against SigmaHQ's field list of every base's logsource (`values::items`);
    // a custom logsource, or a Sigma rule's own, has none to check against.
    let checked = bases.iter().all(|base| profile::listed_fields(&base.scope).is_some());
    let evidence = if checked { Evidence::SchemaChecked } else { Evidence::Unverified };
    let header: String =
        header_lines(subject, &problems, evidence).iter().flat_map(|line| line.lines()).map(|line| format!("# {line}\n")).collect();
    let text = documents.iter().map(|d| format!("{header}{}", yaml::to_yaml_string(d))).collect::<Vec<_>>().join("---\n");
    Ok(Emitted { text, problems, evidence })
}

/// The Detection without the unmodelled constructs the Sigma written carries: keyword lists.
fn without_carried(subject: &Subject) -> Detection {
    let mut detection = subject.detection.clone();
    detection.unmodelled.retain(|u| !(u.construct == "keywords" && keywords::list_at(subject.detection, u.span).is_some()));
    detection
}

fn change_at(subject: &Subject, code: Code, span: Span, message: String) -> Problem {
    Problem::in_logic(Kind::Change, code, subject.rule, span.start, message)
}

/// A Sigma document: metadata in the specification's order around the given body keys.
fn document(rule: &Rule, title: &str, id: &str, body: &[(&str, Json)], fields: &[String], entity_renames: &[(String, String)]) -> Json {
    let mut doc = Map::new();
    doc.insert("title".into(), json!(title));
    doc.insert("id".into(), json!(id));
    if let Some(related) = metadata::related(rule, id) {
        doc.insert("related".into(), related);
    }
    if let Some(name) = rule.sigma.as_ref().and_then(|s| s.name.as_ref()).filter(|_| id == metadata::rule_id(rule)) {
        doc.insert("name".into(), json!(name));
    }
    doc.insert("status".into(), json!(metadata::status(rule)));
    if let Some(description) = rule.description.as_deref().map(|d| metadata::description(rule, d)).filter(|d| !d.is_empty()) {
        doc.insert("description".into(), json!(description));
    }
    let list = |items: &[crate::ir::Lifted<String>]| items.iter().map(|i| i.value.clone()).collect::<Vec<_>>();
    if !rule.references.is_empty() {
        doc.insert("references".into(), json!(list(&rule.references)));
    }
    if !rule.authors.is_empty() {
        doc.insert("author".into(), json!(list(&rule.authors).join(", ")));
    }
    let created = rule.created.as_ref().and_then(|d| metadata::date(&d.value));
    let modified = rule.modified.as_ref().and_then(|d| metadata::date(&d.value));
    for (key, value) in [("date", created), ("modified", modified)] {
        if let Some(value) = value {
            doc.insert(key.into(), json!(value));
        }
    }
    let tags = metadata::tags(rule);
    if !tags.is_empty() {
        doc.insert("tags".into(), json!(tags));
    }
    for (key, value) in body {
        doc.insert((*key).into(), value.clone());
    }
    if !fields.is_empty() {
        doc.insert("fields".into(), json!(fields));
    }
    if !rule.false_positives.is_empty() {
        doc.insert("falsepositives".into(), json!(list(&rule.false_positives)));
    }
    if let Some(severity) = rule.severity {
        doc.insert("level".into(), json!(metadata::level(severity)));
    }
    // The document keeping the rule's id stands for the rule, so it carries the settings.
    if let Some(mut settings) = metadata::sentinel_attribute(rule).filter(|_| id == metadata::rule_id(rule)) {
        rename_entity_columns(&mut settings, entity_renames);
        doc.insert(crate::sentinel::SIGMA_ATTRIBUTE.into(), settings);
    }
    Json::Object(doc)
}

/// The output columns of a rule in Sigma: event fields by their Sigma names, the computed ones
/// with where the query makes them, and the fields SigmaHQ does not list for their source's
/// logsource (by logsource, with the first one's place), which are not written; nor is the
/// event's time under a logsource SigmaHQ lists fields for.
struct OutputFields {
    fields: Vec<String>,
    computed: Vec<(String, Span)>,
    unlisted: Vec<(String, (Vec<String>, Span))>,
}

fn output_fields(subject: &Subject, source_tables: &[String]) -> OutputFields {
    let mut out = OutputFields { fields: Vec::new(), computed: Vec::new(), unlisted: Vec::new() };
    for output in &subject.detection.outputs.fields {
        match &output.origin {
            // A field of an aggregated or joined row may be a renamed result, not an event field.
            OutputOrigin::Field(field) => {
                let Input::Source(source) = output.made_by else { continue };
                let scope = source_tables.get(source).map(String::as_str).unwrap_or("");
                let name = profile::field_name(scope, field);
                match profile::listed_fields(scope) {
                    // Sigma tools show an event's time with every match.
                    Some(_) if values::is_event_time(&field.name) => {}
                    Some((listed, logsource)) if !listed.contains(&name) => match out.unlisted.iter_mut().find(|(l, _)| *l == logsource) {
                        Some((_, (names, _))) if names.contains(&name) => {}
                        Some((_, (names, _))) => names.push(name),
                        None => out.unlisted.push((logsource, (vec![name], output.span))),
                    },
                    _ if out.fields.contains(&name) => {}
                    _ => out.fields.push(name),
                }
            }
            OutputOrigin::Computed(_) => out.computed.push((format!("`{}`", output.name), output.span)),
            OutputOrigin::GroupKey | OutputOrigin::Aggregation(_) => {}
        }
    }
    out
}

/// What the query does to a column an entity mapping reads: nothing (an event field), a
/// rename of an event field, or an expression.
enum EntityColumn<'a> {
    EventField,
    Renamed(&'a str),
    Computed,
}

fn entity_column<'a>(detection: &'a Detection, column: &str) -> EntityColumn<'a> {
    let field = |f: &'a crate::ir::detection::Field| match f.name == column {
        true => EntityColumn::EventField,
        false if f.path.is_empty() => EntityColumn::Renamed(&f.name),
        false => EntityColumn::Computed,
    };
    match detection.outputs.fields.iter().find(|o| o.name == column).map(|o| (&o.origin, o.made_by)) {
        None => EntityColumn::EventField,
        Some((OutputOrigin::Field(f), Input::Source(_))) => field(f),
        // A group key of a plain field stays that field's column in the correlation's query.
        Some((OutputOrigin::GroupKey, Input::Stage(i))) => match detection.stages.get(i) {
            Some(Stage::Aggregate(a)) => match a.group_by.iter().find(|k| k.name == column) {
                Some(key) if key.bin.is_none() => field(&key.field),
                _ => EntityColumn::Computed,
            },
            _ => EntityColumn::Computed,
        },
        Some(_) => EntityColumn::Computed,
    }
}

/// The `sentinel` attribute keeps the rule's entity mappings, but a query rebuilt from the Sigma
/// detection makes no columns: a mapping of a column the query renames from an event field
/// maps that field instead (a change), and one of a computed column is a loss.
fn entity_columns(subject: &Subject) -> (Vec<(String, String)>, Vec<Problem>) {
    let rule = subject.rule;
    let mappings = rule.sentinel.iter().flat_map(|s| s.entity_mappings.iter().flatten());
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for (entity, column) in mappings.flat_map(|m| m.field_mappings.iter().map(move |f| (&m.entity_type, &f.column_name))) {
        match entity_column(subject.detection, column) {
            EntityColumn::EventField => {}
            EntityColumn::Renamed(field) => {
                let message = format!(
                    "the {entity} entity mapping reads `{column}`, the query's name for `{field}`; the `sentinel` attribute maps `{field}`, which a query rebuilt from the Sigma detection has"
                );
                problems.push(Problem::at_key(Kind::Change, Code::EntityColumn, rule, "entityMappings", message));
                renames.push((column.clone(), field.to_string()));
            }
            EntityColumn::Computed => {
                let message = format!(
                    "the {entity} entity mapping reads `{column}`, which the query computes or carries through a join or summarize; the Sigma detection makes no columns, so a Sentinel rule written back from it may lack `{column}`"
                );
                problems.push(Problem::at_key(Kind::Loss, Code::EntityColumn, rule, "entityMappings", message));
            }
        }
    }
    (renames, problems)
}

/// The attribute's entity mappings read the event fields the query renamed, not the new names.
fn rename_entity_columns(settings: &mut Json, renames: &[(String, String)]) {
    let mappings = settings.get_mut("entityMappings").and_then(Json::as_array_mut).into_iter().flatten();
    let fields = mappings.filter_map(|m| m.get_mut("fieldMappings").and_then(Json::as_array_mut)).flatten();
    for column in fields.filter_map(|f| f.get_mut("columnName")) {
        if let Some((_, field)) = renames.iter().find(|(name, _)| column.as_str() == Some(name)) {
            *column = json!(field);
        }
    }
}

/// A test inside a dynamic column (`Props.role`) is written as a dotted Sigma field, but the
/// column often holds JSON text, and Sigma tools look a dotted name up in nested objects (or as
/// one key): whether it reaches the value depends on how events arrive, so it is a loss.
fn dynamic_path_losses(subject: &Subject) -> Vec<Problem> {
    let detection = subject.detection;
    let mut fields: Vec<(String, crate::ir::detection::Span)> = Vec::new();
    // A path with an array index is dropped by `selection` (and reported there) instead.
    let read_by_name = |m: &&crate::ir::detection::Match| !m.field.path.is_empty() && !m.field.path.iter().any(|p| p.starts_with('['));
    for m in detection.sources.iter().flat_map(|s| s.filter.matches()).filter(read_by_name) {
        if !fields.iter().any(|(f, _)| *f == m.field.to_string()) {
            fields.push((m.field.to_string(), m.span));
        }
    }
    let message = |field: &str| {
        format!("`{field}` is read inside a dynamic column; Sigma tools find it only when events carry that column as an object")
    };
    fields.into_iter().map(|(field, span)| loss_at(subject, Code::DynamicPath, span, message(&field))).collect()
}

/// KQL compares a bool column with `1` or `0` as with `true` or `false`; Sigma compares the
/// number, which a JSON `true` is not. Without column types the profile cannot tell a bool
/// column, so such a test is a loss (a Sigma rule's own test means what it says).
fn zero_or_one_losses(subject: &Subject) -> Vec<Problem> {
    let detection = subject.detection;
    let tests = detection.sources.iter().filter(|s| s.logsource.is_none()).flat_map(|s| s.filter.matches());
    let zero_or_one = |m: &&crate::ir::detection::Match| {
        m.op == crate::ir::detection::MatchOp::Equals && m.values.iter().any(|v| matches!(v, crate::ir::detection::Value::Int(0 | 1)))
    };
    let message =
        |field: &str| format!("`{field}` is compared with 0 or 1; if it is a bool column, KQL matches true or false and Sigma does not");
    tests.filter(zero_or_one).map(|m| loss_at(subject, Code::BoolAsNumber, m.span, message(&m.field.to_string()))).collect()
}

/// Sentinel alerts when the number of result rows passes the trigger; Sigma on every match.
fn trigger_loss(rule: &Rule) -> Option<Problem> {
    use crate::ir::TriggerOperator;
    let trigger = &rule.sentinel.as_ref()?.trigger;
    let default = matches!((trigger.operator, trigger.threshold), (None | Some(TriggerOperator::GreaterThan), None | Some(0)));
    (!default).then(|| {
        // The `sentinel` attribute carries it back to Sentinel, but Sigma's tools alert on every match.
        let message = "the alert trigger on the number of results (triggerOperator/triggerThreshold) has no Sigma form; \
                       only the `sentinel` attribute keeps it, for Sentinel";
        Problem::at_key(Kind::Loss, Code::KeptAsData, rule, "triggerThreshold", message)
    })
}
