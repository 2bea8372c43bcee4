//! Words Kusto reserves: they cannot be used as bare names in expressions
//! (write `['title']` instead). The list mirrors what Kusto.Language rejects.

/// Sorted, for the binary search in `is_reserved` (the parser asks about every word).
const RESERVED: &[&str] = &[
    "accumulate",
    "and",
    "anomalychart",
    "areachart",
    "as",
    "asc",
    "assert-schema",
    "bagexpansion",
    "barchart",
    "between",
    "bin_legacy",
    "boolean",
    "by",
    "card",
    "columnchart",
    "contains",
    "contains_cs",
    "containscs",
    "datatable",
    "date",
    "datetime",
    "decimal",
    "decodeblocks",
    "desc",
    "double",
    "dynamic",
    "endswith",
    "endswith_cs",
    "externaldata",
    "find",
    "first",
    "flags",
    "graph-mark-components",
    "graph-match",
    "graph-shortest-paths",
    "graph-to-table",
    "has",
    "has_all",
    "has_any",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "in",
    "int",
    "int32",
    "int64",
    "invoke",
    "in~",
    "isfuzzy",
    "ladderchart",
    "last",
    "like",
    "likecs",
    "linechart",
    "long",
    "macro-expand",
    "make-graph",
    "make-series",
    "materialize",
    "mv-apply",
    "mv-expand",
    "notcontains",
    "notcontainscs",
    "notlike",
    "of",
    "or",
    "others",
    "piechart",
    "pivotchart",
    "print",
    "project",
    "project-away",
    "project-by-names",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "real",
    "relaxed",
    "sample",
    "sample-distinct",
    "scatterchart",
    "search",
    "set",
    "simple",
    "startswith",
    "startswith_cs",
    "string",
    "time",
    "timechart",
    "timepivot",
    "timespan",
    "title",
    "to",
    "top-hitters",
    "top-nested",
    "toscalar",
    "totable",
    "treemap",
    "union",
    "uniqueid",
    "where",
    "with_itemindex",
    "with_match_id",
];

/// Reserved words, and operator words like `!has` or `matches regex`
/// that are never names.
pub fn is_reserved(word: &str) -> bool {
    RESERVED.binary_search(&word).is_ok() || word.contains(|c: char| !(c == '_' || c == '$' || c.is_alphanumeric()))
}

/// Reserved words Kusto still accepts where a name is declared (`extend
/// where = 1`, `datatable(by:string)`, a parse column), though never where
/// one is referenced.
const DECLARABLE: &[&str] = &[
    "accumulate",
    "as",
    "by",
    "contains",
    "datatable",
    "externaldata",
    "find",
    "has",
    "in",
    "invoke",
    "materialize",
    "of",
    "print",
    "sample",
    "search",
    "set",
    "title",
    "to",
    "toscalar",
    "totable",
    "where",
];

/// A word that may be declared as a name: not reserved, or reserved but declarable.
pub fn is_declarable(word: &str) -> bool {
    // `kind` and `withsource` are operator options, never new names.
    (!is_reserved(word) || DECLARABLE.contains(&word)) && !matches!(word, "true" | "false" | "kind" | "withsource")
}

/// Reserved words that are still called like functions: `toscalar(T)`.
/// (`materialize(T)` is one too, but only as the whole value of a `let`.)
pub fn is_reserved_function(word: &str) -> bool {
    matches!(word, "toscalar" | "totable")
}

/// A name that can be written bare: a plain identifier that is not reserved.
pub fn is_plain_name(name: &str) -> bool {
    is_identifier(name) && !is_reserved(name) && !is_literal_word(name)
}

/// Letters, digits and `_`, not starting with a digit (`$` may lead, as in `$left`).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = match chars.next() {
        Some('$') => chars.next().is_some_and(|c| c == '_' || c.is_alphabetic()),
        Some(c) => c == '_' || c.is_alphabetic(),
        None => false,
    };
    first_ok && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Words that parse as literals, not names.
fn is_literal_word(word: &str) -> bool {
    matches!(word, "true" | "false" | "null")
}

#[cfg(test)]
mod tests {
    #[test]
    fn reserved_words_are_sorted_for_binary_search() {
        assert!(super::RESERVED.is_sorted());
    }
}
