//! The command line's commands: what each prints and how it fails. Files, the network and the
//! clock come through [`Host`], output through a [`Terminal`], so every command runs natively in
//! tests; the component only supplies the WASI versions of both.

pub(crate) mod cli;
pub(crate) mod columns;
pub(crate) mod connector;

use crate::commands::cli::{parse_args, singer_mode, Command, USAGE};
use crate::documents::config::Config;
use crate::documents::state::parse_state_input;
use crate::engine::{ErrorEvent, ReadSummary, Sink, Transport};
use crate::output::airbyte::connection_status;
use crate::output::singer::{
    as_configured_catalog, catalog_text, default_streams, selected_streams, SingerWriter,
};
use crate::output::{Protocol, Terminal, Writer};
use crate::vocab::failure::Failure;

/// Largest file read from the command line.
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// What a command needs from the machine besides the terminal.
pub(crate) trait Host {
    /// The text of a file named on the command line (`what`: config, catalog or state), or an
    /// error that names it.
    fn read_file(&mut self, what: &str, path: &str) -> Result<String, String>;
    /// HTTP to the config's host.
    fn transport(&mut self, config: &Config) -> Box<dyn Transport>;
    /// Wall clock, milliseconds since the epoch.
    fn wall_ms(&mut self) -> u64;
}

/// The path to open for `path` as given on the command line: a relative path is joined to `pwd`
/// (the caller's working directory, which the sandbox does not know by itself) when that is an
/// absolute path; anything else is kept as given.
pub(crate) fn resolve_path(path: &str, pwd: Option<&str>) -> String {
    match pwd {
        Some(dir) if dir.starts_with('/') && !path.starts_with('/') => {
            format!("{}/{path}", dir.trim_end_matches('/'))
        }
        _ => path.to_string(),
    }
}

/// Reads a file named on the command line through `std::fs`, with an error that names it.
pub(crate) fn read_std_file(what: &str, path: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open the {what} file '{path}': {e}; pass a path inside a directory given to wasmtime with --dir HOST::/data (a relative path is taken from $PWD: give wasmtime --env PWD=\"$PWD\" --dir /::/)"))?;
    if meta.len() > MAX_FILE {
        return Err(format!("the {what} file '{path}' is larger than 64 MB"));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read the {what} file '{path}': {e}"))
}

/// Runs one command line (without the program name); `true` means exit 0. In Singer mode stdout
/// carries only Singer messages from the start: errors, even of the command line, go to stderr.
pub(crate) fn run(args: &[String], host: &mut dyn Host, term: &mut dyn Terminal) -> bool {
    let protocol = if singer_mode(args) {
        Protocol::Singer(SingerWriter::default())
    } else {
        Protocol::Airbyte
    };
    let mut w = Writer::new(term, protocol, true);
    let cmd = match parse_args(args) {
        Ok(c) => c,
        Err(e) => {
            // A runner reads failures from stdout, so a bad command line is reported there too.
            report(&mut w, host, &Failure::config(e));
            w.note(&format!("\n{USAGE}"));
            return false;
        }
    };
    let mut cx = Cx { host, w };
    match cmd {
        Command::Help => {
            cx.w.message(USAGE);
            true
        }
        Command::Spec => {
            cx.w.message(&connector::spec().to_string());
            true
        }
        Command::Check { config } => cx.check(&config),
        Command::Discover { config } => cx.discover(&config, false),
        Command::SingerDiscover { config } => cx.discover(&config, true),
        Command::Read {
            config,
            catalog,
            state,
        } => cx.read(&config, catalog.as_deref(), state.as_deref()),
        Command::SingerSync {
            config,
            catalog,
            state,
        } => cx.singer_sync(&config, catalog.as_deref(), state.as_deref()),
    }
}

/// Prints a run-level failure as an Airbyte TRACE error (on stdout, or on stderr in Singer mode)
/// and as text on stderr.
fn report(w: &mut Writer, host: &mut dyn Host, f: &Failure) {
    let error = ErrorEvent {
        stream: None,
        message: &f.message,
        internal: &f.message,
        kind: f.kind,
    };
    w.error(&error, host.wall_ms());
    w.checkpoint();
    w.note(&format!("error ({}): {}", f.kind.as_str(), f.message));
}

/// One command's context: the host and the writer.
struct Cx<'h, 't> {
    host: &'h mut dyn Host,
    w: Writer<'t>,
}

impl Cx<'_, '_> {
    /// Reports `f`; always `false`, the exit of a failed command.
    fn fail(&mut self, f: &Failure) -> bool {
        report(&mut self.w, self.host, f);
        false
    }

    /// The config file, parsed; the key is masked in all output from then on.
    fn load(&mut self, path: &str) -> Result<Config, Failure> {
        let text = self
            .host
            .read_file("config", path)
            .map_err(Failure::config)?;
        let cfg = connector::load_config(&text)?;
        self.w.mask(cfg.api_key.expose());
        Ok(cfg)
    }

    /// An optional file's text.
    fn optional(&mut self, what: &str, path: Option<&str>) -> Result<Option<String>, Failure> {
        path.map(|p| self.host.read_file(what, p))
            .transpose()
            .map_err(Failure::config)
    }

