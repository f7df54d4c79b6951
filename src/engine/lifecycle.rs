//! A task's lifecycle: a page's retry (within its retry budget), completion, failure.

use super::report_failed_stream;
use super::run::Run;
use super::task::{describe_pos, SlotPhase, Status, Task};
use super::{Level, StreamStatus};
use crate::http::retry::{Again, NextTry};
use crate::vocab::failure::Failure;

impl Run<'_, '_> {
    /// Marks a task complete.
    pub(super) fn finish(&mut self, t: &mut Task) {
        let at = self.client.transport.wall_ms();
        t.status = Status::Done;
        t.stats.end_ns = self.client.transport.now_ns();
        self.warn_uncursored(t);
        for o in &t.outs {
            self.sink.log(
                Level::Info,
                &format!(
                    "{}: complete, {} records in {} pages, {} deleted",
                    o.stream, o.records, t.stats.pages, o.deleted
                ),
            );
            self.sink.status(&o.stream, StreamStatus::Complete, at);
            let deleted = match o.deleted {
                0 => String::new(),
                n => format!(", {n} deleted"),
            };
            self.sink.progress(&format!(
                "{}: complete, {} records{deleted}, {} requests",
                o.stream, o.records, t.stats.requests
            ));
        }
        self.sink.checkpoint();
    }

    /// Says once per stream, at its end, how many records of an incremental read carried none
    /// of its cursor fields: they are delivered again on every sync (incremental turned full).
    fn warn_uncursored(&mut self, t: &Task) {
        for o in t.outs.iter().filter(|o| o.uncursored > 0) {
            self.sink.log(
                Level::Warn,
                &format!(
                    "{}: {} of {} records carry none of the cursor fields ({}); they are delivered again on every incremental sync",
                    o.stream,
                    o.uncursored,
                    o.records,
                    o.cursors.join(", then ")
                ),
            );
        }
    }

    /// Schedules a retry of one page, or fails the task when the bounds are reached.
    pub(super) fn retry(&mut self, t: &mut Task, j: usize, again: Again) {
        let s = &mut t.slots[j];
        let pos = describe_pos(&s.pos);
        let policy = self.client.policy;
        let delay = match policy.after_failure(&mut s.budget, &again, &mut self.client.random, &pos)
        {
            NextTry::GiveUp(failure) => return self.fail(t, failure),
            NextTry::After {
                delay_ns,
                pause_all,
            } => {
                s.phase = SlotPhase::Ready {
                    not_before: self.client.hold_for_retry(delay_ns, pause_all),
                };
                delay_ns
            }
        };
        let attempt = s.budget.attempts;
        for o in &t.outs {
            self.sink.log(
                Level::Warn,
                &format!(
                    "{}: {pos} failed ({}); retry {attempt} in {} ms",
                    o.stream,
                    again.why,
                    delay / 1_000_000
                ),
            );
        }
    }

    /// Ends a task's streams with an error; what they emitted so far, state included, stays valid.
    pub(super) fn fail(&mut self, t: &mut Task, failure: Failure) {
        self.warn_uncursored(t);
        let at = self.client.transport.wall_ms();
        t.status = Status::Failed;
        t.stats.end_ns = self.client.transport.now_ns();
        for o in &t.outs {
            report_failed_stream(self.sink, &o.stream, &failure, at);
        }
        t.stats.failure = Some(failure);
        self.sink.checkpoint();
    }
}
