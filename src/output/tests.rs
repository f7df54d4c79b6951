use super::*;
use crate::engine::{Level, StreamStatus};
use crate::output::singer::{selected_streams, SingerWriter};
use crate::test_support::Screen;
use crate::vocab::failure::FailureType;
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
    w.log(Level::Warn, "careful");
    w.status("tags", StreamStatus::Complete, 8);
    w.error(&error(), 9);
    w.checkpoint();
    w.progress("half way");
    assert_eq!(
        screen.out,
        vec![
            record_line("\"tags\"", r#"{"id":"1"}"#, 7),
            state_line("tags", &json!({"x": 1}), 1),
            log_line(crate::engine::Level::Warn, "careful"),
            status_line("tags", crate::engine::StreamStatus::Complete, 8),
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
    w.log(Level::Info, "hello");
    w.status("tags", StreamStatus::Complete, 8);
    let types: Vec<String> = screen
        .out
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].to_string())
        .collect();
    assert_eq!(types, vec!["\"SCHEMA\"", "\"RECORD\"", "\"STATE\""]);
    assert_eq!(
        screen.err,
        vec![
            log_line(crate::engine::Level::Info, "hello"),
            status_line("tags", crate::engine::StreamStatus::Complete, 8)
        ]
    );
}

#[test]
fn the_terminal_masks_the_key() {
    let mut screen = Screen::default();
    let mut w = Writer::new(&mut screen, Protocol::Airbyte, true);
    w.mask("SECRETKEY");
    w.log(Level::Warn, "the key SECRETKEY leaked");
    w.progress("SECRETKEY");
    assert!(!screen.out[0].contains("SECRETKEY"));
    assert!(!screen.err[0].contains("SECRETKEY"));
}

/// A decision of the engine reaches a log-only writer as its message, at its level.
#[test]
fn decisions_are_logged_at_their_level() {
    use crate::engine::decision::Decision;
    let mut screen = Screen::default();
    let mut w = Writer::new(&mut screen, Protocol::Airbyte, true);
    w.decision(&Decision::IdsDoNotRise {
        stream: "tags".into(),
    });
    let line = screen.out.last().cloned().unwrap_or_default();
    assert!(
        line.contains("\"WARN\"") && line.contains("tags: ids do not rise"),
        "{line}"
    );
}
