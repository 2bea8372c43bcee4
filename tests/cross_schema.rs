//! Cross-schema execution proof of Sigma → KQL (issue 18, item 4; skipped when ../shared is
//! absent). For every SigmaHQ rule of a category the event translator covers (process, file,
//! registry, network, image load), events aimed at the rule (matches and near misses) are
//! written as Sysmon logs them, with Sigma's field names. The Sigma rule judges them in
//! `../shared/tools/sigma-run` (rsigma). The same events, translated to Microsoft Defender XDR
//! rows by `support/sysmon_defender.rs` (written from Sysmon's and Microsoft's documentation
//! and sample rows, never from ruleconv's mapping), are judged by ruleconv's KQL (`--to kql`,
//! `sentinel` profile) in `../shared/tools/kql-run` (duckdb-kql), with the tables declared as
//! Microsoft documents them. The other profiles run alike: `azure-monitor` on process creation
//! as event 4688 in `SecurityEvent` (`support/sysmon_security_event.rs`), `asim` on the rows
//! Microsoft's own Sysmon parsers make (`support/sysmon_asim.rs`). The other direction, Sentinel
//! → Sigma, is `sentinel_to_sigma_agrees_across_schemas` below. An event Sysmon may log in
//! several shapes the rule does not tell apart (a registry value or key deletion, an inbound or
//! outbound connection) is tried in each,
//! and the first event is also written as each other Sigma category sharing its table (a file
//! creation rule must not fire on `FileDeleted` rows).
//!
//! An `exact` rule that disagrees on any row, or whose KQL does not run, is a bug: the test
//! fails on each one, except those listed in `tests/cross_schema_known.txt` (one Sigma file
//! name and the reviewed cause per line). It also fails on a listed rule that no longer
//! disagrees, so the list only shrinks; `RULECONV_BLESS=1` rewrites the list from the run, to
//! be reviewed like a golden diff.

#[path = "support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "support/same_rows.rs"]
mod same_rows;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/sigma_events.rs"]
mod sigma_events;
#[path = "support/sigma_run.rs"]
mod sigma_run;
#[path = "support/sysmon_asim.rs"]
mod sysmon_asim;
#[path = "support/sysmon_defender.rs"]
mod sysmon_defender;
#[path = "support/sysmon_security_event.rs"]
mod sysmon_security_event;

use kql_run::{Answer, Request};
use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target, Verdict};
use ruleconv::eval::generate::{self, Columns};
use ruleconv::eval::{Row, Table, time};
use ruleconv::ir::detection::Stage;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use sysmon_defender::{Category, Shape, to_sysmon, translate};

const NOW: &str = "2024-05-01T12:00:00Z";
/// When every event happened: inside any look-back.
const EVENT_TIME: &str = "2024-05-01T11:59:00Z";
/// Events per Sentinel rule.
const MAX_EVENTS: usize = 20;
/// The column that numbers the rows, so the rows kql-run returns say which ones matched.
const ROW: &str = "ruleconv_row";
const KNOWN: &str = "tests/cross_schema_known.txt";

/// What the Sigma rule says of a row.
#[derive(Clone, Copy)]
enum Expect {
    /// What sigma-run says of event i.
    Event(usize),
    /// The event written as another Sigma category: not the rule's events.
    Never,
}

/// A KQL profile under test, with the translator from Sysmon events to its tables.
#[derive(Clone, Copy, Debug)]
enum Schema {
    /// `sentinel`: the Defender XDR tables.
    Defender,
    /// `azure-monitor`: process creation as the Security event 4688 in `SecurityEvent`.
    SecurityEvent,
    /// `asim`: the rows Microsoft's ASIM parsers make of Sysmon's events.
    Asim,
}

impl Schema {
    /// Its section of the known list.
    fn section(self) -> &'static str {
        match self {
            Schema::Defender => "sigma-kql",
            Schema::SecurityEvent => "sigma-kql/azure-monitor",
            Schema::Asim => "sigma-kql/asim",
        }
    }

    fn profile(self) -> &'static str {
        match self {
            Schema::Defender => "sentinel",
            Schema::SecurityEvent => "azure-monitor",
            Schema::Asim => "asim",
        }
    }

    /// The table a category's events are translated to, when the translator covers it.
    fn table(self, category: Category) -> Option<&'static str> {
        match self {
            Schema::Defender => Some(category.table()),
            Schema::SecurityEvent => (category == Category::ProcessCreation).then_some("SecurityEvent"),
            Schema::Asim => sysmon_asim::table(category),
        }
    }

    /// Events per rule: fewer where the rules are many and the rows narrow, to keep the run short.
    fn max_events(self) -> usize {
        match self {
            Schema::Defender => 20,
            Schema::SecurityEvent | Schema::Asim => 12,
        }
    }

    /// The rows of a rule's events, each with what the Sigma says of it.
    fn rows(self, category: Category, events: &[Row]) -> Vec<(Row, Expect)> {
        let rows = match self {
            Schema::Defender => shaped_rows(category, events, translate),
            Schema::Asim => shaped_rows(category, events, sysmon_asim::translate),
            Schema::SecurityEvent => events
                .iter()
                .enumerate()
                .flat_map(|(i, e)| sysmon_security_event::translate(e).into_iter().map(move |row| (row, Expect::Event(i))))
                .collect(),
        };
        numbered(rows)
    }

    /// Documented columns the reference schema lacks.
    fn more_columns(self, table: &str) -> Columns {
        match self {
            Schema::Defender => {
                sysmon_defender::written_columns(table).into_iter().chain(sysmon_defender::unwritten_columns(table)).collect()
            }
            Schema::SecurityEvent => Vec::new(),
            Schema::Asim => sysmon_asim::unlisted_columns(table),
        }
    }

    /// The Sysmon fields the translator writes somewhere.
    fn translated(self, category: Category) -> &'static [&'static str] {
        match self {
            Schema::Defender => sysmon_defender::translated_fields(category),
            Schema::SecurityEvent => &sysmon_security_event::TRANSLATED,
            Schema::Asim => sysmon_asim::translated_fields(category),
        }
    }
}

