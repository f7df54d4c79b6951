//! The scheduler loop: starts page requests as the rate budget and the lanes allow, taking
//! tasks in turn, and hands each finished request to its task.

use super::client::{network_verdict, Client, Start, StartError};
use super::task::{describe_pos, plan, SlotPhase, Status, Task};
use super::{
    HttpResponse, Job, ReadSummary, Sink, StreamSummary, TransportError, EMPTY_CONFIRMATIONS,
    PASS_START_MARGIN_S,
};
use super::{Level, StreamStatus};
use crate::documents::config::Config;
use crate::failure::{Failure, FailureType};
use crate::http::request::{page_path, Position};
use crate::http::response::{parse_page, BadPage, Page};
use crate::http::retry::{classify, Again, Verdict, SECOND};
use crate::rules::datetime::parse_http_date;

/// One read's context: the client, the config and the sink every part of the engine uses.
pub(super) struct Run<'r, 't> {
    /// Requests, retries and the rate budget.
    pub(super) client: &'r mut Client<'t>,
    /// The connector's config.
    pub(super) config: &'r Config,
    /// Where events go.
    pub(super) sink: &'r mut dyn Sink,
}

/// A finished request: its ticket and what came back.
pub(super) type Finished = (u64, Result<HttpResponse, TransportError>);

/// Reads the jobs to the run.sink. Never returns early: a stream that fails is reported and the others
/// go on.
pub(crate) fn read(
    client: &mut Client,
    config: &Config,
    jobs: Vec<Job>,
    sink: &mut dyn Sink,
) -> ReadSummary {
    let mut run = Run {
        client,
        config,
        sink,
    };
    let run_start = run.client.transport.now_ns();
    run.client.stop_prefetching();
    let mut tasks = plan(jobs, run.config);
    let max_in_flight = ((run.config.requests_per_second * 4.0).ceil() as usize).clamp(2, 32);
    let now_ms = run.client.transport.wall_ms();
    for t in &tasks {
        for o in &t.outs {
            run.sink.status(&o.stream, StreamStatus::Started, now_ms);
        }
    }
    let mut rr = 0usize;
    let mut in_flight = 0usize;
    loop {
        // Start what the budget allows, taking tasks in turn.
        let mut next_wake = u64::MAX;
        while in_flight < max_in_flight {
            let now = run.client.transport.now_ns();
            let n = tasks.len();
            let pick = (0..n).map(|i| (rr + i) % n).find_map(|i| {
                let t = &tasks[i];
                if t.status != Status::Running {
                    return None;
                }
                t.slots
                    .iter()
                    .position(
                        |s| matches!(s.phase, SlotPhase::Ready { not_before } if not_before <= now),
                    )
                    .map(|j| (i, j))
            });
            let Some((i, j)) = pick else { break };
            let t = &tasks[i];
            let path = page_path(
                &run.client.api_path,
                &t.def,
                &t.slots[j].pos,
                t.since.as_deref(),
                &t.include,
            );
            let started = run.client.try_start(&path);
            if let Start::Later(slot) = started {
                next_wake = next_wake.min(slot);
                break;
            }
            rr = (i + 1) % n;
            let t = &mut tasks[i];
            t.stats.requests += 1;
            t.stats.first_ns.get_or_insert(now);
            match started {
                Start::Later(_) => {}
                Start::Begun(ticket) => {
                    t.slots[j].phase = SlotPhase::InFlight { ticket };
                    in_flight += 1;
                }
                Start::Failed(StartError::Network(e)) => match network_verdict(&e) {
                    Verdict::Fail { kind, why } => run.fail(t, Failure::new(kind, why)),
                    _ => run.retry(t, j, Again::now(format!("network failure: {e}"))),
                },
                Start::Failed(StartError::Refused(why)) => {
                    run.fail(t, Failure::new(FailureType::System, why))
                }
            }
        }
        if tasks.iter().all(|t| t.status != Status::Running) {
            break;
        }
        // With every lane busy, only a finished request can let another start: wait for one
        // (a ready page's time would make this loop spin).
        if in_flight < max_in_flight {
            for t in tasks.iter().filter(|t| t.status == Status::Running) {
                for s in &t.slots {
                    if let SlotPhase::Ready { not_before } = s.phase {
                        next_wake = next_wake.min(not_before.max(run.client.limiter.next_slot()));
                    }
                }
            }
        }
        if in_flight == 0 && next_wake == u64::MAX {
            // Nothing can move: every running task is waiting for nothing. Cannot happen; end
            // rather than spin.
            for t in tasks.iter_mut().filter(|t| t.status == Status::Running) {
                run.fail(
                    t,
                    Failure::new(
                        FailureType::System,
                        "the read stalled with no request to make (a bug)".into(),
                    ),
                );
            }
            break;
        }
        let finished = run.client.wait(next_wake);
        for (ticket, result) in finished {
            in_flight = in_flight.saturating_sub(1);
            let found = tasks.iter().enumerate().find_map(|(i, t)| {
                t.slots
                    .iter()
                    .position(|s| s.phase == SlotPhase::InFlight { ticket })
                    .map(|j| (i, j))
            });
            let Some((i, j)) = found else { continue };
            if tasks[i].status == Status::Running {
                run.handle(&mut tasks[i], j, (ticket, result));
            }
        }
    }
    let end = run.client.transport.now_ns();
    let mut streams = Vec::new();
    for t in &tasks {
        for o in &t.outs {
            streams.push(StreamSummary {
                name: o.stream.clone(),
                records: o.records,
                requests: t.stats.requests,
                millis: t
                    .stats
                    .first_ns
                    .map_or(0, |f| t.stats.end_ns.max(f).saturating_sub(f) / 1_000_000),
                failure: t.stats.failure.clone(),
            });
        }
    }
    ReadSummary {
        streams,
        requests: run.client.requests(),
        millis: end.saturating_sub(run_start) / 1_000_000,
    }
}

