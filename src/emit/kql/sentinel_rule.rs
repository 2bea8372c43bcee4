//! The Sigma → Sentinel stage: the Sentinel rule the Sentinel targets write. A KQL rule is
//! carried as it is; a Sigma rule is raised to a scheduled rule around the KQL its Detection
//! becomes, its entity mappings taken from the Detection's outputs through the profile
//! (`WrittenRows`), never from lowering the KQL it printed. Its schedule looks back over the
//! correlation's whole window where it has one; a shorter `queryPeriod` is a loss.

use super::{WrittenRows, entities, query, unparsed, written_rows};
use crate::diag::{Code, Kind, Problem};
use crate::emit::{EmitOptions, Emitted, Evidence, Subject};
use crate::ir::{
    Detection, Duration, Locator, Logic, Query, Rule, RuleKind, Schedule, SentinelSection, TICKS_PER_SECOND, Trigger, TriggerOperator,
};
use std::borrow::Cow;

/// How often a Sigma rule runs as a Sentinel scheduled rule, and over what window, when its
/// file carries no Sentinel settings: an hour, Sentinel's usual choice.
const SCHEDULE: &str = "1h";

/// The Sentinel rule a Sentinel target writes, with its problems and what its query was
/// checked against.
pub(in crate::emit) struct Raised<'a> {
    pub rule: Cow<'a, Rule>,
    pub problems: Vec<Problem>,
    pub evidence: Evidence,
}

/// The rule as the Sentinel targets carry it: a KQL rule as it is; a Sigma rule as a Sentinel
/// rule whose query is its KQL (`--profile` applies), with the settings its `sentinel`
/// attribute carries (as they are), else a scheduled rule alerting on any row (a change) with
/// entity mappings for the identifying columns its rows have; with its losses.
pub(in crate::emit) fn raise_sentinel_rule<'a>(subject: &Subject<'a>, options: &EmitOptions) -> Result<Raised<'a>, Vec<Problem>> {
    if subject.rule.sigma_logic().is_none() {
        // The query is carried as written; one that does not parse is the source's fault, but
        // the user should hear it before deploying a rule Sentinel cannot run.
        let unparsed = subject.rule.kql().and_then(|q| unparsed(subject.rule, q, Kind::Warning, "; Sentinel cannot run it"));
        let mut problems: Vec<Problem> = unparsed.into_iter().collect();
        if options.settings.is_empty() {
            return Ok(Raised { rule: Cow::Borrowed(subject.rule), problems, evidence: Evidence::Unverified });
        }
        let mut rule = subject.rule.clone();
        let section = rule.sentinel.get_or_insert_with(SentinelSection::default);
        let changes = options.settings.apply(section);
        problems
            .extend(changes.into_iter().map(|(key, message)| Problem::at_key(Kind::Change, Code::SetByOption, subject.rule, key, message)));
        return Ok(Raised { rule: Cow::Owned(rule), problems, evidence: Evidence::Unverified });
    }
    let Emitted { text, mut problems, evidence } = query(subject, options)?;
    let rows = written_rows(subject, options)?;
    let mut rule = subject.rule.clone();
    rule.logic = Some(Logic::Kql(Query::new(text, Locator::default())));
    let mut section = match rule.sentinel.take() {
        // The settings a Sentinel rule had when it was written as Sigma, as they were, but for
        // entity mappings of columns the rebuilt query no longer has.
        Some(mut carried) => {
            problems.extend(drop_missing_entity_columns(&mut carried, &rows, subject));
            carried
        }
        None => {
            let schedule = Duration::parse(SCHEDULE).ok();
            let period = lookback(subject.detection).map_or(schedule, Some);
            let over = period.map(|p| p.to_string()).unwrap_or_default();
            let message = format!(
                "Sigma gives no schedule: the rule runs every {SCHEDULE} over the last {over} and alerts on any row, unless --set says otherwise"
            );
            problems.push(Problem::at_key(Kind::Change, Code::DefaultAdded, subject.rule, "logsource", message));
            let tables: Vec<&str> = rows.tables.iter().map(String::as_str).collect();
            let entity_mappings = entities::mappings(&tables, |column| rows.has(column));
            if !entity_mappings.is_empty() {
                let mapped: Vec<String> = entity_mappings
                    .iter()
                    .flat_map(|m| m.field_mappings.iter().map(move |f| format!("{} `{}`", m.entity_type, f.column_name)))
                    .collect();
                let message = format!("entities mapped from the columns that identify them (targets/entities.yaml): {}", mapped.join(", "));
                problems.push(Problem::at_key(Kind::Change, Code::DefaultAdded, subject.rule, "logsource", message));
            }
            SentinelSection {
                kind: Some(RuleKind::Scheduled),
                schedule: Schedule { query_frequency: schedule, query_period: period, start_time_utc: None },
                trigger: Trigger { operator: Some(TriggerOperator::GreaterThan), threshold: Some(0) },
                entity_mappings: (!entity_mappings.is_empty()).then_some(entity_mappings),
                ..SentinelSection::default()
            }
        }
    };
    let set = options.settings.apply(&mut section);
    problems.extend(short_lookback(subject, &section.schedule));
    rule.sentinel = Some(section);
    // Sentinel spells ATT&CK as its API does (`PrivilegeEscalation`, `T1078.004`), not as Sigma
    // tags do (`privilege-escalation`, `t1078.004`).
    for tactic in rule.tactics.iter_mut().flatten() {
        if let Some(name) = crate::sentinel::keys::api_tactic(tactic) {
            tactic.written = name.to_string();
        }
    }
    rule.techniques.iter_mut().flatten().for_each(|t| t.written = t.written.to_uppercase());
    problems.extend(set.into_iter().map(|(key, message)| Problem::at_key(Kind::Change, Code::SetByOption, subject.rule, key, message)));
    Ok(Raised { rule: Cow::Owned(rule), problems, evidence })
}

