//! Searching folders for rule files: which files a search reads, and which it leaves out and
//! why, so that no file is skipped without a word.

use std::path::{Path, PathBuf};

/// The file extensions a search reads.
const RULE_EXTENSIONS: [&str; 4] = ["yaml", "yml", "json", "md"];

/// Files of a rule repository that are never rules, with a rule extension (lowercase names):
/// package manifests, documentation and tool settings. A folder search skips them unread; named
/// on the command line they are read like any file.
const NOT_RULES: [&str; 18] = [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "composer.json",
    "renovate.json",
    "readme.md",
    "changelog.md",
    "license.md",
    "contributing.md",
    "code_of_conduct.md",
    "security.md",
    "mkdocs.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "azure-pipelines.yml",
    "codecov.yml",
    "pnpm-lock.yaml",
    "action.yml",
];

/// What a folder search found.
#[derive(Debug, Default)]
pub struct Found {
    /// Rule files to read, sorted by path.
    pub files: Vec<PathBuf>,
    /// Files with a rule extension left unread, each with the reason, sorted by path.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Rule files under `dir`, recursively (see `search`).
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    let within = dir.canonicalize().map(|d| vec![d]).unwrap_or_default();
    search(dir, &within).files
}

/// Searches `dir` recursively for rule files. Hidden folders (`.git`, `.github`) are not
/// entered, and symbolic links to folders are not followed (no cycles). Left out, each with its
/// reason: hidden files, files that are never rules (`NOT_RULES`), files that are not regular
/// (a FIFO would block the read), and symbolic links to files outside the folders `within`
/// (canonical paths): a link in a pull request must not make the run read `/proc/self/environ`.
pub fn search(dir: &Path, within: &[PathBuf]) -> Found {
    let mut found = Found::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if kind.is_dir() {
                if !hidden {
                    pending.push(path);
                }
                continue;
            }
            if !has_rule_extension(&path) {
                continue;
            }
            match leave_out(&path, kind, hidden, within) {
                Some(reason) => found.skipped.push((path, reason)),
                None => found.files.push(path),
            }
        }
    }
    found.files.sort();
    found.skipped.sort();
    found
}

/// Why a file with a rule extension is not read, if it is not.
fn leave_out(path: &Path, kind: std::fs::FileType, hidden: bool, within: &[PathBuf]) -> Option<String> {
    if hidden {
        return Some("a hidden file (tool settings, not rules)".into());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if NOT_RULES.contains(&name.as_str()) {
        return Some(format!("`{name}` is not a rule file"));
    }
    if kind.is_symlink() {
        return match path.canonicalize() {
            Ok(target) if target.is_dir() => Some("a symbolic link to a folder: not followed".into()),
            Ok(target) if !within.iter().any(|root| target.starts_with(root)) => {
                Some("a symbolic link to a file outside the folders given: not followed (name the file itself to read it)".into())
            }
            Ok(target) if !target.is_file() => Some("a symbolic link to something other than a regular file".into()),
            Ok(_) => None,
            Err(e) => Some(format!("a symbolic link that cannot be followed: {e}")),
        };
    }
    (!kind.is_file()).then(|| "not a regular file (a FIFO, socket or device)".into())
}

fn has_rule_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| RULE_EXTENSIONS.iter().any(|r| r.eq_ignore_ascii_case(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ruleconv-walk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn relative(dir: &Path, paths: impl IntoIterator<Item = PathBuf>) -> Vec<String> {
        paths.into_iter().map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/")).collect()
    }

    #[test]
    fn discover_is_sorted_recursive_and_skips_hidden() {
        let dir = scratch("discover");
        for path in ["b/rule.yaml", "a.yml", "c/d/e.json", "c/notes.txt", ".git/x.yaml", "b/.hidden.yaml", "z.MD"] {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        assert_eq!(relative(&dir, discover(&dir)), ["a.yml", "b/rule.yaml", "c/d/e.json", "z.MD"]);
        let found = search(&dir, &[dir.canonicalize().unwrap()]);
        assert_eq!(relative(&dir, found.skipped.into_iter().map(|(p, _)| p)), ["b/.hidden.yaml"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Issue 19 items 6 and 20: files that are never rules, and links out of the folder, are
    /// left out with a reason each.
    #[cfg(unix)]
    #[test]
    fn non_rules_and_links_out_are_left_out_with_a_reason() {
        let dir = scratch("links");
        let outside = scratch("links-outside");
        std::fs::create_dir_all(dir.join("rules")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.yml"), "name: a\nquery: T\n").unwrap();
        for name in ["rules/rule.yml", "rules/package.json", "rules/README.md"] {
            std::fs::write(dir.join(name), "name: a\nquery: T\n").unwrap();
        }
        std::os::unix::fs::symlink(outside.join("secret.yml"), dir.join("rules/out.yml")).unwrap();
        std::os::unix::fs::symlink(dir.join("rules/rule.yml"), dir.join("rules/in.yml")).unwrap();
        let found = search(&dir, &[dir.canonicalize().unwrap()]);
        assert_eq!(relative(&dir, found.files), ["rules/in.yml", "rules/rule.yml"]);
        let skipped: Vec<(String, String)> =
            found.skipped.into_iter().map(|(p, why)| (relative(&dir, [p]).remove(0), why.split(':').next().unwrap().to_string())).collect();
        assert_eq!(
            skipped,
            [
                ("rules/README.md".into(), "`readme.md` is not a rule file".into()),
                ("rules/out.yml".into(), "a symbolic link to a file outside the folders given".into()),
                ("rules/package.json".into(), "`package.json` is not a rule file".into()),
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }
}
