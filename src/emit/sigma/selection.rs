//! A predicate tree → Sigma's `detection`: named selections (maps are AND, lists are OR) and a
//! `condition` that combines them with `and`, `or`, `not`.
//!
//! What cannot be translated is dropped so the rule widens rather than narrows (a missed attack
//! is worse than a false positive): an unknown part of an AND is left out, an OR or NOT with an
//! unknown part is left out whole. Each drop is reported by the caller as a loss.

use super::{names, profile, values};
use crate::diag::Code;
use crate::ir::detection::{Match, MatchOp, Predicate, Span};
use serde_json::{Map, Value as Json};

/// The parts of a `detection` block, before naming.
pub struct Translated {
    /// `None` when nothing of the predicate could be translated (or it is always true).
    pub detection: Option<Json>,
    /// What was dropped or approximated, at the construct it is about.
    pub losses: Vec<(Span, Code, String)>,
    /// What Sigma says elsewhere (a lookback is the backend's schedule).
    pub changes: Vec<(Span, Code, String)>,
}

enum Cond {
    Selection(usize),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

struct Builder<'t> {
    table: &'t str,
    /// A keyword list to write for an `Opaque` part, by its span (see `keywords::list_at`).
    keywords: &'t dyn Fn(Span) -> Option<Json>,
    /// Each a map of items or a keyword list.
    selections: Vec<Json>,
    losses: Vec<(Span, Code, String)>,
    changes: Vec<(Span, Code, String)>,
}

/// Translates a source's predicate over events of `table`.
pub fn translate(predicate: &Predicate, table: &str, keywords: &dyn Fn(Span) -> Option<Json>) -> Translated {
    let mut builder = Builder { table, keywords, selections: Vec::new(), losses: Vec::new(), changes: Vec::new() };
    let cond = builder.cond(predicate).map(|(cond, _)| cond);
    let detection = cond.map(|cond| builder.detection(&cond));
    Translated { detection, losses: builder.losses, changes: builder.changes }
}