/// How far back a rule must look to see the correlation's window, when that is longer than the
/// default schedule's: the window, up to the longest `queryPeriod` Sentinel accepts.
fn lookback(detection: &Detection) -> Option<Duration> {
    let seconds = u64::try_from(detection.longest_window()?.ticks() / TICKS_PER_SECOND).ok()?;
    let default = Duration::parse(SCHEDULE).map_or(0, |d| d.total_seconds());
    (seconds > default).then(|| Duration::from_seconds(seconds.min(crate::check::max_query_interval().total_seconds())))
}

/// A correlation window longer than the rule's `queryPeriod`: each run sees only the period's
/// events, so the rule counts (or joins) over less time than the Sigma rule says.
fn short_lookback(subject: &Subject, schedule: &Schedule) -> Option<Problem> {
    let window = subject.detection.longest_window()?;
    let period = schedule.query_period?;
    let window_seconds = u64::try_from(window.ticks() / TICKS_PER_SECOND).ok()?;
    (period.total_seconds() < window_seconds).then(|| {
        let message = format!(
            "the correlation's {window} window is longer than the rule's queryPeriod {period}: each run sees only the last {period} of events, so it counts over less time than the Sigma rule"
        );
        Problem::at_key(Kind::Loss, Code::WindowChanged, subject.rule, "logsource", message)
    })
}

/// Carried entity mappings may read columns the original KQL computed (`AccountCustomEntity`)
/// that the query rebuilt from the Sigma detection lacks; Sentinel refuses such a rule, so
/// those mappings are left out, each a loss.
fn drop_missing_entity_columns(section: &mut SentinelSection, rows: &WrittenRows, subject: &Subject) -> Vec<Problem> {
    let Some(mappings) = section.entity_mappings.as_mut() else { return Vec::new() };
    let mut losses = Vec::new();
    mappings.retain_mut(|mapping| {
        mapping.field_mappings.retain(|field| {
            let kept = rows.has(&field.column_name);
            if !kept {
                let message = format!(
                    "the {} entity mapping of column `{}` is left out: the query rebuilt from the Sigma detection has no such column",
                    mapping.entity_type, field.column_name
                );
                losses.push(Problem::at_key(Kind::Loss, Code::EntityColumn, subject.rule, crate::sentinel::SIGMA_ATTRIBUTE, message));
            }
            kept
        });
        !mapping.field_mappings.is_empty()
    });
    if mappings.is_empty() && !losses.is_empty() {
        section.entity_mappings = None;
    }
    losses
}
