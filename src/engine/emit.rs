//! Emitting: a page's records to each stream of its task (cut on each stream's cursor), then
//! each stream's state, and progress now and then.

use super::deletions::state_due;
use super::plan::Deletions;
use super::run::Run;
use super::task::{Out, Task, PROGRESS_EVERY_NS};
use super::RecordEvent;
use super::{Level, StreamStatus};
use crate::documents::state::{Resume, StreamState};
use crate::http::response::null_zero_dates_raw;
use crate::rules::datetime::{cursor_instant, Instant};
use crate::vocab::json::json_string;
use crate::vocab::page::{id_text, record_id, string_id_raw, Page, Record};
use serde_json::Value;

/// Where a page leaves its task: the resume point after it (`None`: the pass is complete) and
/// the list's latest count.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PageEnd {
    /// Resume point after this page; `None` closes the pass.
    pub(super) resume: Option<Resume>,
    /// The list's count in this answer, for progress.
    pub(super) total: Option<u64>,
}

/// Whether an incremental stream delivers this record (its cursor past the state's, or a
/// record the cursor alone cannot place), noting the cursor seen. Only incremental streams take
/// records apart, for their id and cursor.
fn wanted(o: &mut Out, text: &str, floor: Option<Instant>, lookback: i64) -> bool {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    // The first cursor field the record carries wins.
    let at: Option<Instant> = o.cursors.iter().find_map(|c| {
        v.get(c.as_str())
            .and_then(Value::as_str)
            .and_then(cursor_instant)
    });
    if at.is_none() && !o.cursors.is_empty() {
        o.uncursored += 1;
    }
    let id = id_text(v.get("id"));
    let wanted = if o.partial {
        o.state.wants_partial(at, &id, floor, lookback)
    } else {
        o.state.wants(at, &id, floor, lookback)
    };
    if wanted {
        if let Some(at) = at {
            o.state.saw(at, &id);
        }
    }
    wanted
}

impl Run<'_, '_> {
    /// Emits a page's records to each stream of the task, then each stream's state (`resume` None:
    /// the pass is complete).
    pub(super) fn emit_page(&mut self, t: &mut Task, page: Page, end: PageEnd) {
        let PageEnd { resume, total } = end;
        let now = self.client.transport.now_ns();
        let emitted_at = self.client.transport.wall_ms();
        let floor = self.config.start_date;
        let mut lists: Vec<(String, Vec<Record>)> = page.extra;
        lists.push((t.def.page_key.clone(), page.main));
        self.reseat_ignored_riders(t, &lists);
        if let Err(failure) = self.join_where_ignored(t, &lists) {
            return self.fail(t, failure);
        }
        for o in t.outs.iter_mut() {
            if !o.started {
                o.started = true;
                self.sink
                    .status(&o.stream, StreamStatus::Running, emitted_at);
            }
            let Some(records) = lists.iter().find(|(k, _)| *k == o.list_key).map(|(_, r)| r) else {
                continue;
            };
            let page_values = super::columns::page_values(self.config, &o.stream, &lists);
            let columns = super::columns::table(&page_values, &self.joined);
            let unreadable = columns.map_or(0, |c| c.unreadable);
            if unreadable > 0 && !self.told_unreadable.contains(&o.stream) {
                self.told_unreadable.push(o.stream.clone());
                self.sink.log(
                    Level::Warn,
                    &super::columns::unreadable(&o.stream, unreadable),
                );
            }
            let stream_json = json_string(&o.stream);
            let lookback = self.config.lookback_window_seconds.max(o.lookback_s);
            let tracked = o.deletions != Deletions::NotTracked;
            for r in records {
                // A record's id, found once, when deletions are tracked.
                let rid = (tracked || o.pass_ids.is_some()).then(|| record_id(r));
                if let (Some(ids), Some(id)) = (o.pass_ids.as_mut(), &rid) {
                    ids.insert(id);
                }
                let dated = null_zero_dates_raw(r.get());
                let text = string_id_raw(&dated);
                if o.incremental && !wanted(o, &text, floor, lookback) {
                    continue;
                }
                let text = match &columns {
                    Some(c) => c.apply(text.into_owned(), &record_id(r)).into(),
                    None => text,
                };
                self.sink.record(&RecordEvent {
                    stream: &o.stream,
                    stream_json: &stream_json,
                    data_json: &text,
                    emitted_at,
                });
                if let (true, Some(id)) = (tracked, &rid) {
                    o.state.delivered(id);
                }
                o.records += 1;
            }
        }
        self.emit_states(t, resume);
        self.report_progress(t, total, now);
    }

