//! The output format, decided here and only here: the engine emits typed events through
//! [`Sink`], and a [`Writer`] turns them into the lines of one protocol (Airbyte, or Singer for
//! records and states), for a [`Terminal`] that only masks the key and moves bytes.

pub(crate) mod airbyte;
pub(crate) mod redact;
pub(crate) mod singer;
pub(crate) mod typing;

use crate::api::catalog::AIRBYTE_DELETED_AT;
use crate::engine::decision::Decision;
use crate::engine::{ErrorEvent, Level, RecordEvent, Sink, StreamStatus};
use crate::output::airbyte::{
    deletion_data, error_line, log_line, record_line, state_line, status_line,
};
use crate::output::singer::SingerWriter;
use crate::output::singer::SINGER_DELETED_AT;
use crate::output::typing::Typing;
use serde_json::Value;

/// Where lines go: stdout and stderr, with the key masked in both (the WASI edge in the
/// component; a recording fake in tests).
pub(crate) trait Terminal {
    /// Masks `secret` in everything written from now on.
    fn mask(&mut self, secret: &str);
    /// One line on stdout (the protocol stream).
    fn out(&mut self, line: &str);
    /// Text for a person on stderr; stdout is flushed first, so the two stay in order.
    fn err(&mut self, text: &str);
    /// Makes everything written to stdout so far durable.
    fn flush(&mut self);
}

/// The protocol of the records and states written.
#[derive(Debug)]
pub(crate) enum Protocol {
    /// Airbyte messages on stdout, all of them.
    Airbyte,
    /// Singer SCHEMA, RECORD and STATE messages on stdout; Airbyte LOG and TRACE lines go to
    /// stderr, where a Singer pipeline shows them to a person.
    Singer(SingerWriter),
}

/// Formats the engine's events in one protocol onto a terminal.
pub(crate) struct Writer<'t> {
    term: &'t mut dyn Terminal,
    protocol: Protocol,
    progress: bool,
    /// The warnings that said something was held back, for the summary.
    held_back: Vec<String>,
    typing: Typing,
}

impl<'t> Writer<'t> {
    /// A writer speaking `protocol`; `progress` writes human progress lines to stderr.
    pub(crate) fn new(
        term: &'t mut dyn Terminal,
        protocol: Protocol,
        progress: bool,
    ) -> Writer<'t> {
        Writer {
            term,
            protocol,
            progress,
            held_back: Vec::new(),
            typing: Typing::default(),
        }
    }

    /// The warnings of this read that said something was held back (guard, resumed pass,
    /// fallback), each naming its stream and the fix.
    pub(crate) fn held_back(&self) -> &[String] {
        &self.held_back
    }

    /// Switches to `protocol` (a command knows its protocol only once its files are read).
    pub(crate) fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    /// Singer: the input's bookmarks as the first STATE (see [`SingerWriter::opening`]).
    pub(crate) fn open_singer(&mut self) {
        if let Protocol::Singer(w) = &mut self.protocol {
            if let Some(line) = w.opening() {
                self.term.out(&line);
            }
        }
    }

    /// Masks the key in everything written from now on.
    pub(crate) fn mask(&mut self, secret: &str) {
        self.term.mask(secret);
    }

    /// One whole message of the command itself (SPEC, CONNECTION_STATUS, CATALOG) on stdout.
    pub(crate) fn message(&mut self, line: &str) {
        self.term.out(line);
    }

    /// Text for a person on stderr, whatever the progress setting.
    pub(crate) fn note(&mut self, text: &str) {
        self.term.err(text);
    }

    /// An Airbyte LOG or TRACE line: on stdout for Airbyte, on stderr for Singer.
    fn side(&mut self, line: &str) {
        match self.protocol {
            Protocol::Airbyte => self.term.out(line),
            Protocol::Singer(_) => self.term.err(line),
        }
    }
}

impl Sink for Writer<'_> {
    fn record(&mut self, r: &RecordEvent) {
        let RecordEvent {
            stream,
            stream_json,
            data_json,
            emitted_at,
        } = *r;
        let typed = self.typing.convert(stream, data_json);
        let data_json: &str = &typed;
        match &mut self.protocol {
            Protocol::Airbyte => self
                .term
                .out(&record_line(stream_json, data_json, emitted_at)),
            Protocol::Singer(w) => w
                .record(stream, stream_json, data_json, emitted_at)
                .iter()
                .for_each(|l| self.term.out(l)),
        }
    }
    fn state(&mut self, stream: &str, state: &Value, records: u64) {
        match &mut self.protocol {
            Protocol::Airbyte => self.term.out(&state_line(stream, state, records)),
            Protocol::Singer(w) => w.state(stream, state).iter().for_each(|l| self.term.out(l)),
        }
    }
    fn log(&mut self, level: Level, message: &str) {
        self.side(&log_line(level, message));
    }
    fn decision(&mut self, decision: &Decision) {
        let message = decision.message();
        if decision.holds_back() {
            self.held_back.push(message.clone());
        }
        self.log(decision.level(), &message);
    }
    fn status(&mut self, stream: &str, status: StreamStatus, emitted_at: u64) {
        if let Some(warning) = self.typing.report(stream) {
            self.log(Level::Warn, &warning);
        }
        if let Protocol::Singer(w) = &mut self.protocol {
            if matches!(status, StreamStatus::Complete | StreamStatus::Incomplete) {
                if let Some(line) = w.flush() {
                    self.term.out(&line);
                }
            }
        }
        self.side(&status_line(stream, status, emitted_at));
    }
    fn error(&mut self, e: &ErrorEvent, emitted_at: u64) {
        self.side(&error_line(
            e.stream, e.message, e.internal, e.kind, emitted_at,
        ));
    }
    fn deletion(&mut self, stream: &str, stream_json: &str, id: &str, emitted_at: u64) {
        match &mut self.protocol {
            Protocol::Airbyte => {
                let data = deletion_data(id, AIRBYTE_DELETED_AT, emitted_at);
                self.term.out(&record_line(stream_json, &data, emitted_at))
            }
            Protocol::Singer(w) => {
                let data = deletion_data(id, SINGER_DELETED_AT, emitted_at);
                w.record(stream, stream_json, &data, emitted_at)
                    .iter()
                    .for_each(|l| self.term.out(l))
            }
        }
    }
    fn checkpoint(&mut self) {
        self.term.flush();
    }
    fn declare(&mut self, stream: &str, schema: &Value) {
        self.typing.declare(stream, schema);
    }
    fn progress(&mut self, text: &str) {
        if self.progress {
            self.term.err(text);
        }
    }
}

#[cfg(test)]
mod tests;
