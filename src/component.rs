//! The component's exports: the `connector` interface and `wasi:cli/run`.

use crate::cli::{parse_args, Command, USAGE};
use crate::config::Config;
use crate::connector;
use crate::engine::{Failure, ReadSummary, Sink};
use crate::protocol::{connection_status, error_line, FailureType};
use crate::redact::Redactor;
use crate::wasi_edge::{StdSink, WasiTransport};

wit_bindgen::generate!({ path: "wit", world: "source" });

use exports::activecampaign::source::connector as wit;

struct Component;

fn kind(k: FailureType) -> wit::FailureKind {
    match k {
        FailureType::Config => wit::FailureKind::ConfigError,
        FailureType::Transient => wit::FailureKind::TransientError,
        FailureType::System => wit::FailureKind::SystemError,
    }
}

fn to_wit(f: Failure, secret: &str) -> wit::Failure {
    wit::Failure {
        kind: kind(f.kind),
        message: Redactor::new(secret).clean(&f.message).into_owned(),
    }
}

fn summary(s: ReadSummary, secret: &str) -> wit::ReadSummary {
    wit::ReadSummary {
        streams: s
            .streams
            .into_iter()
            .map(|x| wit::StreamSummary {
                name: x.name,
                records: x.records,
                requests: x.requests,
                millis: x.millis,
                failure: x.failure.map(|(k, m)| {
                    to_wit(
                        Failure {
                            kind: k,
                            message: m,
                        },
                        secret,
                    )
                }),
            })
            .collect(),
        requests: s.requests,
        millis: s.millis,
    }
}

impl wit::Guest for Component {
    fn spec() -> String {
        connector::spec().to_string()
    }

    fn check(config: String) -> Result<wit::ConnectionStatus, wit::Failure> {
        let cfg = connector::load_config(&config).map_err(|f| to_wit(f, ""))?;
        let mut t = WasiTransport::new(&cfg);
        let (ok, message) = connector::check(&mut t, &cfg);
        Ok(wit::ConnectionStatus {
            succeeded: ok,
            message: Redactor::new(&cfg.api_key).clean(&message).into_owned(),
        })
    }

    fn discover(config: String) -> Result<String, wit::Failure> {
        let cfg = connector::load_config(&config).map_err(|f| to_wit(f, ""))?;
        let mut t = WasiTransport::new(&cfg);
        connector::discover(&mut t, &cfg)
            .map(|c| c.to_string())
            .map_err(|f| to_wit(f, &cfg.api_key))
    }

    fn read(
        config: String,
        catalog: Option<String>,
        state: Option<String>,
    ) -> Result<wit::ReadSummary, wit::Failure> {
        let cfg = connector::load_config(&config).map_err(|f| to_wit(f, ""))?;
        let mut t = WasiTransport::new(&cfg);
        let mut sink = StdSink::new(&cfg.api_key, false);
        connector::read(
            &mut t,
            &mut sink,
            &cfg,
            catalog.as_deref(),
            state.as_deref(),
        )
        .map(|s| summary(s, &cfg.api_key))
        .map_err(|f| to_wit(f, &cfg.api_key))
    }
}

