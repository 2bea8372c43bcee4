//! Lowering, case by case: KQL in, the Detection's compact rendering out (see
//! support/detection_text.rs), and the constructs listed as unmodelled.

#[path = "support/detection_text.rs"]
mod detection_text;

use detection_text::{outputs, render, unmodelled};
use ruleconv::lower::lower_query;

/// (query, expected rendering, expected unmodelled constructs)
fn check(cases: &[(&str, &str, &[&str])]) {
    let mut failures = Vec::new();
    for (query, expected, expected_unmodelled) in cases {
        let detection = lower_query(query);
        let actual = render(&detection);
        let actual_unmodelled = unmodelled(&detection);
        if actual != *expected || actual_unmodelled != *expected_unmodelled {
            failures.push(format!("{query}\n  expected: {expected}  {expected_unmodelled:?}\n  actual:   {actual}  {actual_unmodelled:?}"));
        }
    }
    assert!(failures.is_empty(), "{} case(s) differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn comparisons_take_case_sensitivity_from_the_operator() {
    check(&[
        ("T | where A == 'x'", "T: A == 'x'", &[]),
        ("T | where A =~ 'x'", "T: A =~ 'x'", &[]),
        ("T | where A != 'x'", "T: not(A == 'x')", &[]),
        ("T | where A !~ 'x'", "T: not(A =~ 'x')", &[]),
        ("T | where A =~ 'x' and B !has 'y'", "T: A =~ 'x' and not(B has 'y')", &[]),
        ("T | where 'x' == A", "T: A == 'x'", &[]),
        ("T | where A == B", "T: A == B", &[]),
        ("T | where N > 5 and M <= 2.5 and 3 < K", "T: N > 5 and M <= 2.5 and K > 3", &[]),
        ("T | where A == true", "T: A == true", &[]),
        ("T | where IsAdmin", "T: IsAdmin == true", &[]),
    ]);
}

#[test]
fn string_operators_keep_has_apart_from_contains() {
    check(&[
        ("T | where A has 'x'", "T: A has 'x'", &[]),
        ("T | where A has_cs 'x'", "T: A has_cs 'x'", &[]),
        ("T | where A !has_cs 'x'", "T: not(A has_cs 'x')", &[]),
        ("T | where A hasprefix 'x' or A hassuffix_cs 'y'", "T: A hasprefix 'x' or A hassuffix_cs 'y'", &[]),
        ("T | where A contains 'x'", "T: A contains 'x'", &[]),
        ("T | where A contains_cs 'x' and A !contains 'y'", "T: A contains_cs 'x' and not(A contains 'y')", &[]),
        ("T | where A notcontains 'x'", "T: not(A contains 'x')", &[]),
        ("T | where A startswith 'x' and A !endswith_cs 'y'", "T: A startswith 'x' and not(A endswith_cs 'y')", &[]),
        ("T | where A matches regex '[0-9]+'", "T: A matches regex '[0-9]+'", &[]),
        ("T | where A like 'a%' and A notlike 'b%'", "T: A like 'a%' and not(A like 'b%')", &[]),
        ("T | where A:'term'", "T: A has 'term'", &[]),
    ]);
}

#[test]
fn lists_resolve_lets_and_dynamic_arrays() {
    check(&[
        ("T | where A in ('a', 'b')", "T: A in ('a', 'b')", &[]),
        ("T | where A in~ ('a', 'b')", "T: A in~ ('a', 'b')", &[]),
        ("T | where A !in~ ('a', 'b')", "T: not(A in~ ('a', 'b'))", &[]),
        ("T | where A !in ('a')", "T: not(A == 'a')", &[]),
        ("let x = dynamic(['a', 'b']); T | where A in~ (x)", "T: A in~ ('a', 'b')", &[]),
        ("let x = dynamic(['a', 'b']); T | where A has_any (x)", "T: A has_any ('a', 'b')", &[]),
        ("T | where A has_all ('a', 'b')", "T: A has_all ('a', 'b')", &[]),
        ("T | where A in (dynamic(['a']), 'b')", "T: A in ('a', 'b')", &[]),
        ("let l = datatable(n:string)['a', 'b']; T | where A in (l)", "T: A in ('a', 'b')", &[]),
        ("let c = 'x'; let d = c; T | where A == d", "T: A == 'x'", &[]),
        ("T | where A in~ ((U | project A))", "T: opaque(A in~ ((U | project A)))", &["list from a query"]),
        ("T | where not(A in (U | project B))", "T: not(opaque(A in (U | project B)))", &["list from a query"]),
    ]);
}

#[test]
fn logic_nests_and_negates_only_through_not() {
    check(&[
        ("T | where (A == 1 or B == 2) and C == 3", "T: (A == 1 or B == 2) and C == 3", &[]),
        ("T | where A == 1 or (B == 2 and C == 3)", "T: A == 1 or (B == 2 and C == 3)", &[]),
        ("T | where not(A has 'x' or B has 'y')", "T: not(A has 'x' or B has 'y')", &[]),
        ("T | where A == 1 | where B == 2", "T: A == 1 and B == 2", &[]),
        ("T | where A !between (1 .. 5)", "T: not(A between (1 .. 5))", &[]),
        ("T | where A between (B .. C)", "T: A between (B .. C)", &[]),
        ("T | where A has B", "T: A has B", &[]),
    ]);
}

#[test]
fn functions_and_time() {
    check(&[
        ("T | where TimeGenerated > ago(1d)", "T: TimeGenerated > ago(1d)", &[]),
        ("let lookback = 14d; T | where TimeGenerated >= ago(lookback)", "T: TimeGenerated >= ago(14d)", &[]),
        ("T | where TimeGenerated between (ago(1d) .. now())", "T: TimeGenerated between (ago(1d) .. now())", &[]),
        ("T | where TimeGenerated > now() - 1h", "T: TimeGenerated > ago(1h)", &[]),
        ("T | where TimeGenerated > datetime(2024-01-01)", "T: TimeGenerated > datetime(2024-01-01)", &[]),
        ("T | where TimeGenerated > datetime(\"2024-01-01 10:00\")", "T: TimeGenerated > datetime(2024-01-01 10:00)", &[]),
        ("T | where TimeGenerated > datetime('01/16/2022 00:00:00')", "T: TimeGenerated > datetime(01/16/2022 00:00:00)", &[]),
        (
            "T | where isempty(A) and isnotempty(B) and isnull(C) and isnotnull(D)",
            "T: isempty(A) and not(isempty(B)) and isnull(C) and not(isnull(D))",
            &[],
        ),
        ("T | where ipv4_is_private(IP)", "T: IP in cidr ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16')", &[]),
        ("T | where ipv4_is_private(IP) == False", "T: not(IP in cidr ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'))", &[]),
        ("T | where ipv4_is_private(IP) == false", "T: not(IP in cidr ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'))", &[]),
        ("T | where not(ipv4_is_in_range(IP, '10.1.0.0/16'))", "T: not(IP in cidr ('10.1.0.0/16'))", &[]),
        ("T | where * has 'x'", "T: opaque(* has 'x')", &["* (every column)"]),
        (
            "let starttime = todatetime('{{StartTimeISO}}'); let endtime = todatetime('{{EndTimeISO}}'); T | where TimeGenerated between (starttime .. endtime)",
            "T: opaque(TimeGenerated between (starttime .. endtime))",
            &["hunting time parameter"],
        ),
        ("T | where strlen(A) > 5", "T: opaque(strlen(A) > 5)", &["strlen()"]),
    ]);
}

#[test]
fn dynamic_paths() {
    check(&[
        ("T | where Properties.role == 'admin'", "T: Properties.role == 'admin'", &[]),
        ("T | where Props['role'] =~ 'admin'", "T: Props.role =~ 'admin'", &[]),
        ("T | where tostring(Props.a.b) has 'x'", "T: Props.a.b has 'x'", &[]),
        ("T | where parse_json(Raw).role == 'x'", "T: Raw.role == 'x'", &[]),
        ("T | extend p = todynamic(Raw) | where tostring(p['a']) == 'x'", "T: Raw.a == 'x'", &[]),
        ("T | where Arr[0].name == 'x' and Arr[-1] == 'y'", "T: Arr[0].name == 'x' and Arr[-1] == 'y'", &[]),
        ("T | where Arr[i] == 'x'", "T: opaque(Arr[i] == 'x')", &["index"]),
        ("T | where column_ifexists('A', '') == 'x'", "T: A == 'x'", &[]),
    ]);
}

#[test]
fn case_folds_are_rewritten_only_when_the_meaning_is_kept() {
    check(&[
        ("T | extend x = tolower(y) | where x == 'a'", "T: y =~ 'a'", &[]),
        ("T | where tolower(y) == 'a'", "T: y =~ 'a'", &[]),
        ("T | where toupper(y) == 'ABC'", "T: y =~ 'ABC'", &[]),
        ("T | where tolower(y) has 'a'", "T: y has 'a'", &[]),
        ("T | where tolower(y) =~ 'A'", "T: y =~ 'A'", &[]),
        ("T | where tolower(y) in ('a', 'b')", "T: y in~ ('a', 'b')", &[]),
        // Never matches as written: must not become `y =~ 'A'`.
        ("T | where tolower(y) == 'A'", "T: opaque(tolower(y) == 'A')", &["tolower()"]),
        ("T | where tolower(y) != 'A'", "T: opaque(tolower(y) != 'A')", &["tolower()"]),
        ("T | where toupper(y) contains_cs 'abc'", "T: opaque(toupper(y) contains_cs 'abc')", &["toupper()"]),
        ("T | where tolower(y) matches regex 'a'", "T: opaque(tolower(y) matches regex 'a')", &["tolower()"]),
        ("T | where tolower(y) > 'a'", "T: opaque(tolower(y) > 'a')", &["tolower()"]),
    ]);
}

#[test]
fn renames_and_computed_columns() {
    check(&[
        ("T | extend a = b | where a == 'x'", "T: b == 'x'", &[]),
        ("T | project-rename a = b | where a == 'x'", "T: b == 'x'", &[]),
        ("T | project a = b, c | where a == 'x' and c == 'y'", "T: b == 'x' and c == 'y'", &[]),
        ("T | extend a = tostring(P.q) | where a has 'x'", "T: P.q has 'x'", &[]),
        // A column `Scalar` computes is a column like an event field: the source computes it.
        ("T | extend a = strcat(b, c) | where a == 'x'", "T: a == 'x'", &[]),
        ("T | extend b = 'x' | where b == 'x'", "T: b == 'x'", &[]),
        ("T | extend h = tostring(split(D, '.')[0]) | where h != D", "T: not(h == D)", &[]),
        // It must not hide an event field the source's filter already read.
        ("T | where a == 'y' | extend a = strcat(b, c) | where a == 'x'", "T: a == 'y' and opaque(a == 'x')", &["computed column"]),
        ("T | extend a = hash_sha256(b) | where a == 'x'", "T: opaque(a == 'x')", &["computed column"]),
        // Nor a field an earlier column reads (c reads b; b computed would change c).
        (
            "T | extend c = b | extend b = strcat(b, 'x') | where c == 'y' and b == 'z'",
            "T: b == 'y' and opaque(b == 'z')",
            &["computed column"],
        ),
    ]);
}

#[test]
fn sources_unions_and_lets() {
    check(&[
        ("let src = T | where A == 1; src | where B == 2", "src=T: A == 1 and B == 2", &[]),
        ("let f = () { T | where A == 1 }; f()", "f=T: A == 1", &[]),
        ("let m = materialize(T | where A == 1); m", "m=T: A == 1", &[]),
        ("union T, U | where A == 1", "union=T, U: A == 1", &[]),
        ("union isfuzzy=true T, Sec* | where A == 1", "union=T, Sec*: A == 1", &[]),
        ("union (T | where A == 1), (U | where B == 2)", "s0 T: A == 1; s1 U: B == 2 | [0] union s0, s1", &[]),
        ("T | where A == 1 | union U", "s0 T: A == 1; s1 U: true | [0] union s0, s1", &[]),
        ("_Im_Dns(starttime=ago(1d))", "_Im_Dns: true", &["function arguments"]),
        (
            "let f = (t:string, v:string) { table(t) | where A == v }; union isfuzzy=true f('T', 'x'), f(t='U', v='y')",
            "s0 f=T: A == 'x'; s1 f=U: A == 'y' | [0] union s0, s1",
            &[],
        ),
        ("let f = (T:(A:string), v:string = 'd') { T | where A == v }; let u = U | where B == 1; f(u)", "u=U: B == 1 and A == 'd'", &[]),
        ("let f = (v:string) { T | where A == v }; f()", "f()=: true", &["f()"]),
    ]);
}

#[test]
fn joins_keys_kinds_and_windows() {
    check(&[
        ("T | join (U) on A", "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on A = A", &[]),
        ("T | join kind=inner (U | where B == 1) on $left.A == $right.C", "s0 T: true; s1 U: B == 1 | [0] join inner s0 s1 on A = C", &[]),
        ("T | join kind=leftanti U on A", "s0 T: true; s1 U: true | [0] join left_anti s0 s1 on A = A", &[]),
        ("T | lookup U on A", "s0 T: true; s1 U: true | [0] join left_outer s0 s1 on A = A", &[]),
        ("T | lookup kind=inner U on $left.A == $right.B", "s0 T: true; s1 U: true | [0] join inner s0 s1 on A = B", &[]),
        (
            "T | join U on A | where T2 between (T1 - 1h .. T1 + 1h) and B == 1",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on A = A within 1h | [1] filter [0]: B == 1",
            &[],
        ),
        (
            "T | join U on A | where abs(datetime_diff('minute', T1, T2)) <= 30",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on A = A within 30m",
            &[],
        ),
        (
            "T | join U on A | where T2 between (T1 .. T1 + 1h)",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on A = A | [1] filter [0]: opaque(T2 between (T1 .. T1 + 1h))",
            &["between"],
        ),
        ("T | project-rename K = A | join U on $left.K == $right.A", "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on A = A", &[]),
        (
            "T | extend K = tolower(strcat(A, B)) | join (U | extend K = tostring(split(H, '.')[0])) on K",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on K = K",
            &[],
        ),
        // After a stage, an extend stage computes the key.
        (
            "T | summarize by A | extend K = strcat(A, 'x') | join U on K",
            "s0 T: true; s1 U: true | [0] summarize s0  by A | [1] extend [0]: K | [2] join inner_unique [1] s1 on K = K",
            &[],
        ),
    ]);
}

#[test]
fn membership_in_a_subquery_is_a_semi_join() {
    check(&[
        ("T | where B == 1 and A in ((U | project C))", "s0 T: B == 1; s1 U: true | [0] join left_semi s0 s1 on A = C", &[]),
        (
            "let known = U | summarize by P; T | where P !in (known) | where Q == 1",
            "s0 T: true; s1 known=U: true | [0] summarize s1  by P | [1] join left_anti s0 [0] on P = P | [2] filter [1]: Q == 1",
            &[],
        ),
        ("T | where A in (U)", "T: opaque(A in (U))", &["list from a query"]),
    ]);
}

#[test]
fn aggregations_and_thresholds() {
    check(&[
        ("T | summarize count() by A | where count_ > 5", "T: true | [0] summarize s0 count_=count() by A having count_ > 5", &[]),
        (
            "T | summarize n = dcount(B), make_set(C) by A, bin(TimeGenerated, 1h) | where n >= 3",
            "T: true | [0] summarize s0 n=distinct_count(B), set_C=make_set(C) by A, bin(TimeGenerated, 1h) having n >= 3",
            &[],
        ),
        (
            "T | summarize countif(A == 'x'), dcountif(B, C > 1)",
            "T: true | [0] summarize s0 countif_=count() if A == 'x', dcountif_B=distinct_count(B) if C > 1",
            &[],
        ),
        (
            "T | summarize min(T), max(T), sum(N), avg(N), take_any(X), make_list(X)",
            "T: true | [0] summarize s0 min_T=min(T), max_T=max(T), sum_N=sum(N), avg_N=avg(N), X=take_any(X), list_X=make_list(X)",
            &[],
        ),
        ("T | summarize arg_max(TimeGenerated, *) by A", "T: true | [0] summarize s0 TimeGenerated=arg_max(TimeGenerated) by A", &[]),
        ("T | summarize arg_min(N, X, Y)", "T: true | [0] summarize s0 N=arg_min(N)", &[]),
        (
            "T | summarize count() | extend x = 1 | where count_ > 5",
            "T: true | [0] summarize s0 count_=count() | [1] extend [0]: x | [2] filter [1]: count_ > 5",
            &[],
        ),
        ("T | summarize percentile(N, 95) by A", "T: true | [0] summarize s0  by A", &["percentile()"]),
        ("T | summarize makeset(X), makelist(X)", "T: true | [0] summarize s0 set_X=make_set(X), list_X=make_list(X)", &[]),
    ]);
}

#[test]
fn row_changing_operators_are_unmodelled_and_order_is_ignored() {
    check(&[
        ("T | where A == 1 | sort by B | render table", "T: A == 1", &[]),
        ("T | where A == 1 | take 10", "T: A == 1", &["take"]),
        ("T | top 5 by B", "T: true", &["top"]),
        ("T | mv-expand X | where X == 'a'", "T: opaque(X == 'a')", &["mv-expand", "mv-expanded column"]),
        ("T | parse A with * 'k=' V | where V == 'a'", "T: opaque(V == 'a')", &["parsed column"]),
        ("T | parse A with * 'k=' V | where B == 'a'", "T: B == 'a'", &[]),
        ("T | parse-where A with * 'k=' V", "T: true", &["parse-where"]),
        ("T | distinct A, B", "T: true | [0] summarize s0  by A, B", &[]),
        ("T | distinct *", "T: true", &["distinct *"]),
        ("T | evaluate bag_unpack(P) | where Z == 1", "T: opaque(Z == 1)", &["evaluate", "evaluate"]),
        ("T | where", "T: true", &["syntax error"]),
    ]);
}

#[test]
fn a_let_used_twice_is_two_sources_but_one_unmodelled_entry() {
    check(&[(
        "let s = T | where strlen(A) > 1; s | join (s) on B",
        "s0 s=T: opaque(strlen(A) > 1); s1 s=T: opaque(strlen(A) > 1) | [0] join inner_unique s0 s1 on B = B",
        &["strlen()"],
    )]);
}

#[test]
fn outputs_say_which_stage_made_each_column() {
    let cases = [
        ("T", "*"),
        ("T | project A, B = C, D = tolower(E)", "A, B<-C, D<-`tolower(E)`"),
        ("T | extend X = A | project-away Y, Z* | project-rename W = B", "*, X<-A, W<-B"),
        ("T | project A, B | project-away B", "A"),
        ("T | summarize n = count(), make_set(B) by A | extend m = n", "A<-key@[0], n<-count@[0], set_B<-make_set@[0], m<-count@[0]"),
        ("T | project A, B | join (U | project A, B, C) on A", "A, B, A1<-A@s1, B1<-B@s1, C@s1"),
        ("T | project A, B | lookup (U | project K, C) on $left.A == $right.K", "A, B, C@s1"),
        ("T | project A | join kind=leftanti (U | project A, C) on A", "A"),
        ("T | summarize arg_max(TimeGenerated, *) by A", "*, A<-key@[0], TimeGenerated<-arg_max@[0]"),
        ("union withsource=Table T, U", "*, Table<-`withsource=Table`"),
        ("union withsource=Table (T | project A), U | where Table == 'T'", "*, A, Table<-`withsource=Table`@[0]"),
        ("T | summarize arg_max(TimeGenerated, B, C) by A", "A<-key@[0], TimeGenerated<-arg_max@[0], B<-arg_max@[0], C<-arg_max@[0]"),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(query, expected)| {
            let actual = outputs(&lower_query(query));
            (actual != *expected).then(|| format!("{query}\n  expected: {expected}\n  actual:   {actual}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lowering_is_total_on_odd_input() {
    for query in [
        "",
        ";",
        "let x = 1;",
        "print 1",
        "T | where (",
        "datatable(a:int)[1] | where a == 1",
        "let f = (x:int) { T }; f(1)",
        "range x from 1 to 2 step 1",
    ] {
        let detection = lower_query(query);
        let _ = render(&detection);
    }
}

#[test]
fn dump() {
    let q = std::env::var("Q").unwrap_or_default();
    if !q.is_empty() {
        let d = lower_query(&q);
        println!("{}\n{:?}\n{}", render(&d), unmodelled(&d), serde_json::to_string_pretty(&d).unwrap());
    }
}

#[test]
fn long_let_chains_are_cut_off_instead_of_exhausting_the_stack() {
    let mut query: String = (1..100_000).map(|i| format!("let c{i} = (c{});\n", i - 1)).collect();
    query.insert_str(0, "let c0 = 'x';\n");
    query.push_str("T | where A == c99999");
    assert_eq!(render(&lower_query(&query)), "T: opaque(A == c99999)");
    assert_eq!(render(&lower_query("let c0 = 'x'; let c1 = c0; let c2 = (c1); T | where A == c2")), "T: A == 'x'");
    let tabular: String = (1..100_000).map(|i| format!("let t{i} = t{} | where A == {i};\n", i - 1)).collect();
    let detection = lower_query(&format!("let t0 = T;\n{tabular}t99999"));
    let constructs = unmodelled(&detection);
    assert!(!constructs.is_empty() && constructs.iter().all(|c| c == "nesting"), "{constructs:?}");
}

#[test]
fn tests_of_computed_columns_stay_opaque_and_are_kept_for_readers() {
    use ruleconv::ir::detection::{MatchOp, Predicate};
    let detection = lower_query("let v = 5; T | extend ip = iff(A, B, C) | where ip !startswith 'fe80' and ipv4_is_private(ip) and v > 3");
    let filter = &detection.sources[0].filter;
    let Predicate::And(parts) = filter else { panic!("{filter:?}") };
    assert!(parts.iter().all(|p| matches!(p, Predicate::Opaque { .. })), "{parts:?}");
    let read: Vec<_> = parts.iter().map(|p| p.computed_test(&detection)).collect();
    match read.as_slice() {
        [Some(Predicate::Not(starts)), Some(Predicate::Match(cidr)), None] => {
            assert!(matches!(starts.as_ref(), Predicate::Match(m) if m.op == MatchOp::StartsWith && m.field.name == "ip"), "{starts:?}");
            assert_eq!((cidr.op, cidr.field.name.as_str()), (MatchOp::Cidr, "ip"));
        }
        other => panic!("a let constant is no computed column: {other:?}"),
    }
    assert_eq!(detection.computed_tests.len(), 2);
}

#[test]
fn columns_defined_inside_a_join_or_union_input_resolve_or_stay_opaque() {
    check(&[
        // The join's rows hold a left field under its own name.
        (
            "T | extend K = A | join U on B | where K == 1",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on B = B | [1] filter [0]: A == 1",
            &[],
        ),
        // A right field comes back as `A1` when the left side also has `A`: it may, so opaque.
        (
            "T | join (U | extend K = A) on B | where K == 1",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on B = B | [1] filter [0]: opaque(K == 1)",
            &["join column"],
        ),
        // The left side's columns are listed without `A`: the right `A` keeps its name.
        (
            "T | project B | join (U | extend K = A) on B | where K == 1",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on B = B | [1] filter [0]: A == 1",
            &[],
        ),
        // `B` after the join is the left side's (it lists `B`), not the right's rename.
        (
            "T | summarize by B | join (U | extend B = C) on B | where B == 'x'",
            "s0 T: true; s1 U: true | [0] summarize s0  by B | [1] join inner_unique [0] s1 on B = C | [2] filter [1]: B == 'x'",
            &[],
        ),
        (
            "T | join (U | extend K = strlen(A)) on B | where K > 1",
            "s0 T: true; s1 U: true | [0] join inner_unique s0 s1 on B = B | [1] filter [0]: opaque(K > 1)",
            &["join column"],
        ),
        (
            "T | join kind=rightsemi (U | extend K = A) on B | where K == 1",
            "s0 T: true; s1 U: true | [0] join right_semi s0 s1 on B = B | [1] filter [0]: A == 1",
            &[],
        ),
        (
            "union (T | extend K = A), (U | extend K = A) | where K == 1",
            "s0 T: true; s1 U: true | [0] union s0, s1 | [1] filter [0]: A == 1",
            &[],
        ),
        (
            "union (T | extend K = A), (U | extend K = C) | where K == 1",
            "s0 T: true; s1 U: true | [0] union s0, s1 | [1] filter [0]: opaque(K == 1)",
            &["union column"],
        ),
    ]);
}

#[test]
fn sources_record_the_columns_a_project_keeps() {
    let cases: &[(&str, &[Option<&[&str]>])] = &[
        ("T | where A == 1", &[None]),
        ("T | project A, K = B | extend C = 1", &[Some(&["A", "K", "C"])]),
        ("T | project A, B | project-away B", &[Some(&["A"])]),
        ("T | project-away B", &[None]),
        ("T | project A | join (U | project A, C) on A", &[Some(&["A"]), Some(&["A", "C"])]),
    ];
    for (query, expected) in cases {
        let detection = lower_query(query);
        let columns: Vec<Option<Vec<&str>>> =
            detection.sources.iter().map(|s| s.columns.as_ref().map(|c| c.iter().map(String::as_str).collect())).collect();
        let expected: Vec<Option<Vec<&str>>> = expected.iter().map(|c| c.map(<[&str]>::to_vec)).collect();
        assert_eq!(columns, expected, "{query}");
    }
}

#[test]
fn unmodelled_items_say_whether_they_change_the_rows() {
    let cases = [
        ("T | summarize percentile(A, 90) by B", false),
        ("T | summarize count() + 1 by B", false),
        ("T | summarize max(strlen(A)) by B", false),
        ("T | mv-expand A", true),
        ("T | take 5", true),
        ("T | where strlen(A) > 1", true),
    ];
    for (query, changes_rows) in cases {
        let detection = lower_query(query);
        let flags: Vec<bool> = detection.unmodelled.iter().map(|u| u.changes_rows).collect();
        assert_eq!(flags, [changes_rows], "{query}: {:?}", detection.unmodelled);
    }
}
