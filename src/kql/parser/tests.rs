//! Parser unit tests: precedence, error messages, recovery, depth limits.

use super::super::ast::*;
use super::super::parse;
use super::super::print;

/// The single expression of `print <expr>`, fully parenthesized.
fn shape(src: &str) -> String {
    let parsed = parse(&format!("print {src}"));
    assert!(parsed.errors.is_empty(), "{src}: {:?}", parsed.errors);
    let StatementKind::Query(Expr { kind: ExprKind::Pipeline { operators, .. }, .. }) = &parsed.ast.statements[0].kind else {
        panic!("not a print pipeline")
    };
    let OperatorKind::Print(items) = &operators[0].kind else { panic!("not print") };
    show(&items[0].expr)
}

fn show(expr: &Expr) -> String {
    let one = |e: &Expr| {
        let script = Script { statements: vec![Statement { kind: StatementKind::Query(e.clone()), span: e.span }], span: e.span };
        print(&script)
    };
    match &expr.kind {
        ExprKind::Binary { left, right, .. } => {
            let text = one(expr);
            let op = text[one(left).len()..text.len() - one(right).len()].trim();
            format!("({} {op} {})", show(left), show(right))
        }
        ExprKind::Unary { operand, .. } => format!("(-{})", show(operand)),
        ExprKind::InList { left, items, .. } => format!("({} in {})", show(left), items.len()),
        ExprKind::Between { left, .. } => format!("({} between)", show(left)),
        ExprKind::Member { target, name } => format!("{}.{}", show(target), name.name),
        ExprKind::Index { target, index } => format!("{}[{}]", show(target), show(index)),
        _ => one(expr),
    }
}

#[test]
fn precedence_climbs_from_or_to_multiplication() {
    assert_eq!(shape("a or b and c == d + e * f"), "(a or (b and (c == (d + (e * f)))))");
    assert_eq!(shape("a * b + c < d"), "(((a * b) + c) < d)");
    assert_eq!(shape("a - b - c"), "((a - b) - c)");
}

#[test]
fn comparison_levels_nest_but_do_not_chain() {
    // String operators bind tighter than `==`, relational tighter still.
    assert_eq!(shape("a has b == c"), "((a has b) == c)");
    assert_eq!(shape("a == b has c"), "(a == (b has c))");
    assert_eq!(shape("a < b has c"), "((a < b) has c)");
    assert_eq!(shape("a has b in (1, 2)"), "((a has b) in 2)");
    assert_eq!(shape("x between (1 .. 2) and y"), "((x between) and y)");
    for chained in ["print a == b == c", "print a < b < c", "print a has b has c", "print a in (1) == b", "print a and b =~ c =~ d"] {
        assert!(!parse(chained).errors.is_empty(), "{chained} should be rejected");
    }
}

#[test]
fn unary_and_postfix() {
    assert_eq!(shape("-a.b[0]"), "(-a.b[0])");
    assert_eq!(shape("a.['x y'].[1]"), "a.x y[1]");
    assert!(!parse("print - -1").errors.is_empty());
    // The smallest long, as Kusto reads it; its magnitude alone is out of range.
    assert_eq!(shape("-9223372036854775808 - 1"), "(-9223372036854775808 - 1)");
    assert!(!parse("print 9223372036854775808").errors.is_empty());
}

#[test]
fn error_message_names_expected_and_found() {
    let parsed = parse("T\n| where x == ");
    assert_eq!(parsed.errors.len(), 1);
    let e = &parsed.errors[0];
    assert_eq!(e.message, "expected expression but found end of input");
    assert_eq!((e.span.start, e.span.end), (14, 14));
    let parsed = parse("T | project title");
    assert_eq!(parsed.errors[0].message, "expected expression but found keyword `title` (write ['title'] to use it as a name)");
    let parsed = parse("T | where a has (\"x\", \"y\")");
    assert_eq!(parsed.errors[0].message, "expected `)` but found `,`");
}

#[test]
fn recovers_at_each_pipe_and_statement() {
    let src = "T | where a == | extend b = (1 + ) | take 1 | project c,\n;\nlet x = ; U | count";
    let parsed = parse(src);
    let messages: Vec<&str> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "expected expression but found `|`",
            "expected expression but found `)`",
            "expected expression but found `;`",
            "expected expression but found `;`",
        ]
    );
    let StatementKind::Query(Expr { kind: ExprKind::Pipeline { operators, .. }, .. }) = &parsed.ast.statements[0].kind else {
        panic!("first statement should be a pipeline")
    };
    let errors: Vec<bool> = operators.iter().map(|op| matches!(op.kind, OperatorKind::Error)).collect();
    assert_eq!(errors, [true, true, false, true]);
    assert!(matches!(parsed.ast.statements[1].kind, StatementKind::Error));
    assert!(matches!(parsed.ast.statements[2].kind, StatementKind::Query(_)));
}

