//! ruleconv: convert SIEM detection rules between formats.
//!
//! ```text
//!  input files ──▶ sources::read ──▶ ir::Rule ──▶ targets::emit ──▶ output text
//!  (YAML, ARM,      one reader per     lossless       one emitter per    + problems
//!   markdown)       input format       metadata       target format
//!                                          │
//!                                          └──▶ kql::parse ──▶ AST with spans
//! ```
//!
//! Dependencies run one way: `sources → ir ← targets`, `kql` stands alone.

pub mod check;
pub mod cli;
pub mod convert;
pub mod diag;
pub mod diff;
pub mod ir;
pub mod kql;
pub mod sentinel;
pub mod sources;
pub mod targets;
pub mod yaml;