impl Run<'_, '_> {
    /// Handles one finished request of a task.
    pub(super) fn handle(&mut self, t: &mut Task, j: usize, done: Finished) {
        let (ticket, result) = done;
        let resp = match result {
            Err(e) => {
                self.client.start_times.remove(&ticket);
                return match network_verdict(&e) {
                    Verdict::Fail { kind, why } => self.fail(t, Failure::new(kind, why)),
                    _ => self.retry(t, j, Again::now(format!("network failure: {e}"))),
                };
            }
            Ok(r) => r,
        };
        if let Some(note) = self.client.note_headers(ticket, &resp) {
            self.sink.log(Level::Info, &format!("rate: {note}"));
        }
        self.note_pass_start(t, &resp);
        match classify(
            resp.status,
            &resp.body,
            resp.header("retry-after"),
            self.client.key_worked,
            t.slots[j].budget.forbidden,
        ) {
            Verdict::Retry {
                after_ns,
                pause_all,
                why,
            } => self.retry(t, j, Again::retry(resp.status, after_ns, pause_all, why)),
            Verdict::Fail { kind, why } => {
                let why = format!("{}: {why}", describe_pos(&t.slots[j].pos));
                self.fail(t, Failure::new(kind, why))
            }
            Verdict::Use => {
                let extra: Vec<&str> = t
                    .outs
                    .iter()
                    .map(|o| o.list_key.as_str())
                    .filter(|k| *k != t.def.page_key)
                    .collect();
                let parsed = match parse_page(&resp.body, &t.def.page_key, &extra) {
                    // An answer without a list is an empty page once it comes again: a one-off
                    // fault must not end a list, and it is asked again at once, not backed off.
                    Err(BadPage::Empty(_)) if t.slots[j].empties + 1 >= EMPTY_CONFIRMATIONS => {
                        Ok(Page::default())
                    }
                    Err(BadPage::Empty(_)) => {
                        t.slots[j].empties += 1;
                        t.slots[j].phase = SlotPhase::Ready { not_before: 0 };
                        return;
                    }
                    other => other,
                };
                match parsed {
                    Err(bad) => self.retry(t, j, Again::now(bad.to_string())),
                    Ok(page) => {
                        self.client.key_worked = true;
                        t.stats.pages += 1;
                        let slot = t.slots.remove(j);
                        match slot.pos {
                            Position::Offset(o) => self.take_offset_page(t, o, page),
                            Position::Keyset(r) => self.take_keyset_page(t, r, page),
                            Position::Newest => self.take_newest(t, page),
                        }
                    }
                }
            }
        }
    }

    /// Records when an incremental pass began, in server time: the first answer's `Date` less the
    /// time since this task's first request (so it is no later than any page's snapshot).
    fn note_pass_start(&mut self, t: &mut Task, resp: &HttpResponse) {
        if !t
            .outs
            .iter()
            .any(|o| o.incremental && o.state.pass_start.is_none())
        {
            return;
        }
        let Some(date) = resp.header("date").and_then(parse_http_date) else {
            return;
        };
        let elapsed_s = self
            .client
            .transport
            .now_ns()
            .saturating_sub(t.stats.first_ns.unwrap_or(0))
            .div_ceil(SECOND) as i64;
        let start = date.plus_seconds(-elapsed_s - PASS_START_MARGIN_S);
        for o in t
            .outs
            .iter_mut()
            .filter(|o| o.incremental && o.state.pass_start.is_none())
        {
            o.state.pass_start = Some(start);
        }
    }
}
