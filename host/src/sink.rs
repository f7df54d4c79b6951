//! The component's stdout, streamed into the host line by line.
//!
//! `read` writes Airbyte messages to stdout as JSON lines. Instead of buffering the whole output,
//! the host gives the component a custom stdout stream: each write is split into lines as it
//! arrives, RECORD lines go to their stream's file, STATE lines are saved by [`OutDir::state`],
//! LOG and TRACE lines are kept in the run's `messages-<run>.jsonl`. A failure to save (disk full) traps the
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
pub(crate) struct LineSink {
    partial: Vec<u8>,
    /// The account's output folder.
    pub(crate) out: OutDir,
    messages: Option<File>,
    messages_path: std::path::PathBuf,
    /// The last TRACE error message's text, for the report.
    pub(crate) last_error: Option<String>,
    /// Set when saving failed; the run is then a failure even if the component went on.
    pub(crate) failed: Option<String>,
    /// What the component's warnings say it held back, in order.
    pub(crate) held: Vec<crate::held::Held>,
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
    #[serde(default)]
    emitted_at: u64,
}

impl LineSink {
    /// A sink writing into `out`; LOG and TRACE lines go to this run's `messages-<run>.jsonl`.
    pub(crate) fn new(out: OutDir) -> LineSink {
        LineSink {
            partial: Vec::new(),
            messages_path: out.messages_path(),
            out,
            messages: None,
            last_error: None,
            failed: None,
            held: Vec::new(),
        }
    }