struct Case {
    schema: Schema,
    file: String,
    category: Category,
    exact: bool,
    sigma: String,
    query: String,
    table: String,
    events: Vec<Row>,
    rows: Vec<(Row, Expect)>,
}

/// How one rule came out.
enum Outcome {
    Agree,
    /// Every distinct cause of a disagreeing row.
    Disagree(Vec<String>),
    /// ruleconv's KQL does not run on the table as Microsoft documents it.
    Fails(String),
    /// Not judged: sigma-run or kql-run cannot run it (says nothing about the conversion).
    Unjudged(String),
}

#[test]
fn sigma_to_kql_agrees_across_schemas() {
    sigma_to_kql(Schema::Defender, 1000);
}

#[test]
fn sigma_to_kql_azure_monitor_agrees_across_schemas() {
    sigma_to_kql(Schema::SecurityEvent, 800);
}

#[test]
fn sigma_to_kql_asim_agrees_across_schemas() {
    sigma_to_kql(Schema::Asim, 1000);
}

/// Runs the SigmaHQ rules the schema's translator covers; fails on an exact rule that
/// disagrees and is not in the schema's section of the known list.
fn sigma_to_kql(schema: Schema, min_rules: usize) {
    let Some([corpus, _, _]) = shared::all_shared_or_skip(["corpus/sigma/rules", "tools/sigma-run/sigma-run", "tools/kql-run/kql-run"])
    else {
        return;
    };
    let started = std::time::Instant::now();
    let now = time::parse_datetime(NOW).expect("pinned now");
    let schemas = kql_run::schemas();
    let read = convert::read_all(&convert::expand_inputs(&[corpus]), None);
    let options = EmitOptions { profile: Some(schema.profile().into()), ..EmitOptions::default() };
    let (records, converted) = convert::convert(&read, Target::from_name("kql").expect("registered"), &options);
    let mut cases = Vec::new();
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for rule in &converted {
        let (detection, Some(logic)) = (&rule.detection, rule.rule.sigma_logic()) else { continue };
        let logsource = detection.sources.first().and_then(|s| s.logsource.clone()).unwrap_or_default();
        let Some(category) = logsource.category.as_deref().and_then(Category::from_sigma) else { continue };
        let Some(expected_table) = schema.table(category) else { continue };
        if logsource.product.as_deref() != Some("windows") {
            continue;
        }
        if detection.sources.len() != 1 || !detection.stages.is_empty() {
            *skipped.entry("several sources or a correlation stage").or_default() += 1;
            continue;
        }
        let query: String = rule.text.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n");
        let table = query.lines().next().unwrap_or_default().trim().to_string();
        if table != expected_table {
            *skipped.entry("the KQL reads another table than the category's").or_default() += 1;
            continue;
        }
        let (_, mut events) = sigma_events::events_for(detection, now, schema.max_events());
        events.extend(domain_variants(&events));
        if events.is_empty() {
            *skipped.entry("no events generated").or_default() += 1;
            continue;
        }
        let rows = schema.rows(category, &events);
        let file = rule.input.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let exact = records[rule.record].fidelity == Some(Verdict::Exact);
        cases.push(Case { schema, file, category, exact, sigma: logic.text.clone(), query, table, events, rows });
    }
    assert!(cases.len() > min_rules, "only {} rules to compare: is the corpus complete?", cases.len());

    let converted_at = started.elapsed();
    let judged: Vec<(&str, &[Row])> = cases.iter().map(|c| (c.sigma.as_str(), c.events.as_slice())).collect();
    let sigma = sigma_run::verdicts(&kql_run::shared("tools/sigma-run/sigma-run"), &judged);
    let sigma_at = started.elapsed();
    let requests: Vec<Request> = cases.iter().map(|c| request(c, &schemas)).collect();
    let answers = kql_run::run_all(&requests);
    eprintln!(
        "  time: converted and generated {converted_at:.0?}, sigma-run until {sigma_at:.0?}, kql-run until {:.0?}",
        started.elapsed()
    );
    let outcomes: Vec<Outcome> = cases.iter().zip(&sigma).zip(&answers).map(|((c, s), a)| judge(c, s, a)).collect();

    report(schema, &cases, &outcomes, &skipped);
    let failures: BTreeMap<String, String> = cases
        .iter()
        .zip(outcomes.iter())
        .filter_map(|(c, o)| Some((c.file.clone(), failure(c, o)?.join(" | ").replace(['\t', '\n'], " "))))
        .collect();
    check_known(schema.section(), &failures);
}

/// Sysmon writes a user as `DOMAIN\name` (`NT AUTHORITY\SYSTEM`); an aimed value without a
/// domain is also tried as the domain of a name, where rules look for it (`User|contains:
/// 'AUTHORI'`).
fn domain_variants(events: &[Row]) -> Vec<Row> {
    let mut variants = Vec::new();
    for event in events {
        for field in ["User", "ParentUser"] {
            let Some(value) = event.get(field).and_then(Json::as_str).filter(|v| !v.is_empty() && !v.contains('\\')) else { continue };
            let mut variant = event.clone();
            variant.insert(field.into(), json!(format!("{value}\\SYSTEM")));
            variants.push(variant);
        }
    }
    variants
}

/// The rows of a rule's events: each event in every shape it may have, then the first event as
/// each neighbouring category (which shares the table in Defender XDR and ASIM alike).
fn shaped_rows(category: Category, events: &[Row], translate: fn(Category, Shape, &Row) -> Row) -> Vec<(Row, Expect)> {
    let mut rows = Vec::new();
    for (i, event) in events.iter().enumerate() {
        for shape in category.shapes(event) {
            rows.push((translate(category, shape, event), Expect::Event(i)));
        }
    }
    for neighbour in category.neighbours() {
        rows.push((translate(*neighbour, neighbour.own_shape(), &events[0]), Expect::Never));
    }
    rows
}

