//! A task's lifecycle: a page's retry (within its retry budget), completion, failure.

use super::run::{Again, Run};
use super::task::{SlotPhase, Status, Task};
use super::ErrorEvent;
use crate::failure::FailureType;
use crate::http::request::{IdRange, Position};
use crate::http::retry::{backoff_ns, next_random, FORBIDDEN_RETRIES};

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
        let Again {
            after_ns,
            pause_all,
            why,
        } = again;
        let s = &mut t.slots[j];
        // A 429 costs waiting time (bounded by max_retry_wait_seconds), not an attempt.
        s.budget.charge(pause_all);
        let delay = after_ns
            .unwrap_or_else(|| backoff_ns(s.budget.attempts, next_random(&mut self.client.random)));
        if !self.client.may_wait(&mut s.budget, delay) {
            let msg = format!(
                "gave up on {} after {} attempts; last failure: {why}",
                describe_pos(&s.pos),
                s.budget.attempts
            );
            let kind = if s.budget.forbidden >= FORBIDDEN_RETRIES {
                FailureType::Config
            } else {
                FailureType::Transient
            };
            return self.fail(t, kind, msg);
        }
        let now = self.client.transport.now_ns();
        if pause_all && !self.client.own_429 {
            self.client.limiter.pause_until(now + delay);
        }
        s.phase = SlotPhase::Ready {
            not_before: now + delay,
        };
        let attempt = s.budget.attempts;
        let pos = describe_pos(&s.pos);
        for o in &t.outs {
            self.sink.log(
                "WARN",
                &format!(
                    "{}: {pos} failed ({why}); retry {attempt} in {} ms",
                    o.stream,
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

/// Names a page request for messages.
pub(super) fn describe_pos(p: &Position) -> String {
    match p {
        Position::Offset(o) => format!("the page at offset {o}"),
        Position::Keyset(IdRange { after: None, .. }) => "the first page".into(),
        Position::Keyset(IdRange {
            after: Some(id), ..
        }) => format!("the page after id {id}"),
        Position::Newest => "the newest-id request".into(),
    }
}