/// Reads a file named on the command line, with an error that names it.
fn read_file(what: &str, path: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open the {what} file '{path}': {e}; pass a path inside a directory given to wasmtime with --dir HOST::/data"))?;
    if meta.len() > 64 * 1024 * 1024 {
        return Err(format!("the {what} file '{path}' is larger than 64 MB"));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read the {what} file '{path}': {e}"))
}

/// Prints a run-level failure as an Airbyte TRACE error and on stderr.
fn report(sink: &mut StdSink, f: &Failure) {
    sink.out(&error_line(None, &f.message, &f.message, f.kind, now_ms()));
    sink.checkpoint();
    eprintln!("error ({}): {}", f.kind.as_str(), f.message);
}

fn now_ms() -> u64 {
    let t = wasi::clocks::wall_clock::now();
    t.seconds * 1000 + (t.nanoseconds / 1_000_000) as u64
}

fn load(path: &str) -> Result<Config, Failure> {
    let text = read_file("config", path).map_err(|m| Failure {
        kind: FailureType::Config,
        message: m,
    })?;
    connector::load_config(&text)
}

/// The command line; `Ok` means exit 0.
fn run_cli() -> Result<(), ()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            // A runner reads failures from stdout, so a bad command line is reported there too.
            let f = Failure {
                kind: FailureType::Config,
                message: e,
            };
            report(&mut StdSink::new("", true), &f);
            eprintln!("\n{USAGE}");
            return Err(());
        }
    };
    let mut plain = StdSink::new("", true);
    match cmd {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::Spec => {
            plain.out(&connector::spec().to_string());
            Ok(())
        }
        Command::Check { config } => {
            let cfg = match load(&config) {
                Ok(c) => c,
                Err(f) => {
                    plain.out(&connection_status(false, &f.message).to_string());
                    report(&mut plain, &f);
                    return Err(());
                }
            };
            let mut sink = StdSink::new(&cfg.api_key, true);
            let mut t = WasiTransport::new(&cfg);
            let (ok, message) = connector::check(&mut t, &cfg);
            sink.out(&connection_status(ok, &message).to_string());
            sink.checkpoint();
            if ok {
                Ok(())
            } else {
                sink.progress(&format!("check failed: {message}"));
                Err(())
            }
        }
        Command::Discover { config } => {
            let cfg = load(&config).map_err(|f| report(&mut plain, &f))?;
            let mut sink = StdSink::new(&cfg.api_key, true);
            let mut t = WasiTransport::new(&cfg);
            match connector::discover(&mut t, &cfg) {
                Ok(c) => {
                    sink.out(&c.to_string());
                    Ok(())
                }
                Err(f) => {
                    report(&mut sink, &f);
                    Err(())
                }
            }
        }
        Command::SingerDiscover { config } => {
            let cfg = load(&config).map_err(|f| report(&mut plain, &f))?;
            let mut t = WasiTransport::new(&cfg);
            match connector::discover(&mut t, &cfg) {
                Ok(c) => {
                    println!("{}", crate::singer::catalog_text(&c));
                    Ok(())
                }
                Err(f) => {
                    let mut sink = StdSink::new(&cfg.api_key, true);
                    report(&mut sink, &f);
                    Err(())
                }
            }
        }
        Command::SingerSync {
            config,
            catalog,
            state,
        } => {
            let cfg = load(&config).map_err(|f| report(&mut plain, &f))?;
            let fail = |m: String| Failure {
                kind: FailureType::Config,
                message: m,
            };
            let streams = match read_file("catalog", &catalog)
                .and_then(|text| crate::singer::selected_streams(&text))
            {
                Ok(s) => s,
                Err(m) => return Err(report(&mut plain, &fail(m))),
            };
            let state = match state.map(|p| read_file("state", &p)).transpose() {
                Ok(s) => s,
                Err(m) => return Err(report(&mut plain, &fail(m))),
            };
            let bookmarks = match state
                .as_deref()
                .map(crate::state::parse_state_input)
                .transpose()
            {
                Ok(b) => b.unwrap_or_default().into_iter().collect(),
                Err(e) => return Err(report(&mut plain, &fail(e.0))),
            };
            let configured = crate::singer::as_configured_catalog(&streams);
            let mut sink = StdSink::singer(
                &cfg.api_key,
                crate::singer::SingerWriter::new(streams, bookmarks),
            );
            let mut t = WasiTransport::new(&cfg);
            let result =
                connector::read(&mut t, &mut sink, &cfg, Some(&configured), state.as_deref());
            finish_read(&mut sink, result)
        }
        Command::Read {
            config,
            catalog,
            state,
        } => {
            let cfg = load(&config).map_err(|f| report(&mut plain, &f))?;
            let mut sink = StdSink::new(&cfg.api_key, true);
            let catalog = match catalog.map(|p| read_file("catalog", &p)).transpose() {
                Ok(c) => c,
                Err(m) => {
                    return Err(report(
                        &mut sink,
                        &Failure {
                            kind: FailureType::Config,
                            message: m,
                        },
                    ))
                }
            };
            let state = match state.map(|p| read_file("state", &p)).transpose() {
                Ok(s) => s,
                Err(m) => {
                    return Err(report(
                        &mut sink,
                        &Failure {
                            kind: FailureType::Config,
                            message: m,
                        },
                    ))
                }
            };
            let mut t = WasiTransport::new(&cfg);
            let result = connector::read(
                &mut t,
                &mut sink,
                &cfg,
                catalog.as_deref(),
                state.as_deref(),
            );
            finish_read(&mut sink, result)
        }
    }
}

/// Reports a read's end: the summary, and the exit (failure when any stream failed).
fn finish_read(sink: &mut StdSink, result: Result<ReadSummary, Failure>) -> Result<(), ()> {
    match result {
        Err(f) => Err(report(sink, &f)),
        Ok(s) => {
            sink.checkpoint();
            print_summary(sink, &s);
            match connector::worst_failure(&s) {
                None => Ok(()),
                Some(k) => {
                    let failed: Vec<&str> = s
                        .streams
                        .iter()
                        .filter(|x| x.failure.is_some())
                        .map(|x| x.name.as_str())
                        .collect();
                    sink.progress(&format!(
                        "read finished with failed streams ({}): {}",
                        k.as_str(),
                        failed.join(", ")
                    ));
                    Err(())
                }
            }
        }
    }
}

/// The per-stream summary on stderr.
fn print_summary(sink: &mut StdSink, s: &ReadSummary) {
    let mut text = format!(
        "{:<34} {:>9} {:>8} {:>9}  status\n",
        "stream", "records", "requests", "seconds"
    );
    for x in &s.streams {
        let status = match &x.failure {
            None => "ok".to_string(),
            Some((k, _)) => format!("FAILED ({})", k.as_str()),
        };
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
    sink.progress(&text);
}

impl exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        run_cli()
    }
}

export!(Component);
