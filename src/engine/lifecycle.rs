//! A task's lifecycle: a page's retry (within its retry budget), completion, failure.

use super::run::Run;
use super::task::{describe_pos, SlotPhase, Status, Task};
use super::ErrorEvent;
use crate::failure::FailureType;
use crate::http::retry::{Again, NextTry};

impl Run<'_, '_> {
    /// Marks a task complete.
    pub(super) fn finish(&mut self, t: &mut Task) {
        let at = self.client.transport.wall_ms();
        t.status = Status::Done;
        t.stats.end_ns = self.client.transport.now_ns();
        for o in &t.outs {
            self.sink.log(
                "INFO",
                &format!(
                    "{}: complete, {} records in {} pages",
                    o.stream, o.records, t.stats.pages
                ),
            );
            self.sink.status(&o.stream, "COMPLETE", at);
            self.sink.progress(&format!(
                "{}: complete, {} records, {} requests",
                o.stream, o.records, t.stats.requests
            ));
        }
        self.sink.checkpoint();
    }

    /// Schedules a retry of one page, or fails the task when the bounds are reached.
    pub(super) fn retry(&mut self, t: &mut Task, j: usize, again: Again) {
        let s = &mut t.slots[j];
        let pos = describe_pos(&s.pos);
        let policy = self.client.policy;
        let delay = match policy.after_failure(&mut s.budget, &again, &mut self.client.random, &pos)
        {
            NextTry::GiveUp(failure) => return self.fail(t, failure.kind, failure.message),
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
                "WARN",
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
    pub(super) fn fail(&mut self, t: &mut Task, kind: FailureType, why: String) {
        let at = self.client.transport.wall_ms();
        t.status = Status::Failed;
        t.stats.end_ns = self.client.transport.now_ns();
        for o in &t.outs {
            let message = format!("stream '{}' failed: {why}", o.stream);
            let error = ErrorEvent {
                stream: Some(&o.stream),
                message: &message,
                internal: &why,
                kind,
            };
            self.sink.error(&error, at);
            self.sink.status(&o.stream, "INCOMPLETE", at);
            self.sink.progress(&message);
        }
        t.stats.failure = Some((kind, why));
        self.sink.checkpoint();
    }
}
