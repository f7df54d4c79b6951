//! Command-line rules: which options each mode takes, `--name=value`, and Singer's discover.

use crate::cli::{parse_args, Command};

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
            catalog: "p.json".into(),
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
    let e = p(&["--config", "c.json"]).unwrap_err();
    assert!(e.contains("Singer mode needs --discover"), "{e}");
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
