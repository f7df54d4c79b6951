//! The accounts file of `run`: a JSON list of `{"name", "config", "catalog"?}`.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// One account as listed: its name, config text and catalog text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Account {
    /// Name, also the output sub-folder.
    pub(crate) name: String,
    /// Config JSON text.
    pub(crate) config: String,
    /// Catalog JSON text.
    pub(crate) catalog: Option<String>,
}

/// A config or catalog given inline (an object) or as a path (relative to the accounts file).
fn document(v: &Value, base: &Path, what: &str, name: &str) -> Result<String> {
    match v {
        Value::Object(_) => Ok(v.to_string()),
        Value::String(p) => {
            let path = base.join(p);
            std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "account {name:?}: cannot read its {what} file {}",
                    path.display()
                )
            })
        }
        _ => bail!("account {name:?}: {what} must be an object or a file path"),
    }
}

/// Parses the list; names must be unique and usable as folder names.
pub(crate) fn parse(text: &str, base: &Path) -> Result<Vec<Account>> {
    let v: Value = serde_json::from_str(text).context("the accounts file is not JSON")?;
    let Value::Array(items) = v else {
        bail!("the accounts file must be a JSON list of {{\"name\", \"config\", \"catalog\"?}}");
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let name = item
            .get("name")
            .and_then(Value::as_str)
            .with_context(|| format!("account #{i} has no \"name\""))?;
        if name.is_empty()
            || name.starts_with('.')
            || name.len() > 100
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            bail!("account #{i}: name {name:?} must be letters, digits, '-', '_' or '.' (it names a folder)");
        }
        if !seen.insert(name.to_string()) {
            bail!("account name {name:?} appears twice");
        }
        let config = item
            .get("config")
            .with_context(|| format!("account {name:?} has no \"config\""))?;
        let config = document(config, base, "config", name)?;
        let catalog = match item.get("catalog") {
            None | Some(Value::Null) => None,
            Some(c) => Some(document(c, base, "catalog", name)?),
        };
        out.push(Account {
            name: name.to_string(),
            config,
            catalog,
        });
    }
    Ok(out)
}

/// The accounts of shard `i` of `n`: every n-th, starting at position i.
pub(crate) fn shard(accounts: Vec<Account>, (i, n): (usize, usize)) -> Vec<Account> {
    accounts
        .into_iter()
        .enumerate()
        .filter(|(p, _)| p % n == i)
        .map(|(_, a)| a)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_inline_and_file_documents() {
        let d = std::env::temp_dir().join(format!("ac-host-acc-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("c.json"), r#"{"api_url":"x"}"#).unwrap();
        let a = parse(r#"[{"name":"a","config":{"api_url":"y"}},{"name":"b","config":"c.json","catalog":null}]"#, &d).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].config, r#"{"api_url":"y"}"#);
        assert_eq!(a[1].config, r#"{"api_url":"x"}"#);
        assert_eq!(a[1].catalog, None);
    }

    #[test]
    fn refuses_bad_lists() {
        let d = Path::new(".");
        for (text, want) in [
            ("{}", "JSON list"),
            (r#"[{"config":{}}]"#, "no \"name\""),
            (r#"[{"name":"../x","config":{}}]"#, "names a folder"),
            (
                r#"[{"name":"a","config":{}},{"name":"a","config":{}}]"#,
                "twice",
            ),
            (r#"[{"name":"a"}]"#, "no \"config\""),
            (r#"[{"name":"a","config":3}]"#, "object or a file path"),
            (
                r#"[{"name":"a","config":"missing-file.json"}]"#,
                "cannot read",
            ),
        ] {
            let e = format!("{:#}", parse(text, d).unwrap_err());
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn shards_cover_every_account_once() {
        let all: Vec<Account> = (0..10)
            .map(|i| Account {
                name: format!("a{i}"),
                config: "{}".into(),
                catalog: None,
            })
            .collect();
        let mut names: Vec<String> = (0..3)
            .flat_map(|i| shard(all.clone(), (i, 3)))
            .map(|a| a.name)
            .collect();
        assert_eq!(
            shard(all.clone(), (1, 3))
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["a1", "a4", "a7"]
        );
        names.sort();
        let mut want: Vec<String> = all.into_iter().map(|a| a.name).collect();
        want.sort();
        assert_eq!(names, want);
    }
}