/// Rows numbered in `ROW` and stamped inside any look-back.
fn numbered(mut rows: Vec<(Row, Expect)>) -> Vec<(Row, Expect)> {
    for (n, (row, _)) in rows.iter_mut().enumerate() {
        row.insert(ROW.into(), json!(n));
        row.insert("TimeGenerated".into(), json!(EVENT_TIME));
        row.insert("Timestamp".into(), json!(EVENT_TIME));
    }
    rows
}

/// The KQL over the table as documented: the reference schema, the columns the translator
/// writes, the documented columns the reference lacks, and the row number.
fn request(case: &Case, schemas: &ruleconv::eval::generate::Schemas) -> Request {
    let mut columns: Columns = schemas.get(&case.table).cloned().unwrap_or_default();
    for (name, kind) in case.schema.more_columns(&case.table) {
        if !columns.iter().any(|(c, _)| *c == name) {
            columns.push((name, kind));
        }
    }
    // Only the columns the query names (it can read no other), which makes the engine several
    // times faster than with the whole table; the row number to know the rows by.
    columns.retain(|(c, _)| case.query.contains(c.as_str()));
    columns.push((ROW.to_string(), "long".to_string()));
    let rows = case.rows.iter().map(|(r, _)| r.clone()).collect();
    Request { query: case.query.clone(), now: NOW.into(), tables: [(case.table.clone(), (columns, rows))].into_iter().collect() }
}

fn judge(case: &Case, sigma: &Result<Vec<bool>, String>, answer: &Answer) -> Outcome {
    let matched = match sigma {
        Ok(m) if m.len() == case.events.len() => m,
        Ok(_) => return Outcome::Unjudged("sigma-run: not one verdict per event".into()),
        Err(e) => return Outcome::Unjudged(format!("sigma-run: {e}")),
    };
    let (columns, rows) = match answer {
        Answer::Rows { columns, rows } => (columns, rows),
        Answer::Unsupported(e) => return Outcome::Unjudged(format!("kql-run: {e}")),
        // The engine's own limit (deeply nested expressions), not the query's fault.
        Answer::Error(e) if e.contains("RecursionError") => return Outcome::Unjudged(format!("kql-run: {e}")),
        Answer::Error(e) => return Outcome::Fails(e.clone()),
    };
    let Some(at) = columns.iter().position(|c| c == ROW) else {
        return Outcome::Unjudged("the KQL's rows do not keep the row number".into());
    };
    let selected: BTreeSet<u64> = rows.iter().filter_map(|r| r.get(at).and_then(Json::as_u64)).collect();
    let mut differences = BTreeSet::new();
    for (n, (row, expect)) in case.rows.iter().enumerate() {
        let expected = match expect {
            Expect::Event(i) => matched[*i],
            Expect::Never => false,
        };
        if selected.contains(&(n as u64)) != expected {
            differences.insert(difference(case, row, *expect, expected));
        }
    }
    if differences.is_empty() { Outcome::Agree } else { Outcome::Disagree(differences.into_iter().collect()) }
}

/// Why a registry row disagrees: a string that starts with a short hive name as Sysmon prints it
/// (Defender spells them out), else the value name, which Defender keeps apart from the key.
fn registry_cause(query: &str) -> &'static str {
    let upper = query.to_ascii_uppercase();
    if ["\"HKLM", "\"HKU", "\"HKCU", "\"HKCR"].iter().any(|h| upper.contains(h)) {
        "TargetObject: hive spelled as Sysmon prints it (HKLM, HKU), not as Defender stores it (HKEY_LOCAL_MACHINE ...)"
    } else {
        "TargetObject: a value name tested in RegistryKey (Defender keeps it in RegistryValueName)"
    }
}

/// Why one row disagrees, as a cause a reviewer can group by.
fn difference(case: &Case, row: &Row, expect: Expect, expected: bool) -> String {
    // What the row records: Defender's `ActionType`, ASIM's `EventType`.
    let action = ["ActionType", "EventType"].iter().find_map(|c| row.get(*c).and_then(Json::as_str)).unwrap_or_default();
    let Expect::Event(i) = expect else {
        return format!("category scoping: a {:?} rule fires on {action} rows", case.category);
    };
    let event = &case.events[i];
    if action == "InboundConnectionAccepted" || row.get("NetworkDirection").and_then(Json::as_str) == Some("Inbound") {
        return "network direction: an inbound connection (Sysmon's destination is this device, Defender's remote end is not)".into();
    }
    let translated = case.schema.translated(case.category);
    let dropped: Vec<&str> = event.keys().map(String::as_str).filter(|f| !translated.contains(f)).collect();
    if !dropped.is_empty() {
        return format!("{} not in Sysmon's {:?} event or without a column in {}", dropped.join(", "), case.category, case.table);
    }
    let tested = |f: &str| event.get(f).is_some();
    let kind = if expected { "Sigma matches, KQL does not" } else { "KQL matches, Sigma does not" };
    let field = [
        ("TargetObject", registry_cause(&case.query)),
        ("Details", "Details: registry value data format"),
        ("Hashes", "Hashes: per-algorithm columns"),
        ("User", "User: domain and name"),
        ("ParentUser", "User: domain and name"),
        ("Initiated", "Initiated: network direction"),
        ("SourceIp", "network endpoints: local/remote vs source/destination"),
        ("SourcePort", "network endpoints: local/remote vs source/destination"),
        ("DestinationIp", "network endpoints: local/remote vs source/destination"),
        ("DestinationPort", "network endpoints: local/remote vs source/destination"),
    ]
    .iter()
    .find(|(f, _)| tested(f))
    .map(|(_, cause)| cause.to_string());
    // Which shape disagreed, when the event could have several.
    let shape = if case.category.shapes(event).len() > 1 { format!(" ({action} row)") } else { String::new() };
    let fields: Vec<&str> = event.keys().map(String::as_str).collect();
    field.unwrap_or_else(|| format!("other: fields {}", fields.join(", "))) + &format!("{shape}; {kind}")
}

