//! The output format, decided here and only here: the engine emits typed events through
//! [`Sink`], and a [`Writer`] turns them into the lines of one protocol (Airbyte, or Singer for
//! records and states), for a [`Terminal`] that only masks the key and moves bytes.

use crate::engine::{ErrorEvent, RecordEvent, Sink};
use crate::protocol::{error_line, log_line, record_line, state_line, status_line};
use crate::singer::SingerWriter;
use serde_json::Value;

/// Where lines go: stdout and stderr, with the key masked in both (the WASI edge in the
/// component; a recording fake in tests).
pub trait Terminal {
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
pub enum Protocol {
    /// Airbyte messages on stdout, all of them.
    Airbyte,
    /// Singer SCHEMA, RECORD and STATE messages on stdout; Airbyte LOG and TRACE lines go to
    /// stderr, where a Singer pipeline shows them to a person.
    Singer(SingerWriter),
}

/// Formats the engine's events in one protocol onto a terminal.
pub struct Writer<'t> {
    term: &'t mut dyn Terminal,
    protocol: Protocol,
    progress: bool,
}

impl<'t> Writer<'t> {
    /// A writer speaking `protocol`; `progress` writes human progress lines to stderr.
    pub fn new(term: &'t mut dyn Terminal, protocol: Protocol, progress: bool) -> Writer<'t> {
        Writer {
            term,
            protocol,
            progress,
        }
    }

    /// Switches to `protocol` (a command knows its protocol only once its files are read).
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    /// Masks the key in everything written from now on.
    pub fn mask(&mut self, secret: &str) {
        self.term.mask(secret);
    }

    /// One whole message of the command itself (SPEC, CONNECTION_STATUS, CATALOG) on stdout.
    pub fn message(&mut self, line: &str) {
        self.term.out(line);
    }

    /// Text for a person on stderr, whatever the progress setting.
    pub fn note(&mut self, text: &str) {
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
    fn log(&mut self, level: &str, message: &str) {
        self.side(&log_line(level, message));
    }
    fn status(&mut self, stream: &str, status: &str, emitted_at: u64) {
        self.side(&status_line(stream, status, emitted_at));
    }
    fn error(&mut self, e: &ErrorEvent, emitted_at: u64) {
        self.side(&error_line(
            e.stream, e.message, e.internal, e.kind, emitted_at,
        ));
    }
    fn checkpoint(&mut self) {
        self.term.flush();
    }
    fn progress(&mut self, text: &str) {
        if self.progress {
            self.term.err(text);
        }
    }
}

/// Test doubles for the terminal.
#[cfg(test)]
pub(crate) mod fake {
    use super::Terminal;

    /// Records what was written, masking as the edge does.
    #[derive(Debug, Default)]
    pub(crate) struct Screen {
        /// The secret masked, when one was given.
        pub secret: Option<String>,
        /// stdout lines.
        pub out: Vec<String>,
        /// stderr texts.
        pub err: Vec<String>,
        /// Flushes.
        pub flushes: usize,
    }

    impl Screen {
        fn clean(&self, text: &str) -> String {
            crate::redact::Redactor::new(self.secret.as_deref().unwrap_or(""))
                .clean(text)
                .into_owned()
        }
    }

    impl Terminal for Screen {
        fn mask(&mut self, secret: &str) {
            self.secret = Some(secret.to_string());
        }
        fn out(&mut self, line: &str) {
            let l = self.clean(line);
            self.out.push(l);
        }
        fn err(&mut self, text: &str) {
            let t = self.clean(text);
            self.err.push(t);
        }
        fn flush(&mut self) {
            self.flushes += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::Screen;
    use super::*;
    use crate::protocol::FailureType;
    use crate::singer::{selected_streams, SingerWriter};
    use serde_json::json;

    fn tag_record() -> RecordEvent<'static> {
        RecordEvent {
            stream: "tags",
            stream_json: "\"tags\"",
            data_json: r#"{"id":"1"}"#,
            emitted_at: 7,
        }
    }

    fn error() -> ErrorEvent<'static> {
        ErrorEvent {
            stream: Some("tags"),
            message: "stream 'tags' failed: gone",
            internal: "gone",
            kind: FailureType::Transient,
        }
    }

    #[test]
    fn airbyte_puts_every_message_on_stdout() {
        let mut screen = Screen::default();
        let mut w = Writer::new(&mut screen, Protocol::Airbyte, true);
        w.record(&tag_record());
        w.state("tags", &json!({"x": 1}), 1);
        w.log("WARN", "careful");
        w.status("tags", "COMPLETE", 8);
        w.error(&error(), 9);
        w.checkpoint();
        w.progress("half way");
        assert_eq!(
            screen.out,
            vec![
                record_line("\"tags\"", r#"{"id":"1"}"#, 7),
                state_line("tags", &json!({"x": 1}), 1),
                log_line("WARN", "careful"),
                status_line("tags", "COMPLETE", 8),
                error_line(
                    Some("tags"),
                    "stream 'tags' failed: gone",
                    "gone",
                    FailureType::Transient,
                    9
                ),
            ]
        );
        assert_eq!(screen.err, vec!["half way".to_string()]);
        assert_eq!(screen.flushes, 1);
    }

    #[test]
    fn progress_off_writes_nothing_to_stderr() {
        let mut screen = Screen::default();
        let mut w = Writer::new(&mut screen, Protocol::Airbyte, false);
        w.progress("half way");
        w.note("always");
        assert_eq!(screen.err, vec!["always".to_string()]);
    }

    #[test]
    fn singer_puts_records_and_states_on_stdout_and_the_rest_on_stderr() {
        let catalog = json!({"streams": [{"tap_stream_id": "tags", "stream": "tags",
            "schema": {"type": "object", "properties": {"id": {"type": "string"}}},
            "metadata": [{"breadcrumb": [], "metadata": {"selected": true}}]}]});
        let streams = selected_streams(&catalog.to_string()).unwrap();
        let mut screen = Screen::default();
        let mut w = Writer::new(&mut screen, Protocol::Airbyte, true);
        w.set_protocol(Protocol::Singer(SingerWriter::new(
            streams,
            Default::default(),
        )));
        w.record(&tag_record());
        w.state("tags", &json!({"x": 1}), 1);
        w.log("INFO", "hello");
        w.status("tags", "COMPLETE", 8);
        let types: Vec<String> = screen
            .out
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].to_string())
            .collect();
        assert_eq!(types, vec!["\"SCHEMA\"", "\"RECORD\"", "\"STATE\""]);
        assert_eq!(
            screen.err,
            vec![
                log_line("INFO", "hello"),
                status_line("tags", "COMPLETE", 8)
            ]
        );
    }

    #[test]
    fn the_terminal_masks_the_key() {
        let mut screen = Screen::default();
        let mut w = Writer::new(&mut screen, Protocol::Airbyte, true);
        w.mask("SECRETKEY");
        w.log("WARN", "the key SECRETKEY leaked");
        w.progress("SECRETKEY");
        assert!(!screen.out[0].contains("SECRETKEY"));
        assert!(!screen.err[0].contains("SECRETKEY"));
    }
}
