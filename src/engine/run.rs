//! The scheduler loop: starts page requests as the rate budget and the lanes allow, taking
//! tasks in turn, and hands each finished request to its task.

use super::client::{network_outcome, Client, Start, StartError};
use super::decision::Decision;
use super::plan::{plan, Pass, StreamPlan};
use super::task::{describe_pos, tasks, SlotPhase, Status, Task};
use super::{
    HttpResponse, Job, ReadSummary, Sink, StreamSummary, TransportError, EMPTY_CONFIRMATIONS,
    PASS_START_MARGIN_S,
};
use super::{Level, StreamStatus};
use crate::documents::config::Config;
use crate::http::request::{page_path, Position};
use crate::http::response::{parse_page, BadPage};
use crate::http::retry::{classify, Again, Outcome, SECOND};
use crate::rules::datetime::{parse_http_date, Instant};
use crate::vocab::failure::{Failure, FailureType};
use crate::vocab::page::Page;

/// One read's context: the client, the config and the sink every part of the engine uses.
pub(super) struct Run<'r, 't> {
    /// Requests, retries and the rate budget.
    pub(super) client: &'r mut Client<'t>,
    /// The connector's config.
    pub(super) config: &'r Config,
    /// Where events go.
    pub(super) sink: &'r mut dyn Sink,
    /// Custom field values read on their own because an owner's pages came without them.
    pub(super) joined: Vec<crate::api::field_values::ValueTable>,
    /// Streams already warned of custom field values they cannot place.
    pub(super) told_unreadable: Vec<String>,
    /// Tasks begun during the read (a child whose include the API ignored reads its own list).
    pub(super) spawned: Vec<Task>,
}

/// A finished request: its ticket and what came back.
pub(super) type Finished = (u64, Result<HttpResponse, TransportError>);

/// The scheduler's own state: the tasks, whose turn it is, and the requests in flight.
struct Lanes {
    tasks: Vec<Task>,
    /// The task to look at first for the next start (tasks take turns).
    rr: usize,
    in_flight: usize,
    max_in_flight: usize,
}

impl Lanes {
    fn any_running(&self) -> bool {
        self.tasks.iter().any(|t| t.status == Status::Running)
    }

    /// The first task, from `rr` on, with a page ready to start at `now`, and that page.
    fn next_ready(&self, now: u64) -> Option<(usize, usize)> {
        let n = self.tasks.len();
        (0..n).map(|i| (self.rr + i) % n).find_map(|i| {
            let t = &self.tasks[i];
            if t.status != Status::Running {
                return None;
            }
            t.slots
                .iter()
                .position(
                    |s| matches!(s.phase, SlotPhase::Ready { not_before } if not_before <= now),
                )
                .map(|j| (i, j))
        })
    }

    /// The task and slot waiting for `ticket`.
    fn waiting_for(&self, ticket: u64) -> Option<(usize, usize)> {
        self.tasks.iter().enumerate().find_map(|(i, t)| {
            t.slots
                .iter()
                .position(|s| s.phase == SlotPhase::InFlight { ticket })
                .map(|j| (i, j))
        })
    }
}

/// Reads the jobs to the sink. Never returns early: a stream that fails is reported and the
/// others go on.
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
        joined: Vec::new(),
        told_unreadable: Vec::new(),
        spawned: Vec::new(),
    };
    let run_start = run.client.transport.now_ns();
    run.client.stop_prefetching();
    let now_ms = run.client.transport.wall_ms();
    let plans = plan(jobs, run.config, Instant::from_epoch_ms(now_ms));
    let waiting = run.report_waiting(&plans, now_ms);
    let mut lanes = Lanes {
        tasks: tasks(plans, run.config),
        rr: 0,
        in_flight: 0,
        max_in_flight: ((run.config.requests_per_second * 4.0).ceil() as usize).clamp(2, 32),
    };
    for o in lanes.tasks.iter().flat_map(|t| &t.outs) {
        run.sink.status(&o.stream, StreamStatus::Started, now_ms);
    }
    loop {
        let mut next_wake = run.start_ready(&mut lanes);
        if !lanes.any_running() {
            break;
        }
        // With every lane busy, only a finished request can let another start: wait for one
        // (a ready page's time would make this loop spin).
        if lanes.in_flight < lanes.max_in_flight {
            next_wake = next_wake.min(run.earliest_ready(&lanes.tasks));
        }
        if lanes.in_flight == 0 && next_wake == u64::MAX {
            // Nothing can move: every running task is waiting for nothing. Cannot happen; end
            // rather than spin.
            for t in lanes
                .tasks
                .iter_mut()
                .filter(|t| t.status == Status::Running)
            {
                let why = "the read stalled with no request to make (a bug)";
                run.fail(t, Failure::new(FailureType::System, why.into()));
            }
            break;
        }
        for (ticket, result) in run.client.wait(next_wake) {
            lanes.in_flight = lanes.in_flight.saturating_sub(1);
            let Some((i, j)) = lanes.waiting_for(ticket) else {
                continue;
            };
            if lanes.tasks[i].status == Status::Running {
                run.handle(&mut lanes.tasks[i], j, (ticket, result));
            }
        }
        lanes.tasks.append(&mut run.spawned);
    }
    let millis = (run.client.transport.now_ns().saturating_sub(run_start)) / 1_000_000;
    let mut streams: Vec<StreamSummary> = lanes.tasks.iter().flat_map(stream_summaries).collect();
    streams.extend(
        waiting
            .into_iter()
            .map(|name| StreamSummary::unread(name, None)),
    );
    ReadSummary {
        streams,
        requests: run.client.requests(),
        millis,
    }
}

