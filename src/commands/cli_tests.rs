use super::*;

fn p(a: &[&str]) -> Result<Command, String> {
    parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn commands() {
    assert_eq!(p(&["spec"]), Ok(Command::Spec));
    assert_eq!(
        p(&["check", "--config", "c.json"]),
        Ok(Command::Check {
            config: "c.json".into()
        })
    );
    assert_eq!(
        p(&["read", "--config=c", "--catalog", "k", "--state", "s"]),
        Ok(Command::Read {
            config: "c".into(),
            catalog: Some("k".into()),
            state: Some("s".into())
        })
    );
    assert_eq!(
        p(&["read", "--config", "c"]),
        Ok(Command::Read {
            config: "c".into(),
            catalog: None,
            state: None
        })
    );
    assert_eq!(p(&["--help"]), Ok(Command::Help));
    assert_eq!(p(&["read", "--help"]), Ok(Command::Help));
}

#[test]
fn singer_mode() {
    assert_eq!(
        p(&["--config", "c", "--discover"]),
        Ok(Command::SingerDiscover { config: "c".into() })
    );
    assert_eq!(
        p(&["--config", "c", "--properties", "k", "--state", "s"]),
        Ok(Command::SingerSync {
            config: "c".into(),
            catalog: Some("k".into()),
            state: Some("s".into())
        })
    );
    assert_eq!(
        p(&["--config=c", "--catalog=k"]),
        Ok(Command::SingerSync {
            config: "c".into(),
            catalog: Some("k".into()),
            state: None
        })
    );
    for a in [
        ["--config", "c", "--state", "s", "--discover"],
        ["--discover", "--catalog", "k", "--config", "c"],
    ] {
        assert_eq!(
            p(&a),
            Ok(Command::SingerDiscover { config: "c".into() }),
            "{a:?}: options discovery does not use are ignored"
        );
    }
    assert_eq!(
        p(&["--config", "c", "--state", "s"]),
        Ok(Command::SingerSync {
            config: "c".into(),
            catalog: None,
            state: Some("s".into())
        }),
        "no catalog: the default streams"
    );
    assert!(
        crate::commands::cli::singer_mode(&["--config".to_string()])
            && !crate::commands::cli::singer_mode(&["--help".to_string()])
    );
    assert!(!crate::commands::cli::singer_mode(&[
        "read".to_string(),
        "--config".to_string()
    ]));
    for (a, want) in [
        (vec!["--discover"], "needs --config"),
        (vec!["--config", "c", "--nope"], "unknown option"),
    ] {
        let e = p(&a).unwrap_err();
        assert!(e.contains(want), "{a:?}: {e}");
    }
}

#[test]
fn mistakes_are_explained() {
    for (a, want) in [
        (vec![], "no command"),
        (vec!["sync"], "unknown command"),
        (vec!["check"], "needs --config"),
        (vec!["read", "--config"], "needs a file"),
        (vec!["read", "--config", "a", "--config", "b"], "twice"),
        (
            vec!["read", "--config", "a", "--bogus", "x"],
            "unknown option",
        ),
        (
            vec!["check", "--config", "a", "--state", "s"],
            "belong to read",
        ),
    ] {
        let e = p(&a).unwrap_err();
        assert!(e.contains(want), "{a:?}: {e}");
    }
}

/// Command-line rules: which options each mode takes, `--name=value`, and Singer's discover.
mod boundaries {
    use crate::commands::cli::{parse_args, Command};

    /// Parses a command line given as words.
    fn p(a: &[&str]) -> Result<Command, String> {
        parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    /// Only `--name=value` is split at `=`; a stray word with `=` is named whole in the error.
    #[test]
    fn only_options_split_at_equals() {
        let e = p(&["read", "--config", "c.json", "x=y"]).unwrap_err();
        assert!(e.contains("unknown option 'x=y'"), "{e}");
        assert_eq!(
            p(&["read", "--config=a=b.json", "--state", "s=1.json"]),
            Ok(Command::Read {
                config: "a=b.json".into(),
                catalog: None,
                state: Some("s=1.json".into())
            })
        );
    }

    /// `--discover` and `--properties` are Singer options: the Airbyte commands refuse them.
    #[test]
    fn singer_options_only_in_singer_mode() {
        let e = p(&["read", "--config", "c.json", "--discover"]).unwrap_err();
        assert!(e.contains("unknown option '--discover'"), "{e}");
        let e = p(&["read", "--config", "c.json", "--properties", "p.json"]).unwrap_err();
        assert!(e.contains("unknown option '--properties'"), "{e}");
        assert_eq!(
            p(&[
                "--config",
                "c.json",
                "--properties",
                "p.json",
                "--state",
                "s.json"
            ]),
            Ok(Command::SingerSync {
                config: "c.json".into(),
                catalog: Some("p.json".into()),
                state: Some("s.json".into())
            })
        );
        assert_eq!(
            p(&["--config", "c.json", "--discover"]),
            Ok(Command::SingerDiscover {
                config: "c.json".into()
            })
        );
    }

    /// Singer discover ignores the sync options, as Singer taps do (Meltano passes `--state` with
    /// `--discover` once it holds state), but still reads them as options.
    #[test]
    fn singer_discover_ignores_sync_options() {
        for extra in [["--state", "s.json"], ["--catalog", "k.json"]] {
            let mut a = vec!["--config", "c.json", "--discover"];
            a.extend(extra);
            assert_eq!(
                p(&a),
                Ok(Command::SingerDiscover {
                    config: "c.json".into()
                }),
                "{a:?}"
            );
        }
        let e = p(&["--config", "c.json", "--discover", "--bogus"]).unwrap_err();
        assert!(e.contains("unknown option '--bogus'"), "{e}");
        assert!(matches!(
            p(&["--config", "c.json"]),
            Ok(Command::SingerSync { catalog: None, .. })
        ));
    }

    /// Options after the value: each is read once, in any order; a missing value is named.
    #[test]
    fn option_values() {
        assert_eq!(
            p(&[
                "read",
                "--state",
                "s.json",
                "--config",
                "c.json",
                "--catalog",
                "k.json"
            ]),
            Ok(Command::Read {
                config: "c.json".into(),
                catalog: Some("k.json".into()),
                state: Some("s.json".into())
            })
        );
        let e = p(&["read", "--config"]).unwrap_err();
        assert!(e.contains("option --config needs a file path"), "{e}");
        let e = p(&["read", "--config="]).unwrap_err();
        assert!(e.contains("option --config needs a file path"), "{e}");
        let e = p(&["read", "--config", "a", "--config=b"]).unwrap_err();
        assert!(e.contains("given twice"), "{e}");
        assert_eq!(p(&["read", "--config", "c", "-h"]), Ok(Command::Help));
    }
}
