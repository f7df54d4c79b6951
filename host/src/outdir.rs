//! The output folder of one account: `streams/<stream>.jsonl`, `state.json` and each run's
//! `messages-<run>.jsonl`.
//!
//! Records are appended to their stream's file, each line the record's data plus the columns a
//! warehouse needs to tell which line of an id is current (docs/files.md): `_ab_extracted_at`
//! (the record's emitted_at, ms), `_ab_run` (this folder's run number), `_ab_seq` (the line's
//! place in the run) and `_ab_cdc_deleted_at` (null unless the line is a deletion). A STATE message first flushes every stream file
//! (so the records it covers are in the files), then replaces `state.json` by writing a temporary
//! file and renaming it over the old one: a kill at any moment leaves either the old or the new
//! state, each consistent with the records already in the files. Records written after the last
//! saved STATE are read again by the next run (at-least-once; the primary key dedupes them).

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Where one account's records and state go.
pub(crate) struct OutDir {
    root: PathBuf,
    files: HashMap<String, BufWriter<File>>,
    /// Latest state per stream (Airbyte STREAM state objects), keyed by stream name.
    states: BTreeMap<String, Value>,
    /// Records written in this run.
    pub(crate) records: u64,
    /// STATE messages saved in this run.
    pub(crate) states_saved: u64,
    /// Time spent flushing records and replacing state.json (the cost of checkpoints).
    pub(crate) saving: std::time::Duration,
    /// This run's number: one more than the last run's (`messages-<run>.jsonl` files).
    pub(crate) run: u64,
    /// Lines written in this run, over every stream.
    seq: u64,
}

/// The number of the run after the last one in `root` (each run claims `messages-<run>.jsonl`).
fn next_run(root: &Path) -> Result<u64> {
    let last = std::fs::read_dir(root)
        .with_context(|| format!("cannot list {}", root.display()))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("messages-")?
                .strip_suffix(".jsonl")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    Ok(last + 1)
}

/// Whether a record's data is a deletion (it carries `_ab_cdc_deleted_at` at its top level).
fn is_deletion(data: &str) -> bool {
    data.contains("\"_ab_cdc_deleted_at\"")
        && serde_json::from_str::<Value>(data).is_ok_and(|v| v.get("_ab_cdc_deleted_at").is_some())
}

/// A stream name usable as a file name (the connector's names are `[a-z0-9_]`; anything else is
/// refused rather than mapped, so two streams can never share a file).
fn file_name(stream: &str) -> Result<String> {
    if stream.is_empty()
        || stream.len() > 200
        || !stream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        bail!("stream name {stream:?} cannot be a file name");
    }
    Ok(format!("{stream}.jsonl"))
}

/// The stream a STATE message's `state` object is about (`None` for GLOBAL or LEGACY state).
fn state_stream(state: &Value) -> Option<&str> {
    state
        .get("stream")?
        .get("stream_descriptor")?
        .get("name")?
        .as_str()
}

impl OutDir {
    /// Opens (creating) the folder and loads `state.json` if there is one.
    pub(crate) fn open(root: &Path) -> Result<OutDir> {
        std::fs::create_dir_all(root.join("streams"))
            .with_context(|| format!("cannot create the output folder {}", root.display()))?;
        let mut states = BTreeMap::new();
        let path = root.join("state.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let v: Value = serde_json::from_str(&text).with_context(|| {
                    format!("{} is not JSON; move it away to start over", path.display())
                })?;
                let Value::Array(items) = v else {
                    bail!(
                        "{} is not a list of Airbyte state messages; move it away to start over",
                        path.display()
                    );
                };
                for item in items {
                    let key = state_stream(&item).unwrap_or("").to_string();
                    states.insert(key, item);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
        let run = next_run(root)?;
        let messages = root.join(format!("messages-{run}.jsonl"));
        File::create(&messages).with_context(|| format!("cannot create {}", messages.display()))?;
        Ok(OutDir {
            root: root.to_path_buf(),
            files: HashMap::new(),
            states,
            records: 0,
            states_saved: 0,
            saving: std::time::Duration::ZERO,
            run,
            seq: 0,
        })
    }

