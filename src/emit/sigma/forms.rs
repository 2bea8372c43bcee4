//! A test on a Sentinel column whose value Sigma holds in a field of another shape, moved to that
//! field: a file name inside a path, an account inside `DOMAIN\name`, one hash inside `Hashes`,
//! a registry key inside `TargetObject`. The forms and which columns take them are data
//! (`targets/sigma.yaml`, from `scripts/derive_sigma_profile.py`, which cites the vendors' docs).
//!
//! A moved test that is only nearly the same says why (a loss); one that cannot move is refused.

use crate::ir::detection::{Match, MatchOp, Value};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// The field holds the column's value as it is.
    Same,
    /// The column is a file name, the field the file's full path (`C:\...\name`).
    Basename,
    /// The column is an account name, the field `DOMAIN\name`.
    AccountName,
    /// The column is an account's domain, the field `DOMAIN\name`.
    AccountDomain,
    /// As `AccountName`, from a Windows security event, which names the local system account
    /// (S-1-5-18) by the computer's account (`HOST$`) where Sysmon writes `NT AUTHORITY\SYSTEM`.
    SecurityAccountName,
    /// The column is one hash; the field lists `ALGO=value` pairs (Sysmon's `Hashes`).
    Sha256,
    Sha1,
    Md5,
    /// The column is a registry key with full hive names; the field is the key with short hive
    /// names, then the value name (Sysmon's `TargetObject`).
    RegistryKey,
    /// The column is a registry value's name; the field ends with it.
    RegistryValueName,
    /// The column is a value's data; the field writes numbers as `DWORD (0x...)`.
    RegistryData,
}

/// The match moved to the Sigma field's form, and why it is only nearly the same, if it is.
pub type Moved = (Match, Option<String>);

/// Moves `m` (on `column`) into `form`, or says why it cannot move.
pub fn apply(form: Form, column: &str, m: &Match) -> Result<Moved, String> {
    if matches!(m.op, MatchOp::IsNull | MatchOp::IsEmpty) || form == Form::Same {
        return Ok((m.clone(), None));
    }
    if m.values.iter().any(|v| matches!(v, Value::Field(_))) {
        return Err(format!("`{column}` is compared with another field, which Sigma's field holds in another form"));
    }
    match form {
        Form::Same => Ok((m.clone(), None)),
        Form::Basename => inside(m, column, "\\", "", "the file name", "the path's folders"),
        Form::AccountName => account(inside(m, column, "\\", "", "the account name", "the domain")?, m, column),
        Form::SecurityAccountName => {
            let (moved, loss) = account(inside(m, column, "\\", "", "the account name", "the domain")?, m, column)?;
            let computer = strings(m, column)?.iter().any(|t| t.ends_with('$'));
            let system = computer.then(|| {
                format!(
                    "`{column}` names a computer account (`...$`), which the security log writes for the local system account; \
                     Sysmon names that one `NT AUTHORITY\\SYSTEM`"
                )
            });
            Ok((moved, loss.or(system)))
        }
        Form::AccountDomain => account(inside(m, column, "", "\\", "the domain", "the account name")?, m, column),
        Form::Sha256 => hash(m, column, "SHA256"),
        Form::Sha1 => hash(m, column, "SHA1"),
        Form::Md5 => hash(m, column, "MD5"),
        Form::RegistryKey => registry_key(m, column),
        Form::RegistryValueName => {
            let (moved, _) = inside(m, column, "\\", "", "the value name", "the key")?;
            Ok((moved, Some(format!("`{column}` is the end of `TargetObject`, which also ends so for a key of that name"))))
        }
        Form::RegistryData => registry_data(m, column),
    }
}

/// The column's value is one part of the field: after `before` (a separator that precedes it
/// in the field) or before `after`. Anchored tests on that part stay anchored at the separator;
/// unanchored ones also search `rest` (a loss).
fn inside(m: &Match, column: &str, before: &str, after: &str, part: &str, rest: &str) -> Result<Moved, String> {
    let texts = strings(m, column)?;
    let wrap = |texts: &[String], before: &str, after: &str| {
        let values = texts.iter().map(|t| Value::String(format!("{before}{t}{after}"))).collect();
        Match { values, ..m.clone() }
    };
    let broader = || Some(format!("`{column}` is {part} only; the test on the whole field also searches {rest}"));
    // The part is the field's end (`\name`) or its start (`DOMAIN\`): anchored at the field's
    // edge (`outer`) a test stays; anchored at the separator (`inner`) it finds the separator.
    let (outer, inner) = if after.is_empty() { (MatchOp::EndsWith, MatchOp::StartsWith) } else { (MatchOp::StartsWith, MatchOp::EndsWith) };
    let moved = match m.op {
        MatchOp::Equals => (Match { op: outer, ..wrap(&texts, before, after) }, None),
        op if op == outer => (m.clone(), None),
        op if op == inner => (Match { op: MatchOp::Contains, ..wrap(&texts, before, after) }, broader()),
        MatchOp::Contains | MatchOp::Has | MatchOp::HasPrefix | MatchOp::HasSuffix => (m.clone(), broader()),
        _ => return Err(format!("a {} test on {part} (`{column}`) has no form on the whole field", op_name(m.op))),
    };
    Ok(moved)
}