    /// Takes bytes as they come; handles every complete line.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
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
                .record(r.stream, r.data.get(), r.emitted_at)
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
            ("LOG", _) => {
                if let Ok(v) = serde_json::from_str::<Value>(text) {
                    if v["log"]["level"] == "WARN" {
                        let said = v["log"]["message"].as_str().unwrap_or("");
                        self.held.extend(crate::held::classify(said));
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

/// Writes queued between the component and its writer thread (each is one `write` call).
const QUEUE: usize = 256;

/// The stdout given to the component. Writes are queued to the account's writer thread, which
/// owns the [`LineSink`]: file writes and state saves never block the threads that run wasm (a
/// blocked worker would stall every other account on it). The queue is bounded, so a component
/// that writes faster than the disk waits (`check_write` says 0 until there is room).
#[derive(Clone)]
pub(crate) struct SinkStdout {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    failed: Arc<Mutex<Option<String>>>,
}

/// Starts the writer thread of `sink`; returns the stdout to give the component and the thread,
/// which hands the sink back once every [`SinkStdout`] clone is dropped and the queue is drained.
pub(crate) fn spawn_writer(
    mut sink: LineSink,
) -> std::io::Result<(SinkStdout, std::thread::JoinHandle<LineSink>)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(QUEUE);
    let failed = Arc::new(Mutex::new(None));
    let flag = failed.clone();
    let handle = std::thread::Builder::new()
        .name("ac-host-writer".into())
        .spawn(move || {
            while let Some(bytes) = rx.blocking_recv() {
                if let Err(e) = sink.feed(&bytes) {
                    *flag.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    // Closing the queue makes the component's next write trap.
                    break;
                }
            }
            sink
        })?;
    Ok((SinkStdout { tx, failed }, handle))
}

impl SinkStdout {
    fn failure(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn send(&self, bytes: Bytes) -> Result<(), String> {
        use tokio::sync::mpsc::error::TrySendError;
        match self.tx.try_send(bytes) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                Err("the component wrote to stdout without waiting for room".into())
            }
            Err(TrySendError::Closed(_)) => Err(self
                .failure()
                .unwrap_or_else(|| "the output writer stopped".into())),
        }
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
        self.send(bytes).map_err(|e| StreamError::trap(&e))
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        if let Some(e) = self.failure() {
            return Err(StreamError::trap(&e));
        }
        Ok(if self.tx.capacity() > 0 {
            WRITE_BUDGET
        } else {
            0
        })
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for SinkStdout {
    async fn ready(&mut self) {
        // Wait for room in the queue; the permit is given back at once (write takes it again).
        let _ = self.tx.reserve().await;
    }
}

/// The async form (used by WASIp3 components, not by this p2 one): same queue; when it is full
/// the write is retried on the next poll.
impl AsyncWrite for SinkStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.tx.capacity() == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(
            self.send(Bytes::copy_from_slice(buf))
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
        let mut s = LineSink::new(out);
        s.feed(br#"{"type":"RECORD","record":{"stream":"tags","data":{"id":"1","tag":"a"},"emitted_at":1}}"#).unwrap();
        s.feed(b"\n{\"type\":\"RECORD\",\"record\":{\"stream\":\"tags\",\"da")
            .unwrap();
        s.feed(b"ta\":{\"id\":\"2\"},\"emitted_at\":1}}\n{\"type\":\"STATE\",\"state\":{\"type\":\"STREAM\",\"stream\":{\"stream_descriptor\":{\"name\":\"tags\"},\"stream_state\":{}}}}\n").unwrap();
        s.feed(b"{\"type\":\"TRACE\",\"trace\":{\"type\":\"ERROR\",\"error\":{\"message\":\"boom\"}}}\nprogress text\n").unwrap();
        assert_eq!(s.out.records, 2);
        assert_eq!(s.out.states_saved, 1);
        assert_eq!(s.last_error.as_deref(), Some("boom"));
        let tags = std::fs::read_to_string(d.join("streams/tags.jsonl")).unwrap();
        assert_eq!(tags, "{\"id\":\"1\",\"tag\":\"a\",\"_ab_extracted_at\":1,\"_ab_run\":1,\"_ab_seq\":1,\"_ab_cdc_deleted_at\":null}\n{\"id\":\"2\",\"_ab_extracted_at\":1,\"_ab_run\":1,\"_ab_seq\":2,\"_ab_cdc_deleted_at\":null}\n");
        let msgs = std::fs::read_to_string(d.join("messages-1.jsonl")).unwrap();
        assert_eq!(msgs.lines().count(), 2);
        // A warning that holds deletions back is noted for the report; other logs are not.
        s.feed(b"{\"type\":\"LOG\",\"log\":{\"level\":\"WARN\",\"message\":\"tags: 4 of 12 rows would be deleted, more than deletion_guard_share allows\"}}\n{\"type\":\"LOG\",\"log\":{\"level\":\"INFO\",\"message\":\"tags: this pass resumed from a mid-pass state, so it finds no deletions\"}}\n").unwrap();
        let held: Vec<(&str, &str)> = s.held.iter().map(|h| (h.stream.as_str(), h.why)).collect();
        assert_eq!(held, [("tags", "deletion guard")]);
    }

    #[test]
    fn a_bad_stream_name_fails_the_sink_for_good() {
        let d = std::env::temp_dir().join(format!("ac-host-sink-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let mut s = LineSink::new(OutDir::open(&d).unwrap());
        let bad = br#"{"type":"RECORD","record":{"stream":"../x","data":{}}}
"#;
        assert!(s.feed(bad).is_err());
        assert!(s.feed(b"{}\n").is_err());
        assert!(s.failed.is_some());
    }

    #[tokio::test]
    async fn the_writer_thread_saves_in_order_and_hands_the_sink_back() {
        let d = std::env::temp_dir().join(format!("ac-host-sink-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let (mut out, writer) = spawn_writer(LineSink::new(OutDir::open(&d).unwrap())).unwrap();
        for i in 0..1000 {
            while out.check_write().unwrap() == 0 {
                out.ready().await;
            }
            let line = format!("{{\"type\":\"RECORD\",\"record\":{{\"stream\":\"tags\",\"data\":{{\"id\":\"{i}\"}}}}}}\n");
            out.write(Bytes::from(line)).unwrap();
        }
        drop(out);
        let sink = writer.join().unwrap();
        assert_eq!(sink.out.records, 1000);
        drop(sink);
        let text = std::fs::read_to_string(d.join("streams/tags.jsonl")).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["id"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(ids, (0..1000).map(|i| i.to_string()).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_writer_failure_traps_the_next_write() {
        let d = std::env::temp_dir().join(format!("ac-host-sink-wfail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let (mut out, writer) = spawn_writer(LineSink::new(OutDir::open(&d).unwrap())).unwrap();
        out.write(Bytes::from_static(
            b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"../x\",\"data\":{}}}\n",
        ))
        .unwrap();
        let sink = tokio::task::spawn_blocking(move || writer.join().unwrap())
            .await
            .unwrap();
        assert!(sink.failed.is_some());
        assert!(matches!(
            out.write(Bytes::from_static(b"{}\n")),
            Err(StreamError::Trap(_))
        ));
        assert!(out.check_write().is_err());
    }
}
