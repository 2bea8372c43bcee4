//! `--to markdown`: a rule card, the rule as a web page shows it to a detection engineer:
//! title, description, ATT&CK coverage with names, the rule body, parameters, stages,
//! exclusions, indicators, output fields, entity mappings and what was not modelled.
//!
//! The card's data is gathered here (from the Rule, the Detection, and the query's layout in
//! `structure`), made markdown-safe by `cells`, and laid out by the handlebars template
//! `templates/rule-card.md.hbs`. The fidelity header opens each card as an HTML comment, so a
//! reviewer sees it in diffs without it cluttering the page; the losses are also listed on the
//! page under "Not modelled".

pub(crate) mod attack;
pub(crate) mod cells;
pub(crate) mod predicates;
mod structure;
mod subject;

use super::{EmitOptions, Emitted, Emitter, Evidence, Subject, header_lines, join_documents, loss_text, unmodelled_losses};
use crate::diag::{Code, Kind, Problem};
use crate::ir::Lifted;
use crate::ir::detection::Input;
use handlebars::Handlebars;
use predicates::Row;
use serde::Serialize;
use structure::Structure;

pub struct Markdown;

impl Emitter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn extension(&self) -> &'static str {
        "md"
    }

    fn about(&self) -> &'static str {
        "Markdown rule card (ATT&CK, body, stages, exclusions, indicators, outputs); several rules are cards separated by ---"
    }

    /// A card describes the Detection in words; a logsource reads as well as a table.
    fn reads_sigma(&self) -> bool {
        true
    }

    fn emit(&self, subjects: &[Subject], _options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
        let templates = TEMPLATES.as_ref().map_err(|message| subjects.iter().map(|s| template_error(s, message)).collect::<Vec<_>>())?;
        join_documents(subjects, "\n---\n\n", |subject| {
            let problems = unmodelled_losses(subject);
            let card = Card::of(subject, &problems);
            match templates.render(CARD, &card) {
                // The template's last line loses its line break to handlebars' whitespace rules.
                Ok(text) => Ok(Emitted { text: format!("{}\n", text.trim_end()), problems, evidence: Evidence::Unverified }),
                Err(e) => Err(vec![template_error(subject, &e.to_string())]),
            }
        })
    }
}

const CARD: &str = "rule-card";

/// Compiled once: compiling the template costs more than rendering a card.
static TEMPLATES: std::sync::LazyLock<Result<Handlebars<'static>, String>> = std::sync::LazyLock::new(templates);

/// Strict (a field the template names but the card lacks is an error, not an empty string),
/// and without HTML escaping: `cells` escapes rule text for markdown itself.
fn templates() -> Result<Handlebars<'static>, String> {
    let mut handlebars = Handlebars::new();
    handlebars.set_strict_mode(true);
    handlebars.register_escape_fn(handlebars::no_escape);
    handlebars.register_template_string(CARD, include_str!("../../../templates/rule-card.md.hbs")).map_err(|e| e.to_string())?;
    Ok(handlebars)
}

fn template_error(subject: &Subject, message: &str) -> Problem {
    Problem::about(
        Kind::Error,
        Code::OutputFailed,
        subject.rule,
        subject.rule.origin.position,
        format!("the rule card template failed: {message}"),
    )
}

/// What the template shows, every text already markdown-safe.
#[derive(Serialize)]
struct Card {
    /// Fidelity header lines, safe inside an HTML comment.
    fidelity: Vec<String>,
    title: String,
    description: Option<String>,
    facts: Vec<Fact>,
    attack: Vec<CoverageRow>,
    body: Option<String>,
    /// One code block of `let` lines, when there are any.
    parameters: Option<String>,
    pipelines: Vec<PipelineView>,
    exclusions: Vec<RowView>,
    indicators: Vec<RowView>,
    /// The result keeps every column of its input: the listed fields are the ones added.
    all_columns: bool,
    outputs: Vec<OutputView>,
    entities: Vec<EntityView>,
    not_modelled: Vec<String>,
}