    /// Reads and joins an owner's custom field values when this page of its records came
    /// without them (the API ignored the `include=`): once per read, before its first record.
    fn join_where_ignored(
        &mut self,
        t: &Task,
        lists: &[(String, Vec<Record>)],
    ) -> Result<(), crate::vocab::failure::Failure> {
        for o in &t.outs {
            let Some(owner) = super::columns::lacks_values(self.config, &o.stream, lists) else {
                continue;
            };
            let has_records = lists.iter().any(|(k, r)| *k == o.list_key && !r.is_empty());
            if !has_records || self.joined.iter().any(|j| j.owner() == owner) {
                continue;
            }
            let (table, requests) = super::columns::join(
                self.client,
                self.config,
                owner,
                super::columns::MAX_JOINED_VALUES,
            )?;
            self.sink
                .decision(&super::decision::Decision::ValuesJoined {
                    stream: o.stream.clone(),
                    include: owner.values.to_string(),
                    values: table.values as u64,
                    requests,
                });
            self.joined.push(table);
        }
        Ok(())
    }

    /// Logs and shows each stream's progress, every [`PROGRESS_EVERY_NS`] of a task.
    fn report_progress(&mut self, t: &mut Task, total: Option<u64>, now: u64) {
        if now.saturating_sub(t.stats.last_progress_ns) < PROGRESS_EVERY_NS {
            return;
        }
        t.stats.last_progress_ns = now;
        let elapsed_s =
            (now.saturating_sub(t.stats.first_ns.unwrap_or(now)) as f64 / 1e9).max(0.001);
        for o in &t.outs {
            let main = o.list_key == t.def.page_key;
            let of = if main {
                total.map(|n| format!(" of about {n}")).unwrap_or_default()
            } else {
                String::new()
            };
            self.sink.log(
                Level::Info,
                &format!(
                    "{}: {} records so far{of}, {} pages",
                    o.stream, o.records, t.stats.pages
                ),
            );
            let left = match total {
                Some(n) if main && o.records > 0 && n > o.records => {
                    let eta = (n - o.records) as f64 / (o.records as f64 / elapsed_s);
                    format!(", about {} left (~{:.0} s)", n - o.records, eta)
                }
                _ => String::new(),
            };
            self.sink.progress(&format!(
                "{}: {} records, {} pages, {:.1} requests/s{left}",
                o.stream,
                o.records,
                t.stats.pages,
                t.stats.requests as f64 / elapsed_s
            ));
        }
    }

    /// Writes each stream's state; `None` closes the pass (after its deletions). A large
    /// baseline is restated every few pages only ([`state_due`]).
    pub(super) fn emit_states(&mut self, t: &mut Task, resume: Option<Resume>) {
        if resume.is_none() {
            self.close_pass_ids(t);
        } else if t.newest.is_some() {
            // A newest-first pass is not resumed where it stopped (new records push its pages
            // down): the next sync reads it again from the top, from the same cursor.
            return;
        }
        for o in t.outs.iter_mut() {
            match &resume {
                None if o.incremental && o.partial => o.state.finish_partial_pass(),
                None if o.incremental => o.state.finish_pass(),
                None => {
                    o.state = StreamState {
                        seen: o.state.seen.take(),
                        delivered: std::mem::take(&mut o.state.delivered),
                        ..StreamState::default()
                    }
                }
                Some(r) => o.state.resume = Some(r.clone()),
            }
            if resume.is_some() && !state_due(o) {
                o.unstated_pages += 1;
                continue;
            }
            o.unstated_pages = 0;
            let since = o.records.saturating_sub(o.stated);
            o.stated = o.records;
            self.sink.state(&o.stream, &o.state.to_value(), since);
        }
        self.sink.checkpoint();
    }
}