/// The summary of each stream a task fed.
fn stream_summaries(t: &Task) -> impl Iterator<Item = StreamSummary> + '_ {
    t.outs.iter().map(|o| StreamSummary {
        name: o.stream.clone(),
        records: o.records,
        requests: t.stats.requests,
        millis: t
            .stats
            .first_ns
            .map_or(0, |f| t.stats.end_ns.max(f).saturating_sub(f) / 1_000_000),
        failure: t.stats.failure.clone(),
        uncursored: o.uncursored,
        deleted: o.deleted,
    })
}

impl Run<'_, '_> {
    /// Reports each stream that waits for its sweep: started and complete with no request, its
    /// state as it was. Returns their names.
    fn report_waiting(&mut self, plans: &[StreamPlan], at: u64) -> Vec<String> {
        let mut names = Vec::new();
        for p in plans {
            let Pass::WaitsForSweep { due } = p.pass else {
                continue;
            };
            let name = &p.job.def.name;
            self.sink.status(name, StreamStatus::Started, at);
            self.sink.decision(&Decision::WaitsForSweep {
                stream: name.clone(),
                due,
            });
            self.sink.state(name, &p.job.state.to_value(), 0);
            self.sink.status(name, StreamStatus::Complete, at);
            self.sink
                .progress(&format!("{name}: waits for its sweep (full_sweep_hours)"));
            names.push(name.clone());
        }
        names
    }

    /// Starts what the budget allows, taking tasks in turn; returns when the budget has room
    /// again if it ran out (`u64::MAX` otherwise).
    fn start_ready(&mut self, lanes: &mut Lanes) -> u64 {
        while lanes.in_flight < lanes.max_in_flight {
            let now = self.client.transport.now_ns();
            let Some((i, j)) = lanes.next_ready(now) else {
                break;
            };
            let t = &lanes.tasks[i];
            let path = page_path(
                &self.client.api_path,
                &t.def,
                &t.slots[j].pos,
                t.since.as_deref(),
                &t.include(),
                t.newest.as_ref().map(|n| n.field.as_str()),
            );
            let started = self.client.try_start(&path);
            if let Start::Later(slot) = started {
                return slot;
            }
            lanes.rr = (i + 1) % lanes.tasks.len();
            let t = &mut lanes.tasks[i];
            t.stats.requests += 1;
            t.stats.first_ns.get_or_insert(now);
            match started {
                Start::Later(_) => {}
                Start::Begun(ticket) => {
                    t.slots[j].phase = SlotPhase::InFlight { ticket };
                    lanes.in_flight += 1;
                }
                Start::Failed(StartError::Network(e)) => match network_outcome(&e) {
                    Outcome::Fail { kind, why } => self.fail(t, Failure::new(kind, why)),
                    _ => self.retry(t, j, Again::now(format!("network failure: {e}"))),
                },
                Start::Failed(StartError::Refused(why)) => {
                    self.fail(t, Failure::new(FailureType::System, why))
                }
            }
        }
        u64::MAX
    }

    /// When the first page waiting for its time (or for the budget) may start.
    fn earliest_ready(&self, tasks: &[Task]) -> u64 {
        let budget = self.client.limiter.next_slot();
        tasks
            .iter()
            .filter(|t| t.status == Status::Running)
            .flat_map(|t| &t.slots)
            .filter_map(|s| match s.phase {
                SlotPhase::Ready { not_before } => Some(not_before.max(budget)),
                _ => None,
            })
            .min()
            .unwrap_or(u64::MAX)
    }
}

impl Run<'_, '_> {
    /// Handles one finished request of a task.
    pub(super) fn handle(&mut self, t: &mut Task, j: usize, done: Finished) {
        let (ticket, result) = done;
        let resp = match result {
            Err(e) => {
                self.client.start_times.remove(&ticket);
                return match network_outcome(&e) {
                    Outcome::Fail { kind, why } => self.fail(t, Failure::new(kind, why)),
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
            Outcome::Retry {
                after_ns,
                pause_all,
                why,
            } => self.retry(t, j, Again::retry(resp.status, after_ns, pause_all, why)),
            Outcome::Fail { kind, why } => {
                let why = format!("{}: {why}", describe_pos(&t.slots[j].pos));
                self.fail(t, Failure::new(kind, why))
            }
            Outcome::Use => {
                let mut extra: Vec<&str> = t
                    .outs
                    .iter()
                    .map(|o| o.list_key.as_str())
                    .filter(|k| *k != t.def.page_key)
                    .collect();
                // A sideload no stream takes (field values for custom field columns).
                for s in &t.sideloads {
                    if !extra.contains(&s.include) {
                        extra.push(s.include);
                    }
                }
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
                    Err(BadPage::Unusable(why)) => {
                        let why = format!("{}: {why}", describe_pos(&t.slots[j].pos));
                        self.fail(t, Failure::new(FailureType::System, why))
                    }
                    Err(bad) => self.retry(t, j, Again::now(bad.to_string())),
                    Ok(page) => {
                        self.client.key_worked = true;
                        t.stats.pages += 1;
                        let slot = t.slots.remove(j);
                        match slot.pos {
                            Position::Offset(o) => self.take_offset_page(t, o, page),
                            Position::Keyset(r) => self.take_keyset_page(t, r, page),
                            Position::Top(r) => self.take_top(t, r, page),
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