/// Sysmon writes `NT AUTHORITY\SYSTEM` where Defender writes `system`: a case-sensitive test on
/// an account may not hold.
fn account((moved, loss): Moved, m: &Match, column: &str) -> Result<Moved, String> {
    let cased = m.case_sensitive.then(|| format!("`{column}` is compared case-sensitively; the account's spelling differs between logs"));
    Ok((moved, loss.or(cased)))
}

/// `SHA256 == "x"` is `Hashes` containing `SHA256=x`; nothing else of one hash has a form there.
fn hash(m: &Match, column: &str, algorithm: &str) -> Result<Moved, String> {
    if m.op != MatchOp::Equals {
        return Err(format!("a {} test on one hash (`{column}`) has no form on the `Hashes` list", op_name(m.op)));
    }
    let values = strings(m, column)?.into_iter().map(|t| Value::String(format!("{algorithm}={t}"))).collect();
    // Defender writes hashes in lower case, Sysmon in upper case: the test ignores case.
    let cased = m.case_sensitive.then(|| format!("`{column}` is compared case-sensitively; `Hashes` is compared ignoring case"));
    Ok((Match { op: MatchOp::Contains, values, case_sensitive: false, ..m.clone() }, cased))
}

/// Full hive names as Defender writes them, and Sysmon's short ones (SigmaHQ's rules test
/// `HKLM\`, `HKU\`, `HKCR\`). Defender writes a user's hive as `HKEY_CURRENT_USER\<SID>`, Sysmon
/// as `HKU\<SID>`.
const HIVES: &[(&str, &str)] =
    &[("HKEY_LOCAL_MACHINE", "HKLM"), ("HKEY_USERS", "HKU"), ("HKEY_CURRENT_USER", "HKU"), ("HKEY_CLASSES_ROOT", "HKCR")];

fn short_hive(key: &str) -> (String, bool) {
    for (long, short) in HIVES {
        if key.len() >= long.len() && key.is_char_boundary(long.len()) && key[..long.len()].eq_ignore_ascii_case(long) {
            return (format!("{short}{}", &key[long.len()..]), *long == "HKEY_CURRENT_USER");
        }
    }
    (key.to_string(), false)
}

/// A key test on `TargetObject` (the key, then `\` and the value name).
fn registry_key(m: &Match, column: &str) -> Result<Moved, String> {
    let texts = strings(m, column)?;
    let anchored = matches!(m.op, MatchOp::Equals | MatchOp::StartsWith);
    let respelled: Vec<(String, bool)> = texts.iter().map(|t| if anchored { short_hive(t) } else { (t.clone(), false) }).collect();
    let user_hive = respelled.iter().any(|(_, user)| *user);
    let with = |op, suffix: &str| {
        let values = respelled.iter().map(|(t, _)| Value::String(format!("{t}{suffix}"))).collect();
        Match { op, values, ..m.clone() }
    };
    let (moved, why) = match m.op {
        MatchOp::Equals => (with(MatchOp::StartsWith, "\\"), "the key's values and subkeys match, the key's own events do not"),
        MatchOp::StartsWith => (with(MatchOp::StartsWith, ""), "a prefix of the key may also reach into the value name"),
        MatchOp::EndsWith => (with(MatchOp::Contains, "\\"), "the key's subkeys match too, the key's own events do not"),
        MatchOp::Contains | MatchOp::Has | MatchOp::HasPrefix | MatchOp::HasSuffix => (m.clone(), "the value name is searched too"),
        op => return Err(format!("a {} test on a registry key (`{column}`) has no form on `TargetObject`", op_name(op))),
    };
    let mut loss = format!("`{column}` is the key only; in `TargetObject` the value name follows it, so {why}");
    if user_hive {
        loss.push_str("; `HKEY_CURRENT_USER` is written `HKU` as Sysmon names a user's hive");
    }
    Ok((moved, Some(loss)))
}

/// Text data compares as written; Sysmon writes numbers as `DWORD (0x00000001)`, Defender `1`.
fn registry_data(m: &Match, column: &str) -> Result<Moved, String> {
    let numeric = m.values.iter().any(|v| match v {
        Value::Int(_) | Value::Real(_) => true,
        Value::String(s) => !s.is_empty() && s.trim_start_matches("0x").chars().all(|c| c.is_ascii_hexdigit()),
        _ => false,
    });
    let loss = numeric.then(|| format!("`{column}` holds numbers in decimal; `Details` writes them as `DWORD (0x...)`"));
    Ok((m.clone(), loss))
}