#[derive(Serialize)]
struct Fact {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct CoverageRow {
    tactic: String,
    techniques: String,
}

#[derive(Serialize)]
struct PipelineView {
    heading: String,
    stages: Vec<StageView>,
}

/// A stage is its heading (operator and subject, no ordinal) and its code block, with no blank
/// line between (a fence may interrupt a paragraph): few lines alike in every stage, so a line
/// diff of a card with one stage moved shows that stage's lines, not its neighbours'.
#[derive(Serialize)]
struct StageView {
    subject: Option<String>,
    operator: String,
    code: String,
}

#[derive(Serialize)]
struct RowView {
    field: String,
    kind: String,
    values: String,
}

#[derive(Serialize)]
struct OutputView {
    field: String,
    made_by: String,
}

#[derive(Serialize)]
struct EntityView {
    entity: String,
    identifier: String,
    column: String,
}

impl Card {
    fn of(subject: &Subject, problems: &[Problem]) -> Card {
        let rule = subject.rule;
        let detection = subject.detection;
        let structure = rule.kql().map(Structure::of_query).unwrap_or_default();
        let tables = predicates::tables(detection);
        let facts = [
            ("Id", rule.id.clone()),
            ("Severity", rule.severity.map(|s| s.name().to_string())),
            ("Kind", rule.sentinel.as_ref().and_then(|s| s.kind).map(|k| crate::sentinel::keys::kind_name(k).to_string())),
            ("References", joined(&rule.references)),
            ("False positives", joined(&rule.false_positives)),
            // What a page published beside the rule.
            ("Note", rule.note.as_ref().map(|n| n.value.clone())),
            ("Retrieved", rule.retrieved.as_ref().map(|r| r.value.clone())),
            ("Confidence", rule.confidence.as_ref().map(|c| c.value.clone())),
        ];
        Card {
            // A card shows the rule as written beside its reading; nothing checks the reading.
            fidelity: header_lines(subject, problems, Evidence::Unverified).iter().map(|line| cells::comment(line)).collect(),
            title: cells::inline(&rule.label()),
            description: rule
                .description
                .as_deref()
                .map(|d| cells::paragraphs(&crate::sentinel::clean_description(d)))
                .filter(|d| !d.is_empty()),
            facts: facts.into_iter().filter_map(|(name, value)| Some(Fact { name, value: cells::cell(&value?) })).collect(),
            attack: attack::coverage(rule)
                .into_iter()
                .map(|row| CoverageRow { tactic: cells::cell(&row.tactic), techniques: cells::cell(&row.techniques.join(", ")) })
                .collect(),
            // A Sigma rule shows its file as written (all of its documents).
            body: rule.logic.as_ref().map(|logic| cells::code_block(if rule.kql().is_some() { "kql" } else { "yaml" }, logic.text())),
            parameters: (!structure.parameters.is_empty()).then(|| cells::code_block("kql", &structure.parameters.join("\n"))),
            pipelines: pipelines(&structure),
            exclusions: tables.exclusions.iter().map(row_view).collect(),
            indicators: tables.indicators.iter().map(row_view).collect(),
            all_columns: detection.outputs.all_columns,
            outputs: detection
                .outputs
                .fields
                .iter()
                .map(|o| {
                    let made_by = match structure.stage_at(o.span) {
                        Some(stage) => stage.operator.to_string(),
                        None => input_words(o.made_by, detection),
                    };
                    OutputView { field: cells::cell(&o.name), made_by: cells::cell(&made_by) }
                })
                .collect(),
            entities: detection
                .entities
                .iter()
                .map(|e| {
                    let missing = if e.column_in_output { "" } else { " (not in the output)" };
                    EntityView {
                        entity: cells::cell(&e.entity_type),
                        identifier: cells::cell(&e.identifier),
                        column: cells::cell(&format!("{}{missing}", e.column)),
                    }
                })
                .collect(),
            not_modelled: problems
                .iter()
                .filter(|p| p.kind == Kind::Loss)
                // Quoted, not placed: an edit above the construct must not change the card.
                .map(|p| cells::inline(&loss_text(p)))
                .collect(),
        }
    }
}

fn joined(items: &[Lifted<String>]) -> Option<String> {
    (!items.is_empty()).then(|| items.iter().map(|i| i.value.as_str()).collect::<Vec<_>>().join(", "))
}

fn pipelines(structure: &Structure) -> Vec<PipelineView> {
    structure
        .pipelines
        .iter()
        .map(|pipeline| {
            let heading = match (&pipeline.let_name, &pipeline.runs_on) {
                (Some(name), _) => format!("The stages below define let {name}."),
                (None, Some(source)) => format!("The stages below run on {source} (the outer pipeline)."),
                (None, None) => "The stages below are the outer pipeline.".to_string(),
            };
            let stages = pipeline
                .stages
                .iter()
                .map(|stage| StageView {
                    operator: if stage.steps > 1 {
                        format!("{} ({} consecutive steps)", stage.operator, stage.steps)
                    } else {
                        stage.operator.into()
                    },
                    subject: stage.subject.as_deref().map(cells::inline),
                    code: cells::code_block("kql", &stage.text),
                })
                .collect();
            PipelineView { heading: cells::inline(&heading), stages }
        })
        .collect()
}

fn row_view(row: &Row) -> RowView {
    RowView { field: cells::cell(&row.field), kind: cells::cell(&row.kind), values: cells::cell(&row.values) }
}

/// Where an output comes from when no stage of the query text holds it.
fn input_words(input: Input, detection: &crate::ir::Detection) -> String {
    match input {
        Input::Source(i) => detection.sources.get(i).map_or_else(|| "a source".to_string(), |s| format!("source {}", s.name)),
        Input::Stage(i) => detection.stages.get(i).map_or_else(|| "a stage".to_string(), |_| format!("step {} of the Detection", i + 1)),
    }
}