    /// This run's `messages-<run>.jsonl` (LOG and TRACE lines; kept run after run).
    pub(crate) fn messages_path(&self) -> PathBuf {
        self.root.join(format!("messages-{}.jsonl", self.run))
    }

    /// The saved state to pass to `read` (None when nothing was saved yet).
    pub(crate) fn state_text(&self) -> Option<String> {
        if self.states.is_empty() {
            return None;
        }
        Some(Value::Array(self.states.values().cloned().collect()).to_string())
    }

    /// The stream file, opened for append on first use. A line cut short by a kill is removed
    /// first, so every line in the file is a whole record.
    fn file(&mut self, stream: &str) -> Result<&mut BufWriter<File>> {
        if !self.files.contains_key(stream) {
            let path = self.root.join("streams").join(file_name(stream)?);
            let mut f = OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            cut_partial_line(&mut f)
                .with_context(|| format!("cannot repair {}", path.display()))?;
            self.files
                .insert(stream.to_string(), BufWriter::with_capacity(16 * 1024, f));
        }
        self.files
            .get_mut(stream)
            .context("stream file vanished from the table")
    }

    /// Appends one record (the record's `data` JSON object, read at `emitted_at` ms) to its
    /// stream's file, with the columns of the module's header.
    pub(crate) fn record(&mut self, stream: &str, data: &str, emitted_at: u64) -> Result<()> {
        let body = data.trim();
        let Some(inner) = body.strip_prefix('{').and_then(|b| b.strip_suffix('}')) else {
            bail!("a record of stream {stream} is not a JSON object");
        };
        let deletion = if is_deletion(body) {
            ""
        } else {
            ",\"_ab_cdc_deleted_at\":null"
        };
        let comma = if inner.trim().is_empty() { "" } else { "," };
        self.seq += 1;
        let meta = format!(
            "{comma}\"_ab_extracted_at\":{emitted_at},\"_ab_run\":{},\"_ab_seq\":{}{deletion}}}\n",
            self.run, self.seq
        );
        let f = self.file(stream)?;
        f.write_all(b"{")?;
        f.write_all(inner.as_bytes())?;
        f.write_all(meta.as_bytes())?;
        self.records += 1;
        Ok(())
    }

    /// Saves a STATE message's `state` object: flushes the records before it, then replaces
    /// `state.json` atomically.
    pub(crate) fn state(&mut self, state: Value) -> Result<()> {
        let t = std::time::Instant::now();
        let r = self.save_state(state);
        self.saving += t.elapsed();
        r
    }

    fn save_state(&mut self, state: Value) -> Result<()> {
        for (stream, f) in self.files.iter_mut() {
            f.flush()
                .with_context(|| format!("cannot write the records of stream {stream}"))?;
        }
        let key = state_stream(&state).unwrap_or("").to_string();
        self.states.insert(key, state);
        let text = Value::Array(self.states.values().cloned().collect()).to_string();
        let tmp = self.root.join("state.json.tmp");
        let dst = self.root.join("state.json");
        std::fs::write(&tmp, text.as_bytes())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &dst).with_context(|| format!("cannot replace {}", dst.display()))?;
        self.states_saved += 1;
        Ok(())
    }

    /// Flushes every stream file (at the end of a run; records after the last STATE are kept).
    pub(crate) fn flush(&mut self) -> Result<()> {
        for f in self.files.values_mut() {
            f.flush()?;
        }
        Ok(())
    }
}

