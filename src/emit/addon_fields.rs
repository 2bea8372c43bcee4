//! Tests of Sigma fields that the rule's logsource's own log never writes. SigmaHQ lists some
//! fields for a logsource only as add-ons (`addon` in its tests/logsource.json, kept in
//! targets/sigma.yaml): fields other sensors add to its events. Sysmon's FileCreate (event 11)
//! has no `CommandLine`, yet SigmaHQ accepts `CommandLine` in a `windows/file_event` rule as an
//! add-on, without saying which process's command line a sensor writes there (the file's
//! writer, its parent?). On the logsource's own log such a test never holds; a target column
//! mapped for the field (Defender's `InitiatingProcessCommandLine`, the command line of the
//! process that wrote the file) holds what the mapping assumes the add-on means. Neither
//! reading is proven, so the test is written with a loss.

use super::{Subject, loss_at, sigma};
use crate::diag::{Code, Problem};

/// One loss per add-on field a Sigma rule's sources test, once per source and field.
pub fn losses(subject: &Subject) -> Vec<Problem> {
    let mut out = Vec::new();
    for source in &subject.detection.sources {
        let Some(logsource) = &source.logsource else { continue };
        // Looked up as SigmaHQ's test looks up a rule's fields: by category, else by service.
        let Some(kind) = logsource.category.as_ref().or(logsource.service.as_ref()) else { continue };
        let key = format!("{}/{kind}", logsource.product.as_deref().unwrap_or(""));
        let mut seen: Vec<&str> = Vec::new();
        for m in source.filter.matches() {
            let field = m.field.name.as_str();
            if !m.field.path.is_empty() || seen.contains(&field) || !sigma::is_addon_field(&key, field) {
                continue;
            }
            seen.push(field);
            let message = format!(
                "`{field}` is a field SigmaHQ lists for {key} only as an add-on other sensors write: the logsource's own event \
                 (Sysmon's, on Windows) has none, so there the test never holds; it is written as the target's column for it, \
                 taken to hold what those sensors write"
            );
            out.push(loss_at(subject, Code::UnknownField, m.span, message));
        }
    }
    out
}
