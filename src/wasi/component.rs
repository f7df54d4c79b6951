//! The component's exports: the `connector` interface and `wasi:cli/run`.

use crate::commands::connector;
use crate::engine::ReadSummary;
use crate::output::redact::Redactor;
use crate::output::{Protocol, Terminal, Writer};
use crate::vocab::failure::Failure;
use crate::vocab::failure::FailureType;
use crate::wasi::edge::{StdTerminal, WasiHost, WasiTransport};

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
                deletions: x.deleted,
                requests: x.requests,
                millis: x.millis,
                failure: x.failure.map(|f| to_wit(f, secret)),
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
        let mut term = StdTerminal::new();
        term.mask(cfg.api_key.expose());
        let mut sink = Writer::new(&mut term, Protocol::Airbyte, false);
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

impl exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if crate::commands::run(&args, &mut WasiHost, &mut StdTerminal::new()) {
            Ok(())
        } else {
            Err(())
        }
    }
}

export!(Component);
