//! `Fidelity`: how faithfully one emitted rule says what its source said.
//!
//! Judged from the problems the emitter reported for the rule: a `loss` makes it approximate,
//! an error (the rule could not be emitted) makes it unsupported. Emitters report every loss
//! at the construct it is about, so the verdict and its reasons always agree.

use crate::diag::{Kind, Problem};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Everything the rule means is in the output.
    Exact,
    /// The output is the rule minus the listed losses.
    Approximate,
    /// No output: the target cannot express the rule.
    Unsupported,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Exact => "exact",
            Verdict::Approximate => "approximate",
            Verdict::Unsupported => "unsupported",
        }
    }

    /// The verdict for an emitted rule with these problems.
    pub fn of_emitted(problems: &[Problem]) -> Verdict {
        if problems.iter().any(|p| p.kind == Kind::Loss) { Verdict::Approximate } else { Verdict::Exact }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Position;

    #[test]
    fn a_loss_makes_a_rule_approximate_and_a_change_does_not() {
        let change = Problem::new(Kind::Change, "r.yaml", Position::new(1, 1), "respelled");
        let loss = Problem::new(Kind::Loss, "r.yaml", Position::new(2, 1), "dropped");
        assert_eq!(Verdict::of_emitted(&[change.clone()]), Verdict::Exact);
        assert_eq!(Verdict::of_emitted(&[change, loss]), Verdict::Approximate);
    }
}