impl Builder<'_> {
    /// The condition and whether it is complete (nothing dropped inside). When nothing of it is
    /// kept, neither are the selections its parts made.
    fn cond(&mut self, predicate: &Predicate) -> Option<(Cond, bool)> {
        let mark = self.selections.len();
        let cond = self.cond_parts(predicate);
        if cond.is_none() {
            self.selections.truncate(mark);
        }
        cond
    }

    fn cond_parts(&mut self, predicate: &Predicate) -> Option<(Cond, bool)> {
        match predicate {
            Predicate::Match(m) => match self.leaves(std::slice::from_ref(m)) {
                (Some(cond), complete) => Some((cond, complete)),
                (None, _) => None,
            },
            // Already reported as unmodelled by lowering, unless a keyword list says it.
            Predicate::Opaque { span, .. } => {
                self.selections.push((self.keywords)(*span)?);
                Some((Cond::Selection(self.selections.len() - 1), true))
            }
            Predicate::Not(inner) => match self.cond(inner)? {
                (cond, true) if has_cidr(inner) && self.table != profile::AS_WRITTEN => {
                    // KQL's IP functions give null for a value that is no IPv4 address, and a
                    // negated null drops the event; Sigma's `not` keeps it (as a Sigma rule's
                    // own `not`, whose fields are named as written, means).
                    let message = "a negated IP range test also matches values that are no IPv4 address (KQL drops those events)";
                    self.losses.push((span_of(inner), Code::NullSemantics, message.into()));
                    Some((Cond::Not(Box::new(cond)), true))
                }
                (cond, true) => Some((Cond::Not(Box::new(cond)), true)),
                (_, false) => None,
            },
            Predicate::And(parts) => {
                // Runs of plain matches share selections (the readable Sigma form); the rest
                // nest between them, in order, so a Sigma rule reads back as it was lowered.
                let mut conds = Vec::new();
                let mut complete = true;
                for run in parts.chunk_by(|a, b| matches!((a, b), (Predicate::Match(_), Predicate::Match(_)))) {
                    let part = match run {
                        [Predicate::Match(_), ..] => {
                            let matches: Vec<Match> = run.iter().flat_map(Predicate::matches).cloned().collect();
                            let (cond, whole) = self.leaves(&matches);
                            cond.map(|c| (c, whole)).ok_or(whole)
                        }
                        _ => self.cond(&run[0]).ok_or(false),
                    };
                    match part {
                        Ok((cond, whole)) => {
                            conds.push(cond);
                            complete &= whole;
                        }
                        Err(whole) => complete &= whole,
                    }
                }
                Self::combine(conds, Cond::And).map(|c| (c, complete))
            }
            Predicate::Or(parts) => {
                let mut conds = Vec::new();
                for part in parts {
                    match self.cond(part)? {
                        (cond, true) => conds.push(cond),
                        (_, false) => return None,
                    }
                }
                Self::combine(conds, Cond::Or).map(|c| (c, true))
            }
        }
    }

    fn combine(mut conds: Vec<Cond>, make: fn(Vec<Cond>) -> Cond) -> Option<Cond> {
        match conds.len() {
            0 => None,
            1 => conds.pop(),
            _ => Some(make(conds)),
        }
    }

    /// ANDed matches as selections: one while their keys differ, a new one when a key repeats.
    /// A match that cannot be translated is left out (and reported); the flag says none was.
    fn leaves(&mut self, matches: &[Match]) -> (Option<Cond>, bool) {
        let mut complete = true;
        let mut groups: Vec<Vec<(String, Json)>> = vec![Vec::new()];
        for m in matches {
            if values::is_lookback(m) {
                let message = format!("the lookback on `{}` is left to the Sigma backend's schedule", m.field);
                self.changes.push((m.span, Code::LookbackLeft, message));
                continue;
            }
            match values::items(m, self.table) {
                Ok(items) => {
                    self.losses.extend(items.approximations.into_iter().map(|(code, why)| (m.span, code, why)));
                    for (key, value) in items.items {
                        let group = groups.last_mut().expect("one group at least");
                        if group.iter().any(|(k, _)| *k == key) {
                            groups.push(vec![(key, value)]);
                        } else {
                            group.push((key, value));
                        }
                    }
                }
                Err((code, reason)) => {
                    complete = false;
                    self.losses.push((m.span, code, format!("the condition on `{}` is dropped: {reason}", m.field)));
                }
            }
        }
        let conds = groups
            .into_iter()
            .filter(|g| !g.is_empty())
            .map(|g| {
                self.selections.push(Json::Object(g.into_iter().collect()));
                Cond::Selection(self.selections.len() - 1)
            })
            .collect();
        (Self::combine(conds, Cond::And), complete)
    }

    /// Names the selections by what they test (`names`), `filter_*` for those only used
    /// negated, and writes the detection block.
    fn detection(&self, cond: &Cond) -> Json {
        let mut negated = vec![false; self.selections.len()];
        mark_negated(cond, false, &mut negated);
        let names = names::name_selections(&self.selections, &negated);
        let mut map = Map::new();
        for (name, selection) in names.iter().zip(&self.selections) {
            map.insert(name.clone(), selection.clone());
        }
        map.insert("condition".into(), Json::String(render(cond, &names, 0)));
        Json::Object(map)
    }
}

fn has_cidr(predicate: &Predicate) -> bool {
    match predicate {
        Predicate::Match(m) => m.op == MatchOp::Cidr,
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().any(has_cidr),
        Predicate::Not(inner) => has_cidr(inner),
        Predicate::Opaque { .. } => false,
    }
}

/// Where a predicate starts in the query: its first match's span.
fn span_of(predicate: &Predicate) -> Span {
    match predicate {
        Predicate::Match(m) => m.span,
        Predicate::Opaque { span, .. } => *span,
        Predicate::Not(inner) => span_of(inner),
        Predicate::And(parts) | Predicate::Or(parts) => parts.first().map(span_of).unwrap_or_default(),
    }
}

fn mark_negated(cond: &Cond, under_not: bool, negated: &mut [bool]) {
    match cond {
        Cond::Selection(i) => negated[*i] = under_not,
        Cond::And(parts) | Cond::Or(parts) => parts.iter().for_each(|p| mark_negated(p, false, negated)),
        Cond::Not(inner) => mark_negated(inner, true, negated),
    }
}

/// Condition text; `level` is how tightly the context binds (0 in an `or`, 1 in an `and`, 3
/// under `not`); a part that binds more loosely than its context is parenthesized.
fn render(cond: &Cond, names: &[String], level: u8) -> String {
    let (text, own) = match cond {
        Cond::Selection(i) => return names[*i].clone(),
        Cond::Or(parts) => (parts.iter().map(|p| render(p, names, 0)).collect::<Vec<_>>().join(" or "), 0),
        Cond::And(parts) => (parts.iter().map(|p| render(p, names, 1)).collect::<Vec<_>>().join(" and "), 1),
        Cond::Not(inner) => (format!("not {}", render(inner, names, 3)), 2),
    };
    if own < level { format!("({text})") } else { text }
}
