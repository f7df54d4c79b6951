//! The command line of `ac-host`.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Usage text.
pub(crate) const USAGE: &str = "usage:
  ac-host spec     [--connector connector.json]
  ac-host check    [--connector F] --config F
  ac-host discover [--connector F] --config F
  ac-host catalog  [--connector F] --config F      (the configured catalog `read` uses by default)
  ac-host read     [--connector F] --config F [--catalog F] --out DIR
  ac-host run      [--connector F] --accounts F --out DIR [--shard I/N] [--pooling]
options:
  --component F        the component file (default: connector.json's `component`)
  --memory-mb N        linear memory per instance (default 256)
  --deadline-secs N    wall time per account (default 21600 = 6 h)
  --allow URL          allow this origin instead of the config's api_url (repeatable; for proxies
                       and tests)
  --allow-private      connect to private, link-local and loopback addresses too (a proxy inside
                       a trusted network); by default only public ones, and loopback when the
                       config's api_url names a loopback host
  --shard I/N          run only the accounts whose position p (from 0) has p % N == I
  --pooling            pre-allocate instances with wasmtime's pooling allocator
  --cache-dir DIR      keep the compiled component in DIR between runs (DIR must be as trusted as
                       this binary: its files are loaded as native code)
`read` writes DIR/streams/<stream>.jsonl and DIR/state.json and continues from DIR/state.json;
without --catalog (or with a discovered one) every stream is incremental where it can be and its
deletions are tracked; `catalog` prints that configured catalog, to edit and pass as --catalog.
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
    /// Print the configured catalog a read without `--catalog` uses.
    Catalog,
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
    /// `--allow-private`: connect to non-public addresses too.
    pub(crate) allow_private: bool,
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
    let Some(command) = parse_command(it.next().map(String::as_str))? else {
        return Ok(None);
    };
    let mut a = Args::defaults(command);
    while let Some(flag) = it.next() {
        let (flag, inline) = split_inline_value(flag);
        if matches!(flag, "--help" | "-h") {
            return Ok(None);
        }
        // The value is taken only by options that have one, so `--pooling` does not eat the
        // next argument.
        let value = || -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .with_context(|| format!("{flag} needs a value")),
            }
        };
        a.apply_option(flag, value)?;
    }
    a.require_inputs()?;
    Ok(Some(a))
}

/// The command word; `Ok(None)` for none at all or a request for help.
fn parse_command(word: Option<&str>) -> Result<Option<Command>> {
    let command = match word {
        None | Some("--help" | "-h" | "help") => return Ok(None),
        Some("spec") => Command::Spec,
        Some("check") => Command::Check,
        Some("discover") => Command::Discover,
        Some("catalog") => Command::Catalog,
        Some("read") => Command::Read,
        Some("run") => Command::Run,
        Some(other) => {
            bail!("unknown command {other:?} (spec, check, discover, catalog, read, run)")
        }
    };
    Ok(Some(command))
}

/// Splits `--flag=value` into the flag and its value; any other argument has no inline value.
fn split_inline_value(arg: &str) -> (&str, Option<String>) {
    match arg.split_once('=') {
        Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
        _ => (arg, None),
    }
}

fn parse_memory_mb(v: &str) -> Result<usize> {
    let mb: f64 = v
        .trim()
        .parse()
        .ok()
        .filter(|m: &f64| *m > 0.0 && *m <= 4096.0)
        .with_context(|| {
            format!("--memory-mb {v:?}: expected a number of megabytes between 0 and 4096")
        })?;
    Ok((mb * 1024.0 * 1024.0) as usize)
}

fn parse_deadline_secs(v: &str) -> Result<u64> {
    v.trim().parse().ok().filter(|s| *s > 0).with_context(|| {
        format!("--deadline-secs {v:?}: expected a whole number of seconds above 0")
    })
}

impl Args {
    /// The arguments of `command` before any option is read.
    fn defaults(command: Command) -> Args {
        Args {
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
            allow_private: false,
            pooling: false,
            cache_dir: None,
        }
    }

    /// Sets what `flag` names; `value` gives the flag's value when it takes one.
    fn apply_option(
        &mut self,
        flag: &str,
        mut value: impl FnMut() -> Result<String>,
    ) -> Result<()> {
        match flag {
            "--connector" => self.connector = value()?.into(),
            "--component" => self.component = Some(value()?.into()),
            "--config" => self.config = Some(value()?.into()),
            "--catalog" => self.catalog = Some(value()?.into()),
            "--accounts" => self.accounts = Some(value()?.into()),
            "--out" => self.out = Some(value()?.into()),
            "--shard" => self.shard = parse_shard(&value()?)?,
            "--memory-mb" => self.memory_limit = parse_memory_mb(&value()?)?,
            "--deadline-secs" => self.deadline_secs = parse_deadline_secs(&value()?)?,
            "--allow" => self.allow.push(value()?),
            "--pooling" => self.pooling = true,
            "--allow-private" => self.allow_private = true,
            "--cache-dir" => self.cache_dir = Some(value()?.into()),
            other => bail!("unknown option {other:?}; see ac-host --help"),
        }
        Ok(())
    }

    /// Refuses a command whose required files or folders were not given.
    fn require_inputs(&self) -> Result<()> {
        let need = |what: &Option<PathBuf>, name: &str| -> Result<()> {
            if what.is_none() {
                bail!("{name} is needed for this command; see ac-host --help");
            }
            Ok(())
        };
        match self.command {
            Command::Spec => {}
            Command::Check | Command::Discover | Command::Catalog => {
                need(&self.config, "--config")?
            }
            Command::Read => {
                need(&self.config, "--config")?;
                need(&self.out, "--out")?;
            }
            Command::Run => {
                need(&self.accounts, "--accounts")?;
                need(&self.out, "--out")?;
            }
        }
        Ok(())
    }
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
        assert!(!a.allow_private);
        let a = args("read --config c.json --out o --allow-private")
            .unwrap()
            .unwrap();
        assert!(a.allow_private);
        let a = args("run --accounts a.json --out=o --shard 2/3 --pooling")
            .unwrap()
            .unwrap();
        assert_eq!(a.shard, (2, 3));
        assert!(a.pooling);
        assert!(args("--help").unwrap().is_none());
        let a = args("catalog --config c.json").unwrap().unwrap();
        assert_eq!(a.command, Command::Catalog);
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
            ("catalog", "--config"),
        ] {
            let e = args(line).unwrap_err().to_string();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
