//! The manifest `sync` keeps in an output folder: every file it wrote there, the rule it came
//! from and a hash of what it wrote. Only files listed here are ever replaced or removed by
//! `sync`; a user's own files beside them are left alone.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const MANIFEST: &str = ".ruleconv-manifest.json";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Path under the output folder (`/`-separated) → what was written there.
    pub files: BTreeMap<String, Written>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Written {
    /// The rule file, as the run named it.
    pub source: String,
    /// The rule's index in that file.
    pub rule: usize,
    /// `hash` of the text written.
    pub hash: String,
}

impl Manifest {
    /// The manifest of `dir`: empty when there is none; `Err` names the file when it does not read.
    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(MANIFEST);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{}: not a ruleconv manifest ({e}); nothing synced", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a map of strings serializes") + "\n"
    }
}

/// FNV-1a (64 bits) of `text`, in hex: stable across runs, platforms and Rust versions, which
/// `std`'s hasher is not. It tells whether a file still holds what `sync` wrote, not an attacker.
pub fn hash(text: &[u8]) -> String {
    let hash = text.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a_64() {
        // The FNV-1a reference values for "" and "a".
        assert_eq!(hash(b""), "cbf29ce484222325");
        assert_eq!(hash(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn a_manifest_reads_back_and_a_foreign_file_is_refused() {
        let mut manifest = Manifest::default();
        manifest.files.insert("a/b.kql".into(), Written { source: "rules/b.yml".into(), rule: 0, hash: hash(b"x") });
        let back: Manifest = serde_json::from_str(&manifest.to_text()).unwrap();
        assert_eq!(back.files, manifest.files);
        let dir = std::env::temp_dir().join(format!("ruleconv-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(Manifest::read(&dir).unwrap().files.is_empty(), "no manifest is an empty one");
        std::fs::write(dir.join(MANIFEST), "{\"rules\": []}").unwrap();
        assert!(Manifest::read(&dir).unwrap_err().contains("not a ruleconv manifest"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
