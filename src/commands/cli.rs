//! The command line: the four commands an Airbyte source takes.

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Print usage.
    Help,
    /// Print the SPEC message.
    Spec,
    /// Check the connection with a config file.
    Check { config: String },
    /// Print the catalog.
    Discover { config: String },
    /// Read records.
    Read {
        config: String,
        catalog: Option<String>,
        state: Option<String>,
    },
    /// Singer mode: print a Singer catalog.
    SingerDiscover { config: String },
    /// Singer mode: sync the streams a Singer catalog selects (no catalog: the streams discovery
    /// marks `selected-by-default`, which is every stream).
    SingerSync {
        config: String,
        catalog: Option<String>,
        state: Option<String>,
    },
}

/// Usage text.
pub(crate) const USAGE: &str =
    "source-activecampaign: an ActiveCampaign source (Airbyte protocol on stdout)

usage: wasmtime run -S http --dir DIR::/data source_activecampaign.wasm COMMAND [OPTIONS]

commands:
  spec                                   print the connector's config specification
  check    --config FILE                 try the API URL and key (GET /api/3/users/me)
  discover --config FILE                 print the catalog: every stream with schema, keys, cursor
  read     --config FILE [--catalog FILE] [--state FILE]
                                         read the catalog's streams (all streams in full without
                                         --catalog), resuming from the state's checkpoints
  help, --help                           this text

Singer mode (for Meltano and other Singer pipelines), the way Singer taps are run:
  --config FILE --discover               print a Singer catalog (select streams in its metadata;
                                         --catalog and --state are ignored here, as Singer taps do)
  --config FILE [--catalog FILE] [--state FILE]
                                         sync the selected streams (a stream without \"selected\"
                                         follows its \"selected-by-default\"; no catalog: every
                                         stream): SCHEMA, RECORD, STATE messages on stdout, all
                                         else on stderr (--properties is accepted for --catalog)

Files are paths inside the sandbox (give wasmtime --dir HOST_DIR::/data and pass /data/...); a
relative path is taken from $PWD when it is set (wasmtime --env PWD=\"$PWD\" --dir /::/).
Exit code: 0 when everything asked was done; 1 otherwise. The last TRACE ERROR message on stdout
(Singer mode: on stderr) and the text on stderr say what failed and its class: config_error (you must act: config, key,
plan feature, catalog, state), transient_error (retry later), system_error (a bug: report it).";

/// Options read from a command line: the file options and whether `--discover` was given.
#[derive(Debug, Default)]
struct Flags {
    config: Option<String>,
    catalog: Option<String>,
    state: Option<String>,
    discover: bool,
    help: bool,
}

/// Reads `--config`, `--catalog` (or `--properties` when `singer`), `--state`, `--discover`
/// (when `singer`) and `--help`, as `--name value` or `--name=value`.
fn parse_flags(args: &[String], singer: bool) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut i = 0;
    while i < args.len() {
        let (name, inline) = match args[i].split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (args[i].as_str(), None),
        };
        let slot = match name {
            "--help" | "-h" => {
                f.help = true;
                return Ok(f);
            }
            "--discover" if singer => {
                f.discover = true;
                i += 1;
                continue;
            }
            "--config" => &mut f.config,
            "--catalog" => &mut f.catalog,
            "--properties" if singer => &mut f.catalog,
            "--state" => &mut f.state,
            other => {
                return Err(format!(
                    "unknown option '{}'; see --help",
                    other.chars().take(40).collect::<String>()
                ))
            }
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("option {name} needs a file path"))?
            }
        };
        if value.is_empty() {
            return Err(format!("option {name} needs a file path"));
        }
        if slot.replace(value).is_some() {
            return Err(format!("option {name} given twice"));
        }
        i += 1;
    }
    Ok(f)
}

/// Parses Singer-style arguments: flags only, no command word.
fn parse_singer(args: &[String]) -> Result<Command, String> {
    let f = parse_flags(args, true)?;
    if f.help {
        return Ok(Command::Help);
    }
    let config = f.config.ok_or("Singer mode needs --config FILE")?;
    // As Singer taps do, a mode ignores the options it does not use: Meltano runs
    // `--config F --state F --discover` once it holds state.
    Ok(if f.discover {
        Command::SingerDiscover { config }
    } else {
        Command::SingerSync {
            config,
            catalog: f.catalog,
            state: f.state,
        }
    })
}

/// Whether a command line is in Singer mode: it starts with an option, not a command word.
pub(crate) fn singer_mode(args: &[String]) -> bool {
    args.first()
        .is_some_and(|a| a.starts_with("--") && a != "--help")
}

/// Parses arguments (without the program name).
pub(crate) fn parse_args(args: &[String]) -> Result<Command, String> {
    if singer_mode(args) {
        return parse_singer(args);
    }
    let Some(cmd) = args.first() else {
        return Err("no command given; expected spec, check, discover or read (see --help)".into());
    };
    let f = parse_flags(&args[1..], false)?;
    if f.help {
        return Ok(Command::Help);
    }
    let Flags {
        config,
        catalog,
        state,
        ..
    } = f;
    let need_config =
        |c: Option<String>, cmd: &str| c.ok_or_else(|| format!("{cmd} needs --config FILE"));
    let cmd = match cmd.as_str() {
        "spec" => Command::Spec,
        "check" => Command::Check {
            config: need_config(config.clone(), "check")?,
        },
        "discover" => Command::Discover {
            config: need_config(config.clone(), "discover")?,
        },
        "read" => {
            return Ok(Command::Read {
                config: need_config(config, "read")?,
                catalog,
                state,
            })
        }
        "help" | "--help" | "-h" => return Ok(Command::Help),
        other => {
            return Err(format!(
                "unknown command '{}'; expected spec, check, discover or read (see --help)",
                other.chars().take(40).collect::<String>()
            ))
        }
    };
    if catalog.is_some() || state.is_some() {
        return Err("--catalog and --state belong to read".into());
    }
    if matches!(cmd, Command::Spec) && config.is_some() {
        return Err("spec takes no options".into());
    }
    Ok(cmd)
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