    fn check(&mut self, path: &str) -> bool {
        let cfg = match self.load(path) {
            Ok(c) => c,
            Err(f) => {
                self.w
                    .message(&connection_status(false, &f.message).to_string());
                return self.fail(&f);
            }
        };
        let mut t = self.host.transport(&cfg);
        let (ok, message) = connector::check(t.as_mut(), &cfg);
        self.w.message(&connection_status(ok, &message).to_string());
        self.w.checkpoint();
        if !ok {
            self.w.progress(&format!("check failed: {message}"));
        }
        ok
    }

    fn discover(&mut self, path: &str, singer: bool) -> bool {
        let cfg = match self.load(path) {
            Ok(c) => c,
            Err(f) => return self.fail(&f),
        };
        let mut t = self.host.transport(&cfg);
        match connector::discover(t.as_mut(), &cfg) {
            Ok(c) if singer => {
                self.w.message(&catalog_text(&c));
                true
            }
            Ok(c) => {
                self.w.message(&c.to_string());
                true
            }
            Err(f) => self.fail(&f),
        }
    }

    fn read(&mut self, path: &str, catalog: Option<&str>, state: Option<&str>) -> bool {
        let files = self.load(path).and_then(|cfg| {
            let catalog = self.optional("catalog", catalog)?;
            let state = self.optional("state", state)?;
            Ok((cfg, catalog, state))
        });
        let (cfg, catalog, state) = match files {
            Ok(f) => f,
            Err(f) => return self.fail(&f),
        };
        let mut t = self.host.transport(&cfg);
        let result = connector::read(
            t.as_mut(),
            &mut self.w,
            &cfg,
            catalog.as_deref(),
            state.as_deref(),
        );
        self.finish_read(result)
    }

    /// Singer sync: the catalog's selected streams, or without a catalog the streams discovery
    /// marks `selected-by-default` (all of them).
    fn singer_sync(&mut self, path: &str, catalog: Option<&str>, state: Option<&str>) -> bool {
        let files = self.load(path).and_then(|cfg| {
            let catalog = self.optional("catalog", catalog)?;
            let state = self.optional("state", state)?;
            let bookmarks = state
                .as_deref()
                .map(parse_state_input)
                .transpose()
                .map_err(Failure::from)?
                .unwrap_or_default()
                .into_iter()
                .collect();
            Ok((cfg, catalog, state, bookmarks))
        });
        let (cfg, catalog, state, bookmarks) = match files {
            Ok(f) => f,
            Err(f) => return self.fail(&f),
        };
        let mut t = self.host.transport(&cfg);
        let streams = match &catalog {
            Some(text) => selected_streams(text).map_err(Failure::config),
            None => connector::discover(t.as_mut(), &cfg)
                .and_then(|c| default_streams(&c).map_err(Failure::config)),
        };
        let streams = match streams {
            Ok(s) => s,
            Err(f) => return self.fail(&f),
        };
        if catalog.is_none() {
            self.w.progress(&format!(
                "no --catalog: syncing the {} streams discovery marks selected-by-default (all)",
                streams.len()
            ));
        }
        let configured = as_configured_catalog(&streams);
        self.w
            .set_protocol(Protocol::Singer(SingerWriter::new(streams, bookmarks)));
        self.w.open_singer();
        let result = connector::read(
            t.as_mut(),
            &mut self.w,
            &cfg,
            Some(&configured),
            state.as_deref(),
        );
        self.finish_read(result)
    }

    /// Reports a read's end: the summary, and the exit (failure when any stream failed).
    fn finish_read(&mut self, result: Result<ReadSummary, Failure>) -> bool {
        let s = match result {
            Err(f) => return self.fail(&f),
            Ok(s) => s,
        };
        self.w.checkpoint();
        self.w.progress(&summary_text(&s));
        let held: Vec<String> = self
            .w
            .held_back()
            .iter()
            .map(|m| format!("held back: {m}"))
            .collect();
        held.iter().for_each(|line| self.w.progress(line));
        match connector::worst_failure(&s) {
            None => true,
            Some(k) => {
                let failed: Vec<&str> = s
                    .streams
                    .iter()
                    .filter(|x| x.failure.is_some())
                    .map(|x| x.name.as_str())
                    .collect();
                self.w.progress(&format!(
                    "read finished with failed streams ({}): {}",
                    k.as_str(),
                    failed.join(", ")
                ));
                false
            }
        }
    }
}

/// The per-stream summary for stderr.
fn summary_text(s: &ReadSummary) -> String {
    let mut text = format!(
        "{:<34} {:>9} {:>8} {:>9}  status\n",
        "stream", "records", "requests", "seconds"
    );
    for x in &s.streams {
        let mut status = match &x.failure {
            None => "ok".to_string(),
            Some(f) => format!("FAILED ({})", f.kind.as_str()),
        };
        if x.uncursored > 0 {
            status.push_str(&format!(
                "; {} records without a cursor field (read again every sync)",
                x.uncursored
            ));
        }
        if x.deleted > 0 {
            status.push_str(&format!("; {} deleted", x.deleted));
        }
        text.push_str(&format!(
            "{:<34} {:>9} {:>8} {:>9.1}  {status}\n",
            x.name,
            x.records,
            x.requests,
            x.millis as f64 / 1000.0
        ));
    }
    let total: u64 = s.streams.iter().map(|x| x.records).sum();
    text.push_str(&format!(
        "total: {total} records, {} requests, {:.1} s ({:.2} requests/s)",
        s.requests,
        s.millis as f64 / 1000.0,
        s.requests as f64 / (s.millis.max(1) as f64 / 1000.0)
    ));
    text
}

#[cfg(test)]
mod tests;
