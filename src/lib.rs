//! ruleconv: convert SIEM detection rules between formats, and say what could not be translated.
//!
//! ```text
//!                 sources::read_file                    targets::emit (one Emitter per target)
//!  rule files ──────────────────────▶ ir::Rule ──────────────────────────────▶ output text
//!  (Sentinel YAML, ARM,  one reader      neutral layer          ▲                 + problems
//!   markdown, catalogs,  per format      + sentinel / sigma     │ Subject          + fidelity
//!   Sigma)                                 sections             │
//!        │                                  │                   │ (rule, detection)
//!        │ yaml:: (spanned tree,            │ rule.logic        │
//!        │  deterministic writer)           ▼                   │
//!        │                      kql::parse ──▶ AST with spans ──lower──▶ ir::Detection
//!        │                  sigma::parse_file ▶ documents with spans ─┘
//!        │                                  │                   │          │        │
//!        ▼                                  ▼                   │      explain    eval
//!     diag::Problem (file:line:col) ◀── check:: (query errors   │    (in words)  (runs it
//!                                      mapped into the file     │                 on events:
//!                                      through the Locator;     │                 `ruleconv test`)
//!                                      Sentinel limits)  ◀──────┘ unmodelled constructs
//! ```
//!
//! `convert` runs the whole job for the CLI and the golden tests; `cli` parses arguments and
//! prints; `diff` compares outputs for review; `report` sums up a pack (ATT&CK coverage, data
//! sources, fidelity per target, indicator reuse) from the convert job's results. `re2` tells
//! the regexes only a backtracking engine runs, which the RE2 targets (KQL, YARA-L) refuse.
//! `lower` turns a query's syntax tree into its
//! `ir::Detection` (what the rule detects), which `explain` puts in words and `eval` runs over
//! events. `sentinel::keys` holds every Sentinel key and value spelling, for the Sentinel
//! readers and emitters alike. `sigma` parses Sigma documents, with spans into the file's
//! text (a Sigma rule's `Logic` holds them), and `lower` turns them into the same `Detection`.
//! Dependencies run one way: `sources → ir ← targets`, `lower → ir`, `eval → ir`; `kql` depends
//! on nothing else in the crate (the Detection borrows its byte `Span`); `sigma` only on `yaml`,
//! `diag` and the IR's `LogSource` and `MatchOp`.

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
pub mod re2;
pub mod report;
pub mod sentinel;
pub mod sigma;
pub mod sources;
pub mod targets;
pub mod yaml;
