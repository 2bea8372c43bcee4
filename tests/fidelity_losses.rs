//! Every kind of fidelity loss the Detection-based targets (sigma, chronicle, markdown) can
//! report, one small rule each: the loss is reported as a `loss`, at the construct it is about,
//! and the rule is not `exact`. A clean rule is `exact`, so each table fails both ways. Rules
//! are written with `--allow-broader`: a rule that loses its every condition is then written
//! with its losses (and a `broader` one), which are what these tables look at. Over the shared
//! corpus (skipped when ../shared is absent): no rule is `exact` while its
//! Detection holds something unmodelled or its problems hold a loss.

#[path = "support/shared.rs"]
mod shared;

use ruleconv::convert::{self, emit_rules};
use ruleconv::diag::{Code, Kind, Problem, excerpt};
use ruleconv::emit::{EmitOptions, Target, Verdict};
use ruleconv::ir::detection::Predicate;
use ruleconv::read::read_text;
use std::path::Path;

/// The schedule most rows use; a row that needs another gives its own keys.
const SCHEDULE: &str = "queryFrequency: 1h\nqueryPeriod: 1h\n";

enum Expect {
    /// No loss at all, and the verdict is `exact`.
    Exact,
    /// A loss of the code, whose message holds the text (naming the construct), at `line:col`
    /// of the rule file.
    Loss(Code, &'static str, usize, usize),
}

struct Row {
    kind: &'static str,
    /// KQL, lines separated by `\n`.
    query: &'static str,
    /// Repository-YAML keys after the query.
    keys: &'static str,
    expect: Expect,
}

const fn row(kind: &'static str, query: &'static str, expect: Expect) -> Row {
    Row { kind, query, keys: SCHEDULE, expect }
}

/// A scheduled rule in the Azure-Sentinel repository's YAML form.
fn rule_yaml(row: &Row) -> String {
    let query = row.query.replace('\n', "\n  ");
    format!("id: 5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10\nname: Test rule\nseverity: High\nquery: |\n  {query}\n{}", row.keys)
}

/// A position on the query's first line, `offset` bytes into the query.
const fn col(offset: usize) -> usize {
    offset + 3
}

/// Each row's rule through the target; every mismatch is collected, so one run shows them all.
fn check(target: &str, rows: &[Row]) {
    let target = Target::from_name(target).expect("registered");
    let mut failures = Vec::new();
    for row in rows {
        let yaml = rule_yaml(row);
        let outcome = read_text(&yaml, Path::new("rule.yaml"), None);
        let rule = outcome.rules.first().unwrap_or_else(|| panic!("{}: the rule reads: {:?}", row.kind, outcome.problems));
        let options = EmitOptions { allow_broader: true, ..EmitOptions::default() };
        let (verdict, problems) = match emit_rules(target, &[rule], &options) {
            Ok(emitted) => (Verdict::of_emitted(&emitted.problems), emitted.problems),
            Err(errors) => (Verdict::Unsupported, errors),
        };
        let losses: Vec<&Problem> = problems.iter().filter(|p| p.kind == Kind::Loss).collect();
        let found = match row.expect {
            Expect::Exact => verdict == Verdict::Exact && losses.is_empty(),
            Expect::Loss(code, text, line, col) => {
                verdict != Verdict::Exact
                    && losses.iter().any(|p| p.code == code && p.message.contains(text) && (p.position.line, p.position.col) == (line, col))
            }
        };
        if !found {
            let shown: Vec<String> = problems
                .iter()
                .map(|p| format!("    {p}\n{}", excerpt(&yaml, p.position).unwrap_or_default().replace('\n', "\n    ")))
                .collect();
            failures.push(format!("{} ({}): {:?}\n{}", row.kind, target.name(), verdict, shown.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows fail:\n{}", failures.len(), rows.len(), failures.join("\n\n"));
}

#[test]
fn sigma_reports_every_loss() {
    use Expect::{Exact, Loss};
    check(
        "sigma",
        &[
            row("clean rule", "SigninLogs | where ResultType == '50126' and AppDisplayName =~ 'Azure Portal'", Exact),
            row(
                "complete correlation",
                "SigninLogs | where ResultType == '50126' | summarize count() by UserPrincipalName, bin(TimeGenerated, 1h) | where count_ > 5",
                Exact,
            ),
            row(
                "unmodelled construct",
                "SigninLogs | where ResultType == '50126' | take 5",
                Loss(Code::Unmodelled, "`take` is not translated", 5, col(43)),
            ),
            row(
                "octal escape (engines read it differently)",
                "DeviceFileEvents | where FolderPath startswith 'x64\\3'",
                Loss(Code::Unmodelled, "`octal escape` is not translated", 5, col(51)),
            ),
            row(
                "computed column test dropped",
                "SigninLogs | where ResultType == '0' | extend N = strlen(UserPrincipalName) | where N > 20",
                Loss(Code::ComputedColumn, "`N` is computed", 5, col(84)),
            ),
            row(
                "`has` approximated by `contains`",
                "Syslog | where SyslogMessage has 'sudo'",
                Loss(Code::TermMatch, "`has` matches whole terms", 5, col(15)),
            ),
            row(
                "negated IP range",
                "SigninLogs | where ResultType == '0' and not(ipv4_is_in_range(IPAddress, '10.0.0.0/8'))",
                Loss(Code::NullSemantics, "negated IP range test", 5, col(45)),
            ),
            row(
                "condition dropped (time value)",
                "AuditLogs | where OperationName == 'x' and TimeGenerated < ago(1d)",
                Loss(Code::ConditionDropped, "`TimeGenerated` is dropped: a time value", 5, col(43)),
            ),
            row(
                "condition dropped (regex flags)",
                "Syslog | where Facility == 'auth' and SyslogMessage matches regex 'a(?i)b'",
                Loss(Code::ConditionDropped, "sets flags after its start", 5, col(38)),
            ),
            row(
                "condition dropped (array index)",
                "AuditLogs | where OperationName == 'x' and TargetResources[0].type == 'User'",
                Loss(Code::ConditionDropped, "indexes an array", 5, col(43)),
            ),
            row(
                "condition dropped (RE2 syntax)",
                "Syslog | where Facility == 'auth' and SyslogMessage matches regex '\\\\p{L}'",
                Loss(Code::ConditionDropped, "uses RE2 syntax", 5, col(38)),
            ),
            row(
                "condition dropped (order against a field)",
                "SecurityEvent | where EventID == 4625 and LogonType > TargetLogonId",
                Loss(Code::ConditionDropped, "`gt`/`lt` in Sigma compare numbers only", 5, col(42)),
            ),
            row(
                "condition dropped (text test against a field)",
                "Syslog | where Facility == 'auth' and SyslogMessage contains HostName",
                Loss(Code::ConditionDropped, "a comparison with the field `HostName` other than equality", 5, col(38)),
            ),
            row(
                "condition dropped (non-finite number)",
                "Syslog | where Facility == 'auth' and SeverityLevel == real(+inf)",
                Loss(Code::ConditionDropped, "a non-finite number has no Sigma form", 5, col(38)),
            ),
            row(
                "condition dropped (empty value list)",
                "Syslog | where Facility == 'auth' and SyslogMessage has_any (dynamic([]))",
                Loss(Code::ConditionDropped, "its list of values is empty", 5, col(38)),
            ),
            row(
                "condition dropped (text test against null)",
                "Syslog | where Facility == 'auth' and SyslogMessage contains dynamic(null)",
                Loss(Code::ConditionDropped, "a text comparison with null has no Sigma form", 5, col(38)),
            ),
            row(
                "event source without a Sigma condition",
                "union (SigninLogs | where ResultType == '0'), AuditLogs",
                Loss(Code::NoDetection, "events of `AuditLogs` (AuditLogs) have no condition Sigma can test", 5, col(46)),
            ),
            row(
                "path into a dynamic column",
                "AuditLogs | where OperationName == 'x' and InitiatedBy.user.userPrincipalName == 'a'",
                Loss(Code::DynamicPath, "is read inside a dynamic column", 5, col(43)),
            ),
            row(
                "equality with 0/1 (bool column)",
                "DeviceEvents | where ActionType == 'x' and IsLocalAdmin == 1",
                Loss(Code::BoolAsNumber, "is compared with 0 or 1", 5, col(43)),
            ),
            Row {
                keys: "queryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 5\n",
                ..row(
                    "trigger threshold",
                    "SigninLogs | where ResultType == '0'",
                    Loss(Code::KeptAsData, "(triggerOperator/triggerThreshold) has no Sigma form", 9, 1),
                )
            },
            Row {
                keys: "queryFrequency: 1h\nqueryPeriod: 1h\nrelevantTechniques:\n  - T9999\n",
                ..row(
                    "unknown ATT&CK technique",
                    "SigninLogs | where ResultType == '0'",
                    Loss(Code::Untagged, "technique `T9999` is not in ATT&CK", 8, 1),
                )
            },
            row(
                "computed output column",
                "SigninLogs | where ResultType == '0' | extend Upn = tolower(UserPrincipalName) | project Upn",
                Loss(Code::ComputedColumn, "computed output columns are not carried", 5, col(46)),
            ),
            row(
                "condition on joined rows",
                "SigninLogs | where ResultType == '0'\n| join kind=inner (AuditLogs | where OperationName == 'x') on CorrelationId\n| where UserPrincipalName != InitiatedBy",
                Loss(Code::CorrelationUnsupported, "a condition on combined or aggregated rows has no Sigma form", 7, 11),
            ),
            row(
                "anti join",
                "SigninLogs | where ResultType == '0'\n| join kind=leftanti (AuditLogs | where OperationName == 'x') on CorrelationId",
                Loss(Code::CorrelationUnsupported, "join has no Sigma correlation", 6, 5),
            ),
            row(
                "join without a time window",
                "SigninLogs | where ResultType == '0'\n| join kind=inner (AuditLogs | where OperationName == 'x') on CorrelationId",
                Loss(Code::WindowChanged, "the join has no time window", 6, 5),
            ),
            row(
                "threshold of several tests",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress\n| where n > 5 and n < 100",
                Loss(Code::CorrelationUnsupported, "the threshold is not translated: it combines several tests", 6, 5),
            ),
            row(
                "threshold on a sum",
                "SigninLogs | where ResultType == '0'\n| summarize n = sum(Duration) by IPAddress\n| where n > 5",
                Loss(Code::CorrelationUnsupported, "Sigma correlations count events or distinct values only", 6, 5),
            ),
            row(
                "conditional count",
                "SigninLogs | where ResultType == '0'\n| summarize n = countif(AppDisplayName == 'x') by IPAddress\n| where n > 5",
                Loss(Code::CorrelationUnsupported, "a conditional count", 6, 5),
            ),
            row(
                "count grouped by a computed column",
                "SigninLogs | where ResultType == '0'\n| extend Length = strlen(UserPrincipalName)\n| summarize n = count() by Length\n| where n > 5",
                Loss(Code::ComputedColumn, "the count is not grouped by `Length`", 7, 5),
            ),
            row(
                "union of derived rows",
                "union (SigninLogs | where ResultType == '0' | summarize count() by IPAddress), (AuditLogs | where OperationName == 'x')",
                Loss(Code::CorrelationUnsupported, "`union` of derived rows has no Sigma form", 5, col(0)),
            ),
            row(
                "aggregation of a source without a Sigma rule",
                "union (SigninLogs | where ResultType == '0'), (AuditLogs | summarize n = count() by OperationName | where n > 5)",
                Loss(Code::CorrelationUnsupported, "the aggregation reads a source with no Sigma detection", 5, col(59)),
            ),
            row(
                "aggregation over another step",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress, UserPrincipalName\n| summarize m = count() by IPAddress\n| where m > 5",
                Loss(Code::CorrelationUnsupported, "the aggregation over the result of another step has no Sigma form", 7, 5),
            ),
            row(
                "threshold on a group key",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress\n| where IPAddress == '10.0.0.1'",
                Loss(Code::CorrelationUnsupported, "it tests a column that is not an aggregation", 6, 5),
            ),
            row(
                "threshold not a whole number",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress\n| where n > 5.5",
                Loss(Code::CorrelationUnsupported, "Sigma thresholds compare a count with a whole number", 6, 5),
            ),
            row(
                "bins of another field",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by bin(CreatedDateTime, 1h)\n| where n > 5",
                Loss(Code::CorrelationUnsupported, "it groups by bins of a field other than the event time", 6, 5),
            ),
            row(
                "window under a second",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress, bin(TimeGenerated, 500ms)\n| where n > 5",
                Loss(Code::CorrelationUnsupported, "a window under one second has no Sigma timespan", 6, 5),
            ),
            row(
                "join without keys",
                "SigninLogs | where ResultType == '0'\n| join kind=inner (AuditLogs | where OperationName == 'x') on $left.UserPrincipalName == tolower($right.Identity)",
                Loss(Code::CorrelationUnsupported, "a join without keys has no Sigma correlation", 6, 5),
            ),
            Row {
                keys: "queryFrequency: 1h\n",
                ..row(
                    "correlation without a time window",
                    "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress\n| where n > 5",
                    Loss(Code::CorrelationUnsupported, "no time window", 6, 5),
                )
            },
            row(
                "window rounded to seconds",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress, bin(TimeGenerated, 1500ms)\n| where n > 5",
                Loss(Code::WindowChanged, "rounded down to whole seconds", 6, 5),
            ),
        ],
    );
}

#[test]
fn chronicle_reports_every_loss() {
    use Expect::{Exact, Loss};
    check(
        "chronicle",
        &[
            // Paths, values and structure check clean against UDM and every test is mapped.
            row("complete and checked", "DeviceProcessEvents | where FileName =~ 'cmd.exe'", Exact),
            row(
                "unmodelled construct",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' | take 5",
                Loss(Code::Unmodelled, "`take` is not translated", 5, col(52)),
            ),
            row(
                "computed column test dropped",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' | extend N = strlen(ProcessCommandLine) | where N > 20",
                Loss(Code::ComputedColumn, "`N` is computed", 5, col(98)),
            ),
            row(
                "unmapped field",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' and OddColumn == 'x'",
                Loss(Code::UnknownField, "`OddColumn` of DeviceProcessEvents has no UDM field", 5, col(54)),
            ),
            row(
                "unmapped table",
                "MyCustom_CL | where Msg == 'x'",
                Loss(Code::UnknownSource, "MyCustom_CL has no UDM log source", 5, col(0)),
            ),
            row(
                "source without tables",
                "datatable(A: string) ['x'] | where A == 'x'",
                Loss(Code::UnknownSource, "the tables of `datatable` are not known", 5, col(0)),
            ),
            row(
                "test YARA-L cannot state",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' and Timestamp < ago(1d)",
                Loss(Code::ConditionDropped, "the `Lt` test on `Timestamp` with these values has no YARA-L form", 5, col(54)),
            ),
            row(
                "time range ending in the past",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' and Timestamp between (ago(2d) .. ago(1d))",
                Loss(Code::ConditionDropped, "the `Between` test on `Timestamp` with these values has no YARA-L form", 5, col(54)),
            ),
            row(
                "`or` with an untranslated part",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' or Timestamp < ago(1d)",
                Loss(Code::ConditionDropped, "an `or` group with an untranslated part is left out", 5, col(28)),
            ),
            row(
                "negation of an untranslated test",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' and not(Timestamp < ago(1d))",
                Loss(Code::ConditionDropped, "a negated test that is not translated is left out", 5, col(58)),
            ),
            row(
                "anti join",
                "SigninLogs | where ResultType == '0'\n| join kind=leftanti (AuditLogs | where OperationName == 'x') on CorrelationId",
                Loss(Code::CorrelationUnsupported, "the anti join means no matching $e2", 6, 5),
            ),
            row(
                "outer join",
                "SigninLogs | where ResultType == '0'\n| join kind=leftouter (AuditLogs | where OperationName == 'x') on CorrelationId",
                Loss(Code::CorrelationUnsupported, "the LeftOuter join needs both sides here", 6, 5),
            ),
            row(
                "condition on joined rows",
                "SigninLogs | where ResultType == '0'\n| join kind=inner (AuditLogs | where OperationName == 'x') on CorrelationId\n| where OddColumn == 'x'",
                Loss(Code::CorrelationUnsupported, "a condition on joined rows", 7, 11),
            ),
            row(
                "join without keys",
                "SigninLogs | where ResultType == '0'\n| join kind=inner (AuditLogs | where OperationName == 'x') on $left.UserPrincipalName == tolower($right.Identity)",
                Loss(Code::CorrelationUnsupported, "a join without keys is not translated", 6, 5),
            ),
            row(
                "lookup of a watchlist",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' | lookup kind=inner (_GetWatchlist('hv') | project DeviceName=SearchKey) on DeviceName",
                Loss(Code::UnknownSource, "_GetWatchlist has no UDM log source", 5, col(71)),
            ),
            row(
                "union of derived rows",
                "union (SigninLogs | where ResultType == '0' | summarize count() by IPAddress), (AuditLogs | where OperationName == 'x')",
                Loss(Code::CorrelationUnsupported, "a `union` of joined or aggregated rows is not translated", 5, col(0)),
            ),
            row(
                "second aggregation",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress, UserPrincipalName\n| summarize m = dcount(UserPrincipalName) by IPAddress",
                Loss(Code::CorrelationUnsupported, "a second aggregation is not translated", 7, 5),
            ),
            row(
                "aggregation YARA-L lacks",
                "SigninLogs | where ResultType == '0'\n| summarize n = dcountif(UserPrincipalName, AppDisplayName == 'x') by IPAddress\n| where n > 5",
                Loss(Code::CorrelationUnsupported, "the aggregation `n` (DistinctCount) has no YARA-L outcome form", 6, 15),
            ),
            row(
                "threshold not translated",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress\n| where n > datetime(2024-01-01)",
                Loss(Code::CorrelationUnsupported, "the threshold on `n` is not translated", 7, 11),
            ),
            row(
                "condition on aggregated rows",
                "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress\n| where n > 5 or n < 2",
                Loss(Code::CorrelationUnsupported, "a condition on aggregated rows is not translated", 6, 5),
            ),
            row(
                "no key to group events by",
                "SigninLogs | where ResultType == '0'\n| summarize n = max(Duration)\n| where n > 5",
                Loss(Code::CorrelationUnsupported, "no key to group events by", 6, 5),
            ),
            row(
                "count without group keys",
                "SigninLogs | where ResultType == '0'\n| summarize n = count()\n| where n > 5",
                Loss(Code::CorrelationUnsupported, "no key to group events by", 6, 5),
            ),
            Row {
                keys: "queryFrequency: 1d\nqueryPeriod: 14d\n",
                ..row(
                    "window over 48h",
                    "SigninLogs | where ResultType == '0'\n| summarize n = count() by IPAddress\n| where n > 5",
                    Loss(Code::WindowChanged, "window is longer than YARA-L's 48h", 6, 5),
                )
            },
            row(
                "output without a UDM field",
                "DeviceProcessEvents | where FileName =~ 'cmd.exe' | project FileName, OddColumn",
                Loss(Code::UnknownField, "outputs without a UDM field are left out: OddColumn", 5, col(70)),
            ),
        ],
    );
}

/// The card shows the whole query, so what it cannot model is its only loss.
#[test]
fn markdown_reports_every_loss() {
    use Expect::{Exact, Loss};
    check(
        "markdown",
        &[
            row("clean rule", "SigninLogs | where ResultType == '50126' | project UserPrincipalName", Exact),
            row(
                "unmodelled construct",
                "SigninLogs | where ResultType == '50126' | take 5",
                Loss(Code::Unmodelled, "`take` is not translated", 5, col(43)),
            ),
        ],
    );
}

/// Over every corpus rule and each Detection-based target: a rule is `exact` only when its
/// Detection modelled everything (no unmodelled construct, no opaque condition) and no problem
/// of it is a loss.
#[test]
fn no_corpus_rule_is_exact_with_a_loss() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sentinel");
    if !corpus.is_dir() {
        shared::say_skipped(&format!("{} is absent", corpus.display()));
        return;
    }
    let read = convert::read_all(&convert::expand_inputs(&[corpus]), None);
    let mut violations = Vec::new();
    for name in ["sigma", "chronicle", "markdown"] {
        let (records, converted) = convert::convert(&read, Target::from_name(name).expect("registered"), &EmitOptions::default());
        for c in &converted {
            let record = &records[c.record];
            let opaque = c.detection.predicates().into_iter().any(has_opaque);
            let lossy = opaque || !c.detection.unmodelled.is_empty() || record.problems.iter().any(|p| p.kind == Kind::Loss);
            if record.fidelity == Some(Verdict::Exact) && lossy {
                violations.push(format!("{name}: {} ({})", record.source.display(), record.title.as_deref().unwrap_or("")));
            }
        }
        let count = |verdict| records.iter().filter(|r| r.fidelity == Some(verdict)).count();
        eprintln!(
            "{name}: {} exact, {} approximate, {} unsupported of {} rules",
            count(Verdict::Exact),
            count(Verdict::Approximate),
            count(Verdict::Unsupported),
            records.len()
        );
    }
    assert!(violations.is_empty(), "{} exact rules with a loss:\n{}", violations.len(), violations.join("\n"));
}

fn has_opaque(predicate: &Predicate) -> bool {
    match predicate {
        Predicate::Opaque { .. } => true,
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().any(has_opaque),
        Predicate::Not(inner) => has_opaque(inner),
        Predicate::Match(_) => false,
    }
}
