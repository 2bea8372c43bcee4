//! ruleconv: convert SIEM detection rules between formats, and say what could not be translated.
//!
//! ```text
//!  rule files ──read──▶ ir::Rule ──lower (once, by the job)──▶ convert::Lowered ──emit──▶ target tree ──print──▶ text
//!  (Sentinel YAML, ARM,  read::      │ neutral metadata        { rule, Arc<Detection> }   emit::    KQL AST, YARA-L     + problems
//!   markdown, catalogs,  one reader     │ + sentinel / sigma           │   │   │   │          one Emitter  model, YAML/JSON     (each with a code)
//!   Sigma)               per format     │   sections                   │   │   │   └─▶ report  per target   values              + fidelity
//!        │                              │                              │   │   └─▶ test (eval runs it on events)
//!        │ yaml:: (spanned tree,        │ Logic::Kql: query text       │   └─▶ explain (in words)
//!        │  deterministic writer)       │   → kql::parse → lower::     └─▶ check (Sigma regexes; KQL syntax, Sentinel limits)
//!        │                              │ Logic::Sigma: the Detection its reader lowered as it read
//!        ▼                              ▼   (sigma::parse_file → lower::lower_sigma; no syntax leaves the reader)
//!     diag::Problem (file:line:col, placed through the logic's Locator)
//! ```
//!
//! `convert` is the job: it reads the inputs, lowers every rule once (`lower_all`) and hands
//! the same `Lowered` to every target and consumer; the CLI and the golden tests run it alike.
//! `cli` parses arguments and prints; `diff` compares outputs for review and `review` compares two
//! versions of a source pack rule by rule (fields, verdicts, losses, outputs); `report` sums up a pack
//! (ATT&CK coverage, data sources, fidelity per target, indicator reuse). `re2` tells the
//! regexes only a backtracking engine runs, which the RE2 targets (KQL, YARA-L) refuse.
//! `lower` turns a query's syntax tree, or a Sigma document, into its `ir::Detection` (what the
//! rule detects); `explain` puts it in words and `eval` runs it over events. `sentinel::keys`
//! holds every Sentinel key and value spelling, for the Sentinel readers and emitters alike.
//! Emitters build a tree of their language (`kql::ast`, the YARA-L model, YAML and JSON values)
//! and print it; the Sentinel targets raise a Sentinel rule from a Sigma rule's Detection.
//! Dependencies run one way (`tests/layers.rs` checks them): `sources → ir ← targets`,
//! `lower → ir`, `eval → ir`; emitters never name a reader, Sigma's syntax or `lower`; the IR
//! names nothing above it; `kql` depends on nothing else in the crate (the Detection borrows its
//! byte `Span`).

pub mod check;
pub mod cli;
pub mod convert;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod eval;
pub mod explain;
pub mod glob;
pub mod ir;
pub mod kql;
pub mod lower;
pub mod re2;
pub mod read;
pub mod report;
pub mod review;
pub mod sentinel;
pub mod sigma;
pub mod yaml;
