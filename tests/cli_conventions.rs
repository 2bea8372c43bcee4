//! Command-line habits users bring from other tools: `list`, shell completions, a man page,
//! sigma-cli's `-p` and pipeline names, and a typo of a subcommand named as one.

#[path = "support/run.rs"]
mod run;

use run::{ruleconv, text};

const SIGMA: &str = "tests/fixtures/sigma/process_creation_encoded.yml";

#[test]
fn list_names_every_target_profile_format_and_code() {
    let first_column = |what: &str| -> Vec<String> {
        let out = ruleconv(&["list", what]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout).lines().map(|l| l.split('\t').next().unwrap().to_string()).collect()
    };
    assert_eq!(first_column("targets"), ["sentinel", "sentinel-yaml", "kql", "sigma", "chronicle", "markdown"]);
    assert_eq!(first_column("formats"), ["sentinel-yaml", "markdown", "catalog", "arm", "sigma", "page"]);
    assert_eq!(first_column("profiles"), ["asim", "azure-monitor", "sentinel"]);
    let codes = first_column("codes");
    let readme = std::fs::read_to_string("README.md").unwrap();
    for code in &codes {
        assert!(readme.contains(&format!("| `{code}` |")), "`{code}` is listed but not in the README's table");
    }
    assert!(codes.len() >= 40 && codes.contains(&"broader".to_string()), "{codes:?}");
    let profiles = text(&ruleconv(&["list", "profiles"]).stdout);
    assert!(profiles.contains("sentinel\t") && profiles.contains("(also `-p microsoft_xdr`)"), "{profiles}");
    assert_eq!(ruleconv(&["list", "rules"]).status.code(), Some(2), "an unknown listing is a usage error");
}

#[test]
fn sigma_cli_pipeline_names_and_p_choose_the_same_profiles() {
    for (ours, pysigma) in [("sentinel", "microsoft_xdr"), ("asim", "sentinel_asim"), ("azure-monitor", "azure_monitor")] {
        let by_name = ruleconv(&["--to", "kql", "--profile", ours, SIGMA]);
        let by_pipeline = ruleconv(&["--to", "kql", "-p", pysigma, SIGMA]);
        assert_eq!(by_name.status.code(), Some(0), "{}", text(&by_name.stderr));
        assert_eq!(by_pipeline.status.code(), Some(0), "{}", text(&by_pipeline.stderr));
        assert_eq!(text(&by_name.stdout), text(&by_pipeline.stdout), "{pysigma} is not {ours}");
    }
    let sentinel = text(&ruleconv(&["--to", "kql", "-p", "microsoft_xdr", SIGMA]).stdout);
    let asim = text(&ruleconv(&["--to", "kql", "-p", "sentinel_asim", SIGMA]).stdout);
    assert_ne!(sentinel, asim, "the aliases must reach different profiles");
}

#[test]
fn completions_and_man_page_are_generated_for_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = ruleconv(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in ["convert", "check", "explain", "list", "profile", "allow-broader"] {
            assert!(script.contains(word), "{shell} completion lacks `{word}`");
        }
    }
    assert_eq!(ruleconv(&["completions", "tcsh"]).status.code(), Some(2));
    let man = ruleconv(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = text(&man.stdout);
    assert!(page.contains(".TH ruleconv 1") && page.contains("convert") && page.contains("Sigma rules"), "{page}");
}

#[test]
fn a_mistyped_subcommand_is_named_with_the_one_meant() {
    for (typo, meant) in [("chek", "check"), ("convrt", "convert"), ("explian", "explain")] {
        let out = ruleconv(&[typo, "rules/"]);
        assert_eq!(out.status.code(), Some(2), "{typo}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("unrecognized subcommand '{typo}'")) && stderr.contains(&format!("'{meant}'")), "{stderr}");
        assert!(!stderr.contains("--to"), "the typo was taken for an input: {stderr}");
    }
}