/// Truncates a file after its last newline (a kill can cut the last line short).
fn cut_partial_line(f: &mut File) -> std::io::Result<()> {
    let len = f.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(());
    }
    // Read backwards in blocks until a newline is found.
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|b| *b == b'\n') {
            let keep = start + i as u64 + 1;
            if keep != len {
                f.set_len(keep)?;
            }
            return Ok(());
        }
        end = start;
    }
    f.set_len(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ac-host-out-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn st(stream: &str, n: u64) -> Value {
        json!({"type":"STREAM","stream":{"stream_descriptor":{"name":stream},"stream_state":{"n":n}}})
    }

    #[test]
    fn state_is_saved_after_records_and_reloaded() {
        let d = dir("reload");
        let mut o = OutDir::open(&d).unwrap();
        assert_eq!(o.state_text(), None);
        o.record("tags", r#"{"id":"1"}"#, 5).unwrap();
        o.state(st("tags", 1)).unwrap();
        o.record("deals", r#"{"id":"7"}"#, 6).unwrap();
        o.state(st("tags", 2)).unwrap();
        // The records before the second STATE are in the files already.
        let deals = std::fs::read_to_string(d.join("streams/deals.jsonl")).unwrap();
        assert_eq!(
            deals,
            "{\"id\":\"7\",\"_ab_extracted_at\":6,\"_ab_run\":1,\"_ab_seq\":2,\"_ab_cdc_deleted_at\":null}\n"
        );
        drop(o);
        let o = OutDir::open(&d).unwrap();
        let v: Value = serde_json::from_str(&o.state_text().unwrap()).unwrap();
        assert_eq!(v, json!([st("tags", 2)]));
        assert!(!d.join("state.json.tmp").exists());
    }

    #[test]
    fn a_cut_line_is_removed_before_appending() {
        let d = dir("cut");
        std::fs::create_dir_all(d.join("streams")).unwrap();
        std::fs::write(d.join("streams/tags.jsonl"), "{\"id\":\"1\"}\n{\"id\":").unwrap();
        let mut o = OutDir::open(&d).unwrap();
        o.record("tags", r#"{"id":"2"}"#, 9).unwrap();
        o.flush().unwrap();
        let text = std::fs::read_to_string(d.join("streams/tags.jsonl")).unwrap();
        assert_eq!(
            text,
            "{\"id\":\"1\"}\n{\"id\":\"2\",\"_ab_extracted_at\":9,\"_ab_run\":1,\"_ab_seq\":1,\"_ab_cdc_deleted_at\":null}\n"
        );
    }

    #[test]
    fn bad_state_file_and_stream_names_are_refused() {
        let d = dir("bad");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("state.json"), "{}").unwrap();
        let e = OutDir::open(&d).err().unwrap().to_string();
        assert!(e.contains("not a list"), "{e}");
        std::fs::remove_file(d.join("state.json")).unwrap();
        let mut o = OutDir::open(&d).unwrap();
        assert!(o.record("../x", "{}", 1).is_err());
        assert!(o.record("tags", "[1]", 1).is_err());
    }

    /// Each run of a folder has the next number and its own messages file; a deletion keeps its
    /// time, an empty object gets the columns alone.
    #[test]
    fn runs_are_numbered_and_every_line_has_the_columns() {
        let d = dir("runs");
        let mut o = OutDir::open(&d).unwrap();
        assert_eq!(o.run, 1);
        o.record("tags", "{}", 3).unwrap();
        o.record(
            "tags",
            r#"{"id":"4","_ab_cdc_deleted_at":"2026-01-01T00:00:00Z"}"#,
            4,
        )
        .unwrap();
        o.flush().unwrap();
        drop(o);
        let o = OutDir::open(&d).unwrap();
        assert_eq!(o.run, 2);
        assert!(
            d.join("messages-1.jsonl").exists() && o.messages_path().ends_with("messages-2.jsonl")
        );
        let text = std::fs::read_to_string(d.join("streams/tags.jsonl")).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                json!({"_ab_extracted_at": 3, "_ab_run": 1, "_ab_seq": 1, "_ab_cdc_deleted_at": null}),
                json!({"id": "4", "_ab_cdc_deleted_at": "2026-01-01T00:00:00Z", "_ab_extracted_at": 4, "_ab_run": 1, "_ab_seq": 2}),
            ]
        );
    }
}