fn strings(m: &Match, column: &str) -> Result<Vec<String>, String> {
    m.values
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Int(i) => Ok(i.to_string()),
            _ => Err(format!("`{column}` is compared with a value that is no text")),
        })
        .collect()
}

fn op_name(op: MatchOp) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default().replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::detection::{Field, Quantifier, Span};

    fn test(op: MatchOp, value: &str) -> Match {
        Match {
            field: Field::column("C"),
            op,
            values: vec![Value::String(value.into())],
            quantifier: Quantifier::Any,
            case_sensitive: false,
            span: Span::default(),
        }
    }

    fn moved(form: Form, op: MatchOp, value: &str) -> (MatchOp, String, bool) {
        let (m, loss) = apply(form, "C", &test(op, value)).expect("moves");
        let [Value::String(v)] = m.values.as_slice() else { panic!("one text value") };
        (m.op, v.clone(), loss.is_some())
    }

    #[test]
    fn a_file_name_is_the_end_of_the_path() {
        assert_eq!(moved(Form::Basename, MatchOp::Equals, "wsreset.exe"), (MatchOp::EndsWith, "\\wsreset.exe".into(), false));
        assert_eq!(moved(Form::Basename, MatchOp::EndsWith, ".exe"), (MatchOp::EndsWith, ".exe".into(), false));
        assert_eq!(moved(Form::Basename, MatchOp::StartsWith, "ws"), (MatchOp::Contains, "\\ws".into(), true));
        assert_eq!(moved(Form::Basename, MatchOp::Contains, "reset"), (MatchOp::Contains, "reset".into(), true));
        assert!(apply(Form::Basename, "C", &test(MatchOp::Regex, "^ws")).is_err());
    }

    #[test]
    fn an_account_is_a_part_of_domain_and_name() {
        assert_eq!(moved(Form::AccountName, MatchOp::Equals, "system"), (MatchOp::EndsWith, "\\system".into(), false));
        assert_eq!(moved(Form::AccountDomain, MatchOp::Equals, "NT AUTHORITY"), (MatchOp::StartsWith, "NT AUTHORITY\\".into(), false));
        // The security log's name of the local system account is the computer's.
        assert_eq!(moved(Form::SecurityAccountName, MatchOp::Equals, "admin"), (MatchOp::EndsWith, "\\admin".into(), false));
        let machine = apply(Form::SecurityAccountName, "SubjectUserName", &test(MatchOp::EndsWith, "$")).expect("moves");
        assert!(machine.1.as_ref().is_some_and(|loss| loss.contains("NT AUTHORITY\\SYSTEM")), "{machine:?}");
        let cased = Match { case_sensitive: true, ..test(MatchOp::Equals, "system") };
        assert!(apply(Form::AccountName, "C", &cased).expect("moves").1.is_some());
    }

    #[test]
    fn one_hash_is_an_entry_of_hashes() {
        assert_eq!(moved(Form::Sha256, MatchOp::Equals, "abc"), (MatchOp::Contains, "SHA256=abc".into(), false));
        assert!(apply(Form::Md5, "C", &test(MatchOp::StartsWith, "ab")).is_err());
        let cased = Match { case_sensitive: true, ..test(MatchOp::Equals, "ab") };
        assert!(apply(Form::Sha1, "C", &cased).expect("moves").1.is_some());
    }

    #[test]
    fn registry_keys_take_short_hives_and_say_what_the_value_name_changes() {
        let run = r"HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Run";
        let short = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run";
        assert_eq!(moved(Form::RegistryKey, MatchOp::Equals, run), (MatchOp::StartsWith, format!("{short}\\"), true));
        assert_eq!(moved(Form::RegistryKey, MatchOp::StartsWith, run), (MatchOp::StartsWith, short.into(), true));
        assert_eq!(moved(Form::RegistryKey, MatchOp::EndsWith, r"\Run"), (MatchOp::Contains, "\\Run\\".into(), true));
        let (_, user, _) = moved(Form::RegistryKey, MatchOp::StartsWith, r"hkey_current_user\S-1-5-21");
        assert_eq!(user, r"HKU\S-1-5-21");
        assert!(apply(Form::RegistryKey, "C", &test(MatchOp::StartsWith, r"HKEY_CURRENT_USER\x")).unwrap().1.unwrap().contains("HKU"));
    }

    #[test]
    fn registry_numbers_are_written_otherwise() {
        assert!(moved(Form::RegistryData, MatchOp::Equals, "1").2);
        assert!(!moved(Form::RegistryData, MatchOp::Equals, "C:\\evil.exe").2);
    }
}