fn report(schema: Schema, cases: &[Case], outcomes: &[Outcome], skipped: &BTreeMap<&str, usize>) {
    let events: usize = cases.iter().map(|c| c.events.len()).sum();
    let rows: usize = cases.iter().map(|c| c.rows.len()).sum();
    eprintln!(
        "cross-schema Sigma → KQL ({} profile, Sysmon events → {schema:?} rows): {} rules, {events} events, {rows} rows",
        schema.profile(),
        cases.len()
    );
    for exact in [true, false] {
        let picked: Vec<&Outcome> = cases.iter().zip(outcomes).filter(|(c, _)| c.exact == exact).map(|(_, o)| o).collect();
        let count = |f: fn(&Outcome) -> bool| picked.iter().filter(|o| f(o)).count();
        eprintln!(
            "  {}: {} rules; agree on every row {}, disagree {}, KQL does not run {}, not judged {}",
            if exact { "exact" } else { "approximate" },
            picked.len(),
            count(|o| matches!(o, Outcome::Agree)),
            count(|o| matches!(o, Outcome::Disagree(_))),
            count(|o| matches!(o, Outcome::Fails(_))),
            count(|o| matches!(o, Outcome::Unjudged(_))),
        );
    }
    skipped.iter().for_each(|(why, n)| eprintln!("  not compared x{n}: {why}"));
    let mut unjudged: BTreeMap<String, usize> = BTreeMap::new();
    for o in outcomes {
        if let Outcome::Unjudged(why) = o {
            *unjudged.entry(why.chars().take(90).collect()).or_default() += 1;
        }
    }
    unjudged.iter().for_each(|(why, n)| eprintln!("  not judged x{n}: {why}"));
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    for (case, outcome) in cases.iter().zip(outcomes) {
        let groups: BTreeSet<String> = failure(case, outcome).into_iter().flatten().map(|c| cause_group(&c)).collect();
        groups.into_iter().for_each(|group| *causes.entry(group).or_default() += 1);
    }
    eprintln!("  exact rules wrong, by cause (a rule may have several):");
    causes.iter().for_each(|(cause, n)| eprintln!("    {n:4}  {cause}"));
}

/// The causes of an exact rule's failure, or `None` when it is not one.
fn failure(case: &Case, outcome: &Outcome) -> Option<Vec<String>> {
    if !case.exact {
        return None;
    }
    match outcome {
        Outcome::Disagree(causes) => Some(causes.clone()),
        Outcome::Fails(error) => Some(vec![run_error(case, error)]),
        _ => None,
    }
}

/// Why the KQL does not run, in words: most often a column the table does not have.
fn run_error(case: &Case, error: &str) -> String {
    let column = error.split("Referenced column \"").nth(1).and_then(|rest| rest.split('"').next());
    match column {
        Some(column) => format!("KQL does not run: {} has no column {column}", case.table),
        None => format!("KQL does not run: {}", error.lines().next().unwrap_or_default()),
    }
}

/// A cause without its particulars, to count by.
fn cause_group(cause: &str) -> String {
    let cut = cause.find(" (").or_else(|| cause.find(';')).unwrap_or(cause.len());
    let group = &cause[..cut];
    if group.starts_with("other:") { "other".into() } else { group.chars().take(110).collect() }
}

/// Every exact failure must be listed, and every listed rule must still fail. Each direction
/// owns the entries of its section (`[sigma-kql]`, `[sentinel-sigma]`) of the known list.
fn check_known(section: &str, failures: &BTreeMap<String, String>) {
    // The tests run in parallel and rewrite the same file when blessing.
    static FILE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _file = FILE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(KNOWN);
    let listed = std::fs::read_to_string(&path).unwrap_or_default();
    let sections = known_sections(&listed);
    if std::env::var_os("RULECONV_BLESS").is_some() {
        let mut sections = sections;
        sections.insert(section.to_string(), failures.iter().map(|(rule, cause)| format!("{rule}\t{cause}")).collect());
        let mut text = String::from(
            "# Exact rules whose conversion disagrees with their source across schemas (tests/cross_schema.rs):\n\
             # per direction, the rule's file (Sigma: file name; Sentinel: path under corpus/sentinel), a tab,\n\
             # and the causes. Reviewed; the list may only shrink.\n",
        );
        for (name, lines) in &sections {
            text.push_str(&format!("[{name}]\n"));
            lines.iter().for_each(|l| text.push_str(&format!("{l}\n")));
        }
        std::fs::write(&path, text).expect("write the known list");
        return;
    }
    let known: BTreeSet<&str> = sections.get(section).into_iter().flatten().map(|l| l.split('\t').next().unwrap_or(l).trim()).collect();
    let new: Vec<String> = failures.iter().filter(|(f, _)| !known.contains(f.as_str())).map(|(f, c)| format!("{f}: {c}")).collect();
    let fixed: Vec<&&str> = known.iter().filter(|f| !failures.contains_key(**f)).collect();
    eprintln!("  known disagreements listed [{section}]: {}, still failing: {}", known.len(), known.len() - fixed.len());
    assert!(new.is_empty(), "{} exact rules disagree across schemas and are not in {KNOWN} [{section}]:\n{}", new.len(), new.join("\n"));
    assert!(
        fixed.is_empty(),
        "{} rules in {KNOWN} [{section}] no longer fail as exact (fixed, or no longer exact): remove them:\n{fixed:?}",
        fixed.len()
    );
}

/// The known list's entries by section.
fn known_sections(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        match line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            Some(name) => current = name.to_string(),
            None => sections.entry(current.clone()).or_default().push(line.to_string()),
        }
    }
    sections
}

/// A Sentinel rule converted to Sigma, with its rows and their Sysmon events.
struct SentinelCase {
    /// The rule's path under corpus/sentinel.
    file: String,
    exact: bool,
    category: Category,
    sigma: String,
    query: String,
    table: String,
    columns: Columns,
    /// Defender rows generated from the query, made whole.
    rows: Vec<Row>,
    /// Each row as Sysmon logs it, with its category; `None` when Sysmon logs no such event.
    events: Vec<Option<(Category, Row)>>,
    /// Columns the query computes: its rows' other columns.
    computed: BTreeSet<String>,
}

