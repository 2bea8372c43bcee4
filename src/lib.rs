//! ruleconv: convert SIEM detection rules between formats, and say what could not be translated.
//!
//! ```text
//!                 sources::read_file                    targets::emit
//!  rule files ──────────────────────▶ ir::Rule ─────────────────────────▶ output text + problems
//!  (Sentinel YAML, ARM,  one reader      neutral layer   one emitter         (ARM template,
//!   markdown, catalogs)  per format      + sentinel      per target           repository YAML)
//!        │                                  │
//!        │ yaml:: (spanned tree,            │ rule.kql() ──kql::parse──▶ AST with byte spans
//!        │  deterministic writer)           │                           + syntax errors
//!        ▼                                  ▼
//!     diag::Problem (file:line:col) ◀── check:: (query errors mapped into the file through
//!                                                 the query's Locator; Sentinel limits)
//! ```
//!
//! `convert` runs the whole job for the CLI and the golden tests; `cli` parses arguments and
//! prints; `diff` compares outputs for review. `lower` turns a query's syntax tree into its
//! `ir::Detection` (what the rule detects), which `explain` puts in words. `sentinel::keys`
//! holds every Sentinel key and value spelling, for the Sentinel readers and emitters alike.
//! Dependencies run one way: `sources → ir ← targets`; `kql` depends on nothing else in the
//! crate.

pub mod check;
pub mod cli;
pub mod convert;
pub mod diag;
pub mod diff;
pub mod eval;
pub mod explain;
pub mod ir;
pub mod kql;
pub mod lower;
pub mod sentinel;
pub mod sources;
pub mod targets;
pub mod yaml;
