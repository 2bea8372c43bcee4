//! The one wildcard matcher: `*` matches any run of characters, everything else matches
//! itself. KQL's `project-away` column patterns and Sigma's `1 of sel*` both mean this.

/// Whether `name` matches `pattern`. Each `*`-free piece is found left to right, so the time
/// stays proportional to the lengths' product at worst, whatever the pattern.
pub fn glob(pattern: &str, name: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else { return pattern == name };
    let Some(mut tail) = name.strip_prefix(first) else { return false };
    let parts: Vec<&str> = rest.split('*').collect();
    let (last, middle) = parts.split_last().expect("split yields at least one part");
    for part in middle {
        match tail.find(part) {
            Some(at) => tail = &tail[at + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn stars_match_any_run_anywhere() {
        assert!(glob("Col*", "Column") && glob("*umn", "Column") && glob("C*l*n", "Column") && glob("Column", "Column"));
        assert!(!glob("Col*x", "Column") && !glob("column", "Column") && !glob("Column", "Col"));
        assert!(glob("*", "") && glob("a**b", "ab") && !glob(&"a*".repeat(30), &"a".repeat(29)));
        assert!(glob("*_x*y", "a_xzzy") && !glob("ab*ba", "aba"));
    }
}