#[test]
fn stray_closing_bracket_is_reported_where_it_is() {
    let parsed = parse("T\n| take 1\n)\n");
    assert_eq!(parsed.errors[0].message, "unexpected `)` without a matching opening bracket");
    assert_eq!(parsed.errors[0].span.start, 11);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    // Runs on a 2 MiB thread, like the test harness and most callers.
    let run =
        |src: String| std::thread::Builder::new().stack_size(2 << 20).spawn(move || parse(&src).errors.len()).unwrap().join().unwrap();
    assert!(run("(".repeat(100_000)) > 0);
    assert!(run(format!("print {}1{}", "f(".repeat(50_000), ")".repeat(50_000))) > 0);
    assert!(run(format!("print dynamic({})", "[".repeat(100_000))) > 0);
    assert!(run(format!("print 1{}", "+1".repeat(100_000))) > 0);
    assert!(run(format!("print a{}", ".b".repeat(100_000))) > 0);
    // Pipelines do not recurse; past `MAX_OPERATORS` stages they are refused all the same.
    assert!(run(format!("T{}", "| where x ".repeat(super::MAX_OPERATORS))) == 0);
    let too_long = parse(&format!("T{}", "| where x ".repeat(100_000)));
    assert_eq!(too_long.errors[0].message, "the pipeline is too long (more than 1000 `|` operators)");
    assert_eq!(too_long.errors[0].span.start, 1 + 10 * super::MAX_OPERATORS);
}

#[test]
fn deepest_accepted_trees_print_on_a_small_stack() {
    let run = |src: String| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let parsed = parse(&src);
                let printed = print(&parsed.ast);
                (parsed.errors.len(), parse(&printed).errors.len())
            })
            .unwrap()
            .join()
            .unwrap()
    };
    assert_eq!(run(format!("print 1{}", "+1".repeat(1990))), (0, 0));
    assert_eq!(run(format!("print a{} or b", " or x.y[0]".repeat(1900))), (0, 0));
    assert_eq!(run(format!("print {}1{}", "(".repeat(60), ")".repeat(60))), (0, 0));
    assert_eq!(run(format!("print {}1{}", "f(".repeat(60), ")".repeat(60))), (0, 0));
    assert_eq!(run(format!("print {}1{}", "(T | where x in (".repeat(20), "))".repeat(20))), (0, 0));
}

#[test]
fn evaluate_calls_a_plugin_by_plain_or_bracketed_name() {
    // Kusto.Language rejects a plugin that is not called, and reads `evaluate [` as the operator.
    for ok in ["T | evaluate bag_unpack(x)", "evaluate ['my plugin']()", "T | extend a = ['my f'](1)"] {
        let parsed = parse(ok);
        assert!(parsed.errors.is_empty(), "{ok}: {:?}", parsed.errors);
        let printed = print(&parsed.ast);
        assert!(parse(&printed).errors.is_empty(), "{ok} printed as {printed}");
    }
    let parsed = parse("T | evaluate 1take");
    assert_eq!(parsed.errors.len(), 1);
    assert!(parsed.errors[0].message.starts_with("expected `(`"), "{:?}", parsed.errors);
}

#[test]
fn star_is_an_operand_only_of_string_comparisons() {
    assert_eq!(shape("* has 'x' or * == 1"), "((* has \"x\") or (* == 1))");
    // `a + *` is the left operand of `has`, as Kusto.Language reads it.
    assert_eq!(shape("a + * has 'x'"), "((a + *) has \"x\")");
    for rejected in ["print * != 1", "print * in (1)", "print * + 1", "print -* == 1", "print *"] {
        assert!(!parse(rejected).errors.is_empty(), "{rejected} should be rejected");
    }
}

#[test]
fn valid_operators_we_do_not_parse_are_named_as_such() {
    let parsed = parse("T | make-graph a --> b with N on id");
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].message, "the `make-graph` operator is valid KQL that ruleconv does not parse yet");
    assert_eq!(parsed.errors[0].span.start, 4);
}