/// The other direction: Sentinel rules on the Defender tables, converted `--to sigma` under a
/// Sysmon logsource. Rows generated from the query (made whole as Defender writes them: a
/// `FolderPath` that ends in its `FileName`, an `ActionType`) are judged by the original KQL
/// in kql-run; the same rows, translated back to Sysmon events, by the emitted Sigma in
/// sigma-run, which sees only the events of its logsource's category. The rows each selects
/// must be the same; an `exact` rule that differs is listed in the known list like the others.
#[test]
fn sentinel_to_sigma_agrees_across_schemas() {
    let Some([corpus, _, _]) = shared::all_shared_or_skip(["corpus/sentinel", "tools/sigma-run/sigma-run", "tools/kql-run/kql-run"]) else {
        return;
    };
    let now = time::parse_datetime(NOW).expect("pinned now");
    let schemas = kql_run::schemas();
    let read = convert::read_all(&convert::expand_inputs(std::slice::from_ref(&corpus)), None);
    let (records, converted) = convert::convert(&read, Target::from_name("sigma").expect("registered"), &EmitOptions::default());
    let mut cases = Vec::new();
    let mut other_logsource = 0;
    for rule in &converted {
        let detection = &rule.detection;
        let [source] = detection.sources.as_slice() else { continue };
        let [table] = source.tables.as_slice() else { continue };
        let translated = sysmon_defender::TABLES.contains(&table.as_str()) || table == "SecurityEvent";
        let Some(columns) = schemas.get(table).filter(|_| translated) else { continue };
        if !detection.stages.iter().all(|s| matches!(s, Stage::Extend { .. })) || rule.text.contains("\n---\n") {
            continue;
        }
        let Some(category) = sigma_category(&rule.text) else {
            other_logsource += 1;
            continue;
        };
        let Some(query) = rule.rule.kql().map(|q| q.text.clone()) else { continue };
        let mut rows: Vec<Row> = generate::scenarios(detection, &schemas, now).into_iter().next().unwrap_or_default();
        rows.truncate(MAX_EVENTS);
        rows.extend(accepted_connections(table, &rows));
        // The Sigma leaves the look-back to the schedule (a reported change): every row is
        // inside it.
        let look_back = look_back_columns(detection);
        rows.iter_mut().for_each(|row| {
            whole_row(table, row);
            look_back.iter().for_each(|c| _ = row.insert(c.clone(), json!(EVENT_TIME)));
        });
        let events: Vec<Option<(Category, Row)>> = rows.iter().map(|r| sysmon_event(table, r)).collect();
        let file = rule.input.path.strip_prefix(&corpus).unwrap_or(&rule.input.path).to_string_lossy().into_owned();
        let exact = records[rule.record].fidelity == Some(Verdict::Exact);
        let computed: BTreeSet<String> = source.computed.iter().map(|c| c.name.clone()).collect();
        let (sigma, table, columns) = (rule.text.clone(), table.clone(), columns.clone());
        cases.push(SentinelCase { file, exact, category, sigma, query, table, columns, rows, events, computed });
    }
    let judged: Vec<(&str, Vec<Row>)> =
        cases.iter().map(|c| (c.sigma.as_str(), c.events.iter().flatten().map(|(_, e)| e.clone()).collect())).collect();
    let judged: Vec<(&str, &[Row])> = judged.iter().map(|(s, e)| (*s, e.as_slice())).collect();
    let sigma = sigma_run::verdicts(&kql_run::shared("tools/sigma-run/sigma-run"), &judged);
    let requests: Vec<Request> = cases
        .iter()
        .map(|c| Request {
            query: c.query.clone(),
            now: NOW.into(),
            tables: [(c.table.clone(), (c.columns.clone(), c.rows.clone()))].into_iter().collect(),
        })
        .collect();
    let answers = kql_run::run_all(&requests);
    let (mut agree, mut failures) = (0, BTreeMap::new());
    let mut unjudged = 0;
    for (case, (sigma, answer)) in cases.iter().zip(sigma.iter().zip(&answers)) {
        let (Ok(matches), Answer::Rows { columns: returned, rows: selected }) = (sigma, answer) else {
            unjudged += 1;
            continue;
        };
        // The rows whose Sysmon event is of the rule's category and matched.
        let mut verdicts = matches.iter();
        let chosen: Vec<Row> = case
            .rows
            .iter()
            .zip(&case.events)
            .filter_map(|(row, event)| {
                let (seen, _) = event.as_ref()?;
                let matched = *verdicts.next()?;
                (matched && sysmon_defender::sees(case.category, *seen)).then(|| row.clone())
            })
            .collect();
        let kept = returned.iter().filter(|c| case.columns.iter().any(|(k, _)| k == *c) && !case.computed.contains(*c)).cloned().collect();
        let expected = Table { columns: kept, not_evaluated: Vec::new(), rows: chosen };
        match same_rows::compare(&expected, returned, selected) {
            Ok(()) => agree += 1,
            Err(difference) => {
                let unknown = unknown_sigma_fields(&case.sigma, case.category);
                let cause = if unknown.is_empty() {
                    format!("selects other rows: {}", difference.replace("ours", "sigma").chars().take(160).collect::<String>())
                } else {
                    format!("fields the translated Sysmon {:?} event lacks: {}", case.category, unknown.join(", "))
                };
                failures.insert(case.file.clone(), (case.exact, cause));
            }
        }
    }
    let exact = cases.iter().filter(|c| c.exact).count();
    eprintln!(
        "cross-schema Sentinel → Sigma (Defender rows → Sysmon events): {} rules under a Sysmon logsource ({exact} exact), {} rows; {agree} agree, {} differ ({} exact), {unjudged} not judged; {other_logsource} rules on these tables with another logsource",
        cases.len(),
        cases.iter().map(|c| c.rows.len()).sum::<usize>(),
        failures.len(),
        failures.values().filter(|(e, _)| *e).count(),
    );
    assert!(!cases.is_empty(), "no Sentinel rule on a Defender table converts under a Sysmon logsource");
    let exact_failures: BTreeMap<String, String> =
        failures.into_iter().filter(|(_, (exact, _))| *exact).map(|(f, (_, c))| (f, c.replace(['\t', '\n'], " "))).collect();
    check_known("sentinel-sigma", &exact_failures);
}

