//! The component's stdout, streamed into the host line by line.
//!
//! `read` writes Airbyte messages to stdout as JSON lines. Instead of buffering the whole output,
//! the host gives the component a custom stdout stream: each write is split into lines as it
//! arrives, RECORD lines go to their stream's file, STATE lines are saved by [`OutDir::state`],
//! LOG and TRACE lines are kept in `messages.jsonl`. A failure to save (disk full) traps the
//! component at once, so it can never go on believing its output was kept.

use crate::outdir::OutDir;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::fs::File;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// Longest line accepted (a record is far smaller; this bounds host memory per instance).
const MAX_LINE: usize = 64 * 1024 * 1024;
/// What one write may carry (as wasmtime's own stdio streams allow).
const WRITE_BUDGET: usize = 1024 * 1024;

/// Where the lines go, shared by every stdout handle the component opens.
pub struct LineSink {
    partial: Vec<u8>,
    /// The account's output folder.
    pub out: OutDir,
    messages: Option<File>,
    messages_path: std::path::PathBuf,
    /// The last TRACE error message's text, for the report.
    pub last_error: Option<String>,
    /// Set when saving failed; the run is then a failure even if the component went on.
    pub failed: Option<String>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    record: Option<RecordPart<'a>>,
}

#[derive(Deserialize)]
struct RecordPart<'a> {
    stream: &'a str,
    #[serde(borrow)]
    data: &'a RawValue,
}

impl LineSink {
    /// A sink writing into `out`; LOG and TRACE lines go to `out`'s `messages.jsonl`.
    pub fn new(out: OutDir, root: &std::path::Path) -> LineSink {
        LineSink {
            partial: Vec::new(),
            out,
            messages: None,
            messages_path: root.join("messages.jsonl"),
            last_error: None,
            failed: None,
        }
    }

    /// Takes bytes as they come; handles every complete line.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        let mut rest = bytes;
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(i);
            rest = &tail[1..];
            let r = if self.partial.is_empty() {
                self.line(head)
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(head);
                self.line(&whole)
            };
            if let Err(e) = r {
                self.failed = Some(e.clone());
                return Err(e);
            }
        }
        self.partial.extend_from_slice(rest);
        if self.partial.len() > MAX_LINE {
            let e = format!("the component wrote a line longer than {MAX_LINE} bytes");
            self.failed = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }

    fn line(&mut self, raw: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(raw)
            .map_err(|_| "the component wrote a line that is not UTF-8".to_string())?;
        if text.trim().is_empty() {
            return Ok(());
        }
        let Ok(line) = serde_json::from_str::<Line>(text) else {
            // Not a protocol message (e.g. a human progress line): keep it with the messages.
            return self.message(text);
        };
        match (line.kind, line.record) {
            ("RECORD", Some(r)) => self
                .out
                .record(r.stream, r.data.get())
                .map_err(|e| format!("cannot save a record: {e:#}")),
            ("STATE", _) => {
                let v: Value =
                    serde_json::from_str(text).map_err(|e| format!("bad STATE line: {e}"))?;
                match v.get("state") {
                    Some(s) => self
                        .out
                        .state(s.clone())
                        .map_err(|e| format!("cannot save the state: {e:#}")),
                    None => Err("the component wrote a STATE message without a state".into()),
                }
            }
            ("TRACE", _) => {
                if let Ok(v) = serde_json::from_str::<Value>(text) {
                    if let Some(m) = v["trace"]["error"]["message"].as_str() {
                        self.last_error = Some(m.to_string());
                    }
                }
                self.message(text)
            }
            _ => self.message(text),
        }
    }

    fn message(&mut self, text: &str) -> Result<(), String> {
        if self.messages.is_none() {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.messages_path)
                .map_err(|e| format!("cannot open {}: {e}", self.messages_path.display()))?;
            self.messages = Some(f);
        }
        if let Some(f) = self.messages.as_mut() {
            f.write_all(text.as_bytes())
                .and_then(|_| f.write_all(b"\n"))
                .map_err(|e| format!("cannot write {}: {e}", self.messages_path.display()))?;
        }
        Ok(())
    }
}

/// The stdout given to the component: every handle writes into the same [`LineSink`].
#[derive(Clone)]
pub struct SinkStdout(pub Arc<Mutex<LineSink>>);

impl SinkStdout {
    fn feed(&self, bytes: &[u8]) -> Result<(), String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).feed(bytes)
    }
}

impl IsTerminal for SinkStdout {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for SinkStdout {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for SinkStdout {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        // Trap rather than fail the write: the component ignores stdout write errors, and a
        // record that could not be saved must stop the run.
        self.feed(&bytes).map_err(|e| StreamError::trap(&e))
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for SinkStdout {
    async fn ready(&mut self) {}
}

impl AsyncWrite for SinkStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            self.feed(buf)
                .map(|_| buf.len())
                .map_err(std::io::Error::other),
        )
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_writes_are_joined() {
        let d = std::env::temp_dir().join(format!("ac-host-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let out = OutDir::open(&d).unwrap();
        let mut s = LineSink::new(out, &d);
        s.feed(br#"{"type":"RECORD","record":{"stream":"tags","data":{"id":"1","tag":"a"},"emitted_at":1}}"#).unwrap();
        s.feed(b"\n{\"type\":\"RECORD\",\"record\":{\"stream\":\"tags\",\"da")
            .unwrap();
        s.feed(b"ta\":{\"id\":\"2\"},\"emitted_at\":1}}\n{\"type\":\"STATE\",\"state\":{\"type\":\"STREAM\",\"stream\":{\"stream_descriptor\":{\"name\":\"tags\"},\"stream_state\":{}}}}\n").unwrap();
        s.feed(b"{\"type\":\"TRACE\",\"trace\":{\"type\":\"ERROR\",\"error\":{\"message\":\"boom\"}}}\nprogress text\n").unwrap();
        assert_eq!(s.out.records, 2);
        assert_eq!(s.out.states_saved, 1);
        assert_eq!(s.last_error.as_deref(), Some("boom"));
        let tags = std::fs::read_to_string(d.join("streams/tags.jsonl")).unwrap();
        assert_eq!(tags, "{\"id\":\"1\",\"tag\":\"a\"}\n{\"id\":\"2\"}\n");
        let msgs = std::fs::read_to_string(d.join("messages.jsonl")).unwrap();
        assert_eq!(msgs.lines().count(), 2);
    }

    #[test]
    fn a_bad_stream_name_fails_the_sink_for_good() {
        let d = std::env::temp_dir().join(format!("ac-host-sink-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let mut s = LineSink::new(OutDir::open(&d).unwrap(), &d);
        let bad = br#"{"type":"RECORD","record":{"stream":"../x","data":{}}}
"#;
        assert!(s.feed(bad).is_err());
        assert!(s.feed(b"{}\n").is_err());
        assert!(s.failed.is_some());
    }
}
