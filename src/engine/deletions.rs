//! Deletions: at the end of a complete pass, the ids the last complete pass saw and
//! this one did not are deleted in the account. ActiveCampaign lists no deleted records, so a
//! complete pass is the only evidence, and every doubt (a pass that failed, was resumed, came back
//! empty or shrank past the guard) reports no deletion: a row kept too long is mended by the next
//! pass, a row deleted by mistake is lost downstream.

use super::decision::{Decision, Held};
use super::plan::Deletions;
use super::run::Run;
use super::task::{Out, Task};
use crate::documents::state::Baseline;
use crate::rules::datetime::Instant;
use crate::rules::id_set::IdSet;
use crate::vocab::json::json_string;

/// Deletions up to this many are never held by the share guard (a table of three rows that
/// loses one is not a glitch).
pub(crate) const GUARD_FLOOR: u64 = 2;

/// A baseline this large (bytes) is restated in a mid-pass STATE only every so many pages that
/// each page carries about this much of it.
const STATE_BYTES_PER_PAGE: usize = 32 * 1024;

/// What a complete pass's ids say against the last complete pass's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gone {
    /// No earlier pass to compare with: this pass becomes the baseline.
    First,
    /// These many ids are gone: emit them.
    Deleted(u64),
    /// The list came back empty where the last pass had rows.
    Empty,
    /// More gone than the guard allows.
    Guarded(u64),
}

/// Compares a complete pass's ids against the baseline (`share`: the config's guard).
pub(crate) fn compare(before: Option<&IdSet>, now: &IdSet, share: f64) -> Gone {
    let Some(before) = before else {
        return Gone::First;
    };
    let gone = before.count_gone(now);
    if gone > 0 && now.len() == 0 {
        Gone::Empty
    } else if gone > GUARD_FLOOR && gone as f64 > share * before.len() as f64 {
        Gone::Guarded(gone)
    } else {
        Gone::Deleted(gone)
    }
}

/// Whether a mid-pass STATE of this stream goes out after this page: always for a small state;
/// large id sets (the baseline, the ids delivered since) only every few pages, so the states
/// stay a fraction of the output.
pub(super) fn state_due(o: &Out) -> bool {
    // About 3 bytes of state text per run of delivered ids, and each other id with its quotes.
    let delivered = o.state.delivered.runs() * 3
        + o.state
            .delivered
            .other_ids()
            .map(|i| i.len() + 3)
            .sum::<usize>();
    let bytes = o.state.seen.as_ref().map_or(0, Baseline::state_bytes) + delivered;
    o.unstated_pages >= (bytes / STATE_BYTES_PER_PAGE) as u64
}

impl Run<'_, '_> {
    /// Closes a complete pass's ids for each stream of the task: emits the deletions found and
    /// makes this pass the baseline (before the stream's final STATE goes out).
    pub(super) fn close_pass_ids(&mut self, t: &mut Task) {
        let began = self.pass_began(t);
        let emitted_at = self.client.transport.wall_ms();
        for o in t.outs.iter_mut() {
            let Some(now) = o.pass_ids.take() else {
                if o.deletions == Deletions::NotFoundResumed {
                    self.sink.decision(&Decision::NoDeletionsResumed {
                        stream: o.stream.clone(),
                    });
                }
                continue;
            };
            if !now.usable() {
                o.state.seen = None;
                self.sink.decision(&Decision::DeletionsUntracked {
                    stream: o.stream.clone(),
                    max_other_ids: crate::rules::id_set::MAX_OTHER_IDS,
                });
                continue;
            }
            let before = o.state.take_held_ids();
            let gone = compare(
                before.as_ref().map(|b| &b.ids),
                &now,
                self.config.deletion_guard_share,
            );
            let ids = match (gone, before) {
                (Gone::Deleted(n), Some(b)) if n > 0 => {
                    let stream_json = json_string(&o.stream);
                    for id in b.ids.gone(&now) {
                        self.sink.deletion(&o.stream, &stream_json, &id, emitted_at);
                    }
                    o.deleted += n;
                    now
                }
                (Gone::Empty | Gone::Guarded(_), Some(mut b)) => {
                    self.sink.decision(&Decision::DeletionsHeld {
                        stream: o.stream.clone(),
                        gone: match gone {
                            Gone::Guarded(n) => n,
                            _ => b.ids.len(),
                        },
                        before: b.ids.len(),
                        why: match gone {
                            Gone::Guarded(_) => Held::Guard,
                            _ => Held::Empty,
                        },
                    });
                    // Held ids stay in the baseline: the next pass deletes them if they are
                    // still gone then and the guard is raised, or finds them again.
                    b.ids.extend(&now);
                    b.ids
                }
                _ => now,
            };
            o.state.seen = Some(Baseline::new(ids, began));
        }
    }

    /// When the task's first request began, on the wall clock.
    fn pass_began(&mut self, t: &Task) -> Instant {
        let now_ns = self.client.transport.now_ns();
        let wall_ms = self.client.transport.wall_ms();
        let ago_ms = now_ns.saturating_sub(t.stats.first_ns.unwrap_or(now_ns)) / 1_000_000;
        Instant::from_epoch_ms(wall_ms.saturating_sub(ago_ms))
    }
}

#[cfg(test)]
#[path = "deletions_tests.rs"]
mod tests;
