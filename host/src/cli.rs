//! The command line of `ac-host`.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Usage text.
pub(crate) const USAGE: &str = "usage:
  ac-host spec     [--connector connector.json]
  ac-host check    [--connector F] --config F
  ac-host discover [--connector F] --config F
  ac-host read     [--connector F] --config F [--catalog F] --out DIR
  ac-host run      [--connector F] --accounts F --out DIR [--shard I/N] [--pooling]
options:
  --component F        the component file (default: connector.json's `component`)
  --memory-mb N        linear memory per instance (default 256)
  --deadline-secs N    wall time per account (default 21600 = 6 h)
  --allow URL          allow this origin instead of the config's api_url (repeatable; for proxies
                       and tests)
  --shard I/N          run only the accounts whose position p (from 0) has p % N == I
  --pooling            pre-allocate instances with wasmtime's pooling allocator
  --cache-dir DIR      keep the compiled component in DIR between runs (DIR must be as trusted as
                       this binary: its files are loaded as native code)
`read` writes DIR/streams/<stream>.jsonl and DIR/state.json and continues from DIR/state.json;
`run` does the same for every account of F (a JSON list of {\"name\", \"config\", \"catalog\"?},
config and catalog given as objects or as file paths) into DIR/<name>/, all at once.";

/// The command asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Print the SPEC message.
    Spec,
    /// Try the config.
    Check,
    /// Print the catalog.
    Discover,
    /// Read one account into a folder.
    Read,
    /// Read many accounts at once.
    Run,
}

/// Parsed arguments.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    /// The command.
    pub(crate) command: Command,
    /// connector.json.
    pub(crate) connector: PathBuf,
    /// Component override.
    pub(crate) component: Option<PathBuf>,
    /// Config file.
    pub(crate) config: Option<PathBuf>,
    /// Catalog file.
    pub(crate) catalog: Option<PathBuf>,
    /// Accounts file.
    pub(crate) accounts: Option<PathBuf>,
    /// Output folder.
    pub(crate) out: Option<PathBuf>,
    /// (index, count).
    pub(crate) shard: (usize, usize),
    /// Memory per instance, bytes.
    pub(crate) memory_limit: usize,
    /// Deadline per account, seconds.
    pub(crate) deadline_secs: u64,
    /// Allow-list override.
    pub(crate) allow: Vec<String>,
    /// Pooling allocator.
    pub(crate) pooling: bool,
    /// Compiled-code cache folder.
    pub(crate) cache_dir: Option<PathBuf>,
}

fn parse_shard(v: &str) -> Result<(usize, usize)> {
    let bad = || format!("--shard {v:?}: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = v.split_once('/').with_context(bad)?;
    let i: usize = i.trim().parse().ok().with_context(bad)?;
    let n: usize = n.trim().parse().ok().with_context(bad)?;
    if n == 0 || i >= n {
        bail!(bad());
    }
    Ok((i, n))
}

/// Parses the command line (without the program name). `Ok(None)` asks for the usage text.
pub(crate) fn parse(argv: &[String]) -> Result<Option<Args>> {
    let mut it = argv.iter();
    let command = match it.next().map(String::as_str) {
        None | Some("--help" | "-h" | "help") => return Ok(None),
        Some("spec") => Command::Spec,
        Some("check") => Command::Check,
        Some("discover") => Command::Discover,
        Some("read") => Command::Read,
        Some("run") => Command::Run,
        Some(other) => bail!("unknown command {other:?} (spec, check, discover, read, run)"),
    };
    let mut a = Args {
        command,
        connector: PathBuf::from("connector.json"),
        component: None,
        config: None,
        catalog: None,
        accounts: None,
        out: None,
        shard: (0, 1),
        memory_limit: 256 * 1024 * 1024,
        deadline_secs: 6 * 3600,
        allow: Vec::new(),
        pooling: false,
        cache_dir: None,
    };
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        let mut val = || -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .with_context(|| format!("{flag} needs a value")),
            }
        };
        match flag {
            "--help" | "-h" => return Ok(None),
            "--connector" => a.connector = val()?.into(),
            "--component" => a.component = Some(val()?.into()),
            "--config" => a.config = Some(val()?.into()),
            "--catalog" => a.catalog = Some(val()?.into()),
            "--accounts" => a.accounts = Some(val()?.into()),
            "--out" => a.out = Some(val()?.into()),
            "--shard" => a.shard = parse_shard(&val()?)?,
            "--memory-mb" => {
                let v = val()?;
                let mb: f64 = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|m: &f64| *m > 0.0 && *m <= 4096.0)
                    .with_context(|| {
                        format!(
                            "--memory-mb {v:?}: expected a number of megabytes between 0 and 4096"
                        )
                    })?;
                a.memory_limit = (mb * 1024.0 * 1024.0) as usize;
            }
            "--deadline-secs" => {
                let v = val()?;
                a.deadline_secs = v.trim().parse().ok().filter(|s| *s > 0).with_context(|| {
                    format!("--deadline-secs {v:?}: expected a whole number of seconds above 0")
                })?;
            }
            "--allow" => a.allow.push(val()?),
            "--pooling" => a.pooling = true,
            "--cache-dir" => a.cache_dir = Some(val()?.into()),
            other => bail!("unknown option {other:?}; see ac-host --help"),
        }
    }
    let need = |what: &Option<PathBuf>, name: &str| -> Result<()> {
        if what.is_none() {
            bail!("{name} is needed for this command; see ac-host --help");
        }
        Ok(())
    };
    match a.command {
        Command::Spec => {}
        Command::Check | Command::Discover => need(&a.config, "--config")?,
        Command::Read => {
            need(&a.config, "--config")?;
            need(&a.out, "--out")?;
        }
        Command::Run => {
            need(&a.accounts, "--accounts")?;
            need(&a.out, "--out")?;
        }
    }
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Option<Args>> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn parses_read_and_run() {
        let a = args("read --config c.json --out o --memory-mb 2.5 --allow http://127.0.0.1:1")
            .unwrap()
            .unwrap();
        assert_eq!(a.command, Command::Read);
        assert_eq!(a.memory_limit, 2_621_440);
        assert_eq!(a.allow, vec!["http://127.0.0.1:1"]);
        let a = args("run --accounts a.json --out=o --shard 2/3 --pooling")
            .unwrap()
            .unwrap();
        assert_eq!(a.shard, (2, 3));
        assert!(a.pooling);
        assert!(args("--help").unwrap().is_none());
    }

    #[test]
    fn refuses_bad_input_with_a_reason() {
        for (line, want) in [
            ("read --out o", "--config"),
            ("run --accounts a.json --out o --shard 3/3", "--shard"),
            ("run --accounts a.json --out o --shard x", "--shard"),
            ("read --config c --out o --memory-mb -1", "--memory-mb"),
            (
                "read --config c --out o --deadline-secs 0",
                "--deadline-secs",
            ),
            ("read --config c --out o --bogus", "--bogus"),
            ("fly", "unknown command"),
        ] {
            let e = args(line).unwrap_err().to_string();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