/// The fields the Sigma's detection names that Sysmon's event of `category` does not have
/// (the translator's list of them, which is Sysmon's).
fn unknown_sigma_fields(sigma: &str, category: Category) -> Vec<String> {
    let Some(document) = ruleconv::yaml::parse_documents(sigma).ok().and_then(|d| d.into_iter().next()) else { return Vec::new() };
    let known = sysmon_defender::translated_fields(category);
    let mut unknown = BTreeSet::new();
    let mut visit = |map: &serde_json::Map<String, Json>| {
        for key in map.keys() {
            let field = key.split('|').next().unwrap_or(key);
            if !field.is_empty() && !known.contains(&field) {
                unknown.insert(field.to_string());
            }
        }
    };
    for (name, selection) in document.to_json()["detection"].as_object().into_iter().flatten() {
        if name == "condition" {
            continue;
        }
        match selection {
            Json::Object(map) => visit(map),
            Json::Array(items) => items.iter().filter_map(Json::as_object).for_each(&mut visit),
            _ => {}
        }
    }
    unknown.into_iter().collect()
}

/// The columns the query tests against `ago(...)` or `now()`: its look-back.
fn look_back_columns(detection: &ruleconv::ir::Detection) -> BTreeSet<String> {
    use ruleconv::ir::detection::{Predicate, Value};
    fn walk(predicate: &Predicate, out: &mut BTreeSet<String>) {
        match predicate {
            Predicate::Match(m) if m.values.iter().any(|v| matches!(v, Value::Ago(_) | Value::Now)) => _ = out.insert(m.field.name.clone()),
            Predicate::And(parts) | Predicate::Or(parts) => parts.iter().for_each(|p| walk(p, out)),
            Predicate::Not(inner) => walk(inner, out),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    detection.sources.iter().for_each(|s| walk(&s.filter, &mut out));
    out
}

/// The emitted Sigma's logsource category, when it is one the translator covers on Windows.
fn sigma_category(sigma: &str) -> Option<Category> {
    let document = ruleconv::yaml::parse_documents(sigma).ok()?.into_iter().next()?.to_json();
    let logsource = &document["logsource"];
    (logsource["product"] == "windows" || logsource["product"].is_null()).then_some(())?;
    Category::from_sigma(logsource["category"].as_str()?)
}

/// A row as the Sysmon event that records the same activity, with its category: Defender's
/// tables, and the Security event 4688 (a process creation).
fn sysmon_event(table: &str, row: &Row) -> Option<(Category, Row)> {
    match table {
        "SecurityEvent" => sysmon_security_event::to_sysmon(row).map(|event| (Category::ProcessCreation, event)),
        _ => to_sysmon(table, row),
    }
}

/// Where the query leaves a connection's direction open, each row also as an accepted inbound
/// connection: its Local* and Remote* columns are then the other ends of Sysmon's event.
fn accepted_connections(table: &str, rows: &[Row]) -> Vec<Row> {
    let open = |row: &&Row| row.get("ActionType").and_then(Json::as_str).is_none_or(str::is_empty);
    let inbound = |row: &Row| {
        let mut row = row.clone();
        row.insert("ActionType".into(), json!("InboundConnectionAccepted"));
        row
    };
    if table != "DeviceNetworkEvents" { Vec::new() } else { rows.iter().filter(open).map(inbound).collect() }
}

/// A generated row made whole as Defender writes it: an `ActionType` of the table's usual
/// kind when the query does not choose one, and each path ending in its file name.
fn whole_row(table: &str, row: &mut Row) {
    let text = |row: &Row, c: &str| row.get(c).and_then(Json::as_str).unwrap_or_default().to_string();
    if table == "SecurityEvent" {
        // Event 4688's `Process` is the last part of `NewProcessName`.
        let (path, name) = (text(row, "NewProcessName"), text(row, "Process"));
        if path.is_empty() && !name.is_empty() {
            row.insert("NewProcessName".into(), json!(format!("C:\\Windows\\System32\\{name}")));
        } else if !path.is_empty() {
            row.insert("Process".into(), json!(path.rsplit('\\').next().unwrap_or_default()));
        }
        return;
    }
    if text(row, "ActionType").is_empty() {
        row.insert("ActionType".into(), json!(sysmon_defender::usual_action(table)));
    }
    for prefix in ["", "InitiatingProcess", "Previous"] {
        let (folder, name) = (format!("{prefix}FolderPath"), format!("{prefix}FileName"));
        if !row.contains_key(&folder) || !row.contains_key(&name) {
            continue;
        }
        let (path, file) = (text(row, &folder), text(row, &name));
        if !file.is_empty() && !path.to_ascii_lowercase().ends_with(&file.to_ascii_lowercase()) {
            let base = if path.is_empty() { "C:\\Windows\\System32".to_string() } else { path.trim_end_matches('\\').to_string() };
            row.insert(folder, json!(format!("{base}\\{file}")));
        } else if file.is_empty() && !path.is_empty() {
            let last = path.rsplit(['\\', '/']).next().unwrap_or_default().to_string();
            row.insert(name, json!(last));
        }
    }
}

/// A JSON-lines fixture of the translators' tests (`tests/fixtures-events/cross_schema/ORIGIN.md`).
fn fixture_lines(name: &str) -> Vec<Json> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures-events/cross_schema").join(name);
    let text = std::fs::read_to_string(path).expect("fixture");
    text.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

/// The translator on real events: SigmaHQ's recorded Sysmon events become the rows Microsoft's
/// documentation describes, and real DeviceProcessEvents rows are what the translator writes
/// for the Sysmon event of the same process.
#[test]
fn translator_writes_rows_as_defender_records_them() {
    let sysmon = fixture_lines("sysmon_events.jsonl");
    assert_eq!(sysmon.len(), 7);
    for sample in &sysmon {
        let category = Category::from_sigma(sample["category"].as_str().unwrap()).expect("covered category");
        let event = sample["event"].as_object().unwrap();
        let shapes = category.shapes(event);
        assert_eq!(shapes.len(), 1, "{}: the event says its shape", sample["origin"]);
        let row = translate(category, shapes[0], event);
        let expected = sample["expected"].as_object().unwrap();
        assert_eq!(&row, expected, "{}", sample["origin"]);
    }

    for real in fixture_lines("defender_process_rows.jsonl") {
        let column = |c: &str| real[c].as_str().unwrap_or_default().to_string();
        let hashes = format!(
            "SHA1={},MD5={},SHA256={},IMPHASH=00000000000000000000000000000000",
            column("SHA1").to_uppercase(),
            column("MD5").to_uppercase(),
            column("SHA256").to_uppercase()
        );
        // The Sysmon event 1 of the same process, as Sysmon formats its fields.
        let event: Row = [
            ("Computer", json!(column("DeviceName"))),
            ("Image", json!(column("FolderPath"))),
            ("CommandLine", json!(column("ProcessCommandLine"))),
            ("User", json!(format!("{}\\{}", column("AccountDomain"), column("AccountName")))),
            ("LogonId", json!(format!("0x{:x}", real["LogonId"].as_i64().unwrap()))),
            ("Hashes", json!(hashes)),
            ("ProcessId", json!(real["ProcessId"])),
            ("ParentProcessId", json!(real["InitiatingProcessId"])),
            ("ParentImage", json!(column("InitiatingProcessFolderPath"))),
            ("ParentCommandLine", json!(column("InitiatingProcessCommandLine"))),
            ("ParentUser", json!(format!("{}\\{}", column("InitiatingProcessAccountDomain"), column("InitiatingProcessAccountName")))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let row = translate(Category::ProcessCreation, Shape::Plain, &event);
        for (name, value) in &row {
            assert_eq!(Some(value), real.get(name), "{name} of report {}", real["ReportId"]);
        }
        assert!(row.len() >= 17, "every column of the sample row is written: {row:?}");
    }
}

/// Back from Defender: each documented row of the Sysmon samples becomes the Sysmon event it
/// came from, in the fields both record (the import hash has no Defender column).
#[test]
fn translator_reads_defender_rows_back_as_sysmon_events() {
    for sample in fixture_lines("sysmon_events.jsonl") {
        let category = Category::from_sigma(sample["category"].as_str().unwrap()).expect("covered category");
        let row = sample["expected"].as_object().unwrap();
        let (seen, event) = to_sysmon(category.table(), row).expect("a row Sysmon logs");
        assert!(sysmon_defender::sees(category, seen), "{}: read back as {seen:?}", sample["origin"]);
        let text = |v: &Json| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        for (field, value) in &event {
            let original = text(&sample["event"][field]);
            let ok = if field == "Hashes" { original.starts_with(&text(value)) } else { original == text(value) };
            assert!(ok, "{}: {field} read back as {value}, recorded {original}", sample["origin"]);
        }
        assert!(event.len() >= 4, "{}: {event:?}", sample["origin"]);
    }
}

/// Sysmon's recorded process creation as the 4688 event Microsoft documents for it: the new
/// process's account is the target subject, or, when it shares the creator's logon (the
/// target is then left out), the creator subject.
#[test]
fn security_event_translator_writes_event_4688() {
    let sample = fixture_lines("sysmon_events.jsonl").into_iter().find(|s| s["category"] == "process_creation").unwrap();
    let event = sample["event"].as_object().unwrap();
    let rows: Vec<Json> = sysmon_security_event::translate(event).into_iter().map(Json::Object).collect();
    let process = json!({
        "EventID": 4688,
        "Computer": "ar-win-dc.attackrange.local",
        "NewProcessName": "C:\\Windows\\System32\\certutil.exe",
        "CommandLine": "certutil  -decode file.base64 file-decoded.ext",
        "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
        "NewProcessId": "0x13f8",
        "ProcessId": "0x18a0",
        "MandatoryLabel": "S-1-16-12288",
        "Account": "ATTACKRANGE\\Administrator",
        "SubjectUserName": "Administrator",
        "SubjectDomainName": "ATTACKRANGE",
    });
    let with = |pairs: &[(&str, &str)]| {
        let mut row = process.clone();
        for (column, value) in pairs {
            row[*column] = json!(value);
        }
        row
    };
    let domain_sid = "S-1-5-21-1004336348-1177238915-682003330-1001";
    let own_logon = with(&[
        ("TargetUserSid", domain_sid),
        ("TargetUserName", "Administrator"),
        ("TargetDomainName", "ATTACKRANGE"),
        ("TargetLogonId", "0x529ae3"),
        ("SubjectUserSid", domain_sid),
    ]);
    let shared_logon = with(&[
        ("SubjectUserSid", domain_sid),
        ("SubjectLogonId", "0x529ae3"),
        ("TargetUserSid", "S-1-0-0"),
        ("TargetUserName", "-"),
        ("TargetDomainName", "-"),
        ("TargetLogonId", "0x0"),
    ]);
    assert_eq!(rows, [own_logon, shared_logon]);
    // Back: each shape of the event is the Sysmon event it came from, in the fields 4688 records.
    for row in &rows {
        let back = sysmon_security_event::to_sysmon(row.as_object().unwrap()).expect("event 4688");
        for field in sysmon_security_event::TRANSLATED {
            assert_eq!(back.get(field), event.get(field), "{field} of {row}");
        }
    }

    // The local system account is the computer's, in the computer's domain (Microsoft's sample:
    // S-1-5-18 is `WIN-GG82ULGC9GO$` of CONTOSO on WIN-GG82ULGC9GO.contoso.local).
    let mut system = event.clone();
    system.insert("User".into(), json!("NT AUTHORITY\\SYSTEM"));
    system.insert("ParentUser".into(), json!("ATTACKRANGE\\Administrator"));
    let rows = sysmon_security_event::translate(&system);
    assert_eq!(rows.len(), 1, "another account than the creator's has a logon of its own");
    let target: Vec<&str> = ["TargetUserSid", "TargetDomainName", "TargetUserName"].iter().map(|c| rows[0][*c].as_str().unwrap()).collect();
    assert_eq!(target, ["S-1-5-18", "ATTACKRANGE", "AR-WIN-DC$"]);
}

/// Sysmon's recorded events as the rows Microsoft's ASIM parsers make of them (written by hand
/// from the parsers, `asim_rows.jsonl`): the whole row, aliases included.
#[test]
fn asim_translator_writes_rows_as_microsofts_parsers_do() {
    let events = fixture_lines("sysmon_events.jsonl");
    let expected = fixture_lines("asim_rows.jsonl");
    assert_eq!(expected.len(), 5);
    for sample in &expected {
        let event = events.iter().find(|e| e["origin"] == sample["origin"]).expect("the Sysmon event of the row");
        let category = Category::from_sigma(sample["category"].as_str().unwrap()).expect("covered category");
        let event = event["event"].as_object().unwrap();
        let shapes = category.shapes(event);
        assert_eq!(shapes.len(), 1, "{}: the event says its shape", sample["origin"]);
        let row = sysmon_asim::translate(category, shapes[0], event);
        assert_eq!(&row, sample["expected"].as_object().unwrap(), "{}", sample["origin"]);
    }
    // Hives as the registry parser spells them; other keys unchanged.
    assert_eq!(sysmon_asim::asim_key("HKU\\S-1-5-21-1\\Software"), "HKEY_USERS\\S-1-5-21-1\\Software");
    assert_eq!(sysmon_asim::asim_key("HKCR\\CLSID"), "HKEY_LOCAL_MACHINE\\Classes\\CLSID");
    assert_eq!(sysmon_asim::asim_key("\\SOFTWARE\\x"), "\\SOFTWARE\\x");
    // An accepted connection: the process is the destination's.
    let inbound: Row = [("Initiated", "false"), ("Image", "C:\\x.exe"), ("SourceIp", "10.0.0.9"), ("DestinationIp", "10.0.0.1")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let row = sysmon_asim::translate(Category::NetworkConnection, Shape::Connection { outbound: false }, &inbound);
    assert_eq!((row["NetworkDirection"].as_str(), row["DstProcessName"].as_str()), (Some("Inbound"), Some("C:\\x.exe")));
    assert_eq!((row["SrcIpAddr"].as_str(), row.get("SrcProcessName")), (Some("10.0.0.9"), None));
}

/// The translators are the independent side: they must not read ruleconv's own mapping or emitter.
#[test]
fn translators_use_nothing_of_ruleconv_but_its_row_type() {
    for source in [
        include_str!("support/sysmon_defender.rs"),
        include_str!("support/sysmon_security_event.rs"),
        include_str!("support/sysmon_asim.rs"),
    ] {
        let code: Vec<&str> = source.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        let uses: Vec<&&str> = code.iter().filter(|l| l.contains("ruleconv::")).collect();
        assert_eq!(uses, [&"use ruleconv::eval::Row;"], "a translator names ruleconv beyond the row type");
        assert!(!code.iter().any(|l| l.contains("include_str!") || l.contains("targets/")), "a translator reads a file");
    }
}

/// Value formats the samples do not show, from the vendors' documentation.
#[test]
fn translator_converts_value_formats() {
    // Sysmon prints registry numbers as `DWORD (0x00000001)` and `QWORD (0xhigh-0xlow)`
    // (uberAgent's Sysmon-compatible output documents the same format); Defender stores the
    // number (`RegistryValueType == "Dword"` with `RegistryValueData == "1"` in hunting queries).
    assert_eq!(sysmon_defender::registry_data("DWORD (0x00000001)"), (Some("Dword"), "1".to_string()));
    assert_eq!(sysmon_defender::registry_data("DWORD (0x000000ff)"), (Some("Dword"), "255".to_string()));
    assert_eq!(sysmon_defender::registry_data("QWORD (0x00000001-0x00000002)"), (Some("Qword"), "4294967298".to_string()));
    assert_eq!(sysmon_defender::registry_data("C:\\x.exe"), (None, "C:\\x.exe".to_string()));
    assert_eq!(sysmon_defender::defender_key("HKLM\\SOFTWARE\\Run"), "HKEY_LOCAL_MACHINE\\SOFTWARE\\Run");
    assert_eq!(sysmon_defender::defender_key("HKU\\S-1-5-21-1\\Software"), "HKEY_CURRENT_USER\\S-1-5-21-1\\Software");
    assert_eq!(sysmon_defender::defender_key("HKCR\\CLSID"), "HKEY_CLASSES_ROOT\\CLSID");
    assert_eq!(sysmon_defender::defender_key("\\SOFTWARE\\x"), "\\SOFTWARE\\x");
    // An inbound connection (Initiated false): Sysmon's destination is this device.
    let event: Row = [("Initiated", "false"), ("SourceIp", "10.0.0.9"), ("DestinationIp", "10.0.0.1"), ("DestinationPort", "3389")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let shapes = Category::NetworkConnection.shapes(&event);
    assert_eq!(shapes, vec![Shape::Connection { outbound: false }]);
    let row = translate(Category::NetworkConnection, shapes[0], &event);
    assert_eq!(
        (row["LocalIP"].as_str(), row["RemoteIP"].as_str(), row["LocalPort"].as_i64()),
        (Some("10.0.0.1"), Some("10.0.0.9"), Some(3389))
    );
    assert_eq!(row["ActionType"], "InboundConnectionAccepted");
}
