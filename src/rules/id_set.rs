//! The ids one complete pass over a list saw, kept small: deletions are the ids the last complete
//! pass saw and this one does not.
//!
//! ActiveCampaign's ids are mostly dense integers, so numeric ids are kept as runs of consecutive
//! ids (memory and state grow with the gaps, not the ids) and written to state as base64 of
//! LEB128 varints: per run, the gap from the previous run's end and the run's length. Other ids
//! (custom object records' UUIDs) are kept as they are, up to [`MAX_OTHER_IDS`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound::{Excluded, Included};

/// Most non-numeric ids a set keeps; past it the set gives up (deletions are not tracked).
pub(crate) const MAX_OTHER_IDS: usize = 20_000;

/// A set of record ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IdSet {
    /// Numeric ids as runs: first id → last id (inclusive).
    runs: BTreeMap<u64, u64>,
    /// How many numeric ids the runs hold.
    numeric: u64,
    /// Ids that are not canonical decimal numbers.
    other: BTreeSet<String>,
    /// More than [`MAX_OTHER_IDS`] non-numeric ids, or an empty id: the set is not usable.
    overflow: bool,
}

/// An id as a number when it is written as one canonically (no sign, no leading zero), so that
/// writing the number back gives the same text.
fn as_number(id: &str) -> Option<u64> {
    let canonical = !id.is_empty()
        && id.len() <= 19
        && id.bytes().all(|b| b.is_ascii_digit())
        && (id == "0" || !id.starts_with('0'));
    canonical.then(|| id.parse().ok()).flatten()
}

impl IdSet {
    /// Adds an id (again is fine). An empty id (a record without one) makes the set unusable:
    /// such a record could never be told deleted or not.
    pub(crate) fn insert(&mut self, id: &str) {
        match as_number(id) {
            Some(n) => self.insert_number(n),
            None if id.is_empty() => self.overflow = true,
            None if self.other.len() >= MAX_OTHER_IDS => {
                if !self.other.contains(id) {
                    self.overflow = true;
                }
            }
            None => {
                self.other.insert(id.to_string());
            }
        }
    }

    fn insert_number(&mut self, n: u64) {
        let before = self.runs.range(..=n).next_back().map(|(s, e)| (*s, *e));
        if let Some((_, e)) = before {
            if e >= n {
                return;
            }
        }
        let after = n
            .checked_add(1)
            .and_then(|m| self.runs.get(&m).map(|e| (m, *e)));
        let joins_before = before.filter(|(_, e)| e + 1 == n);
        match (joins_before, after) {
            (Some((s, _)), Some((m, e))) => {
                self.runs.remove(&m);
                self.runs.insert(s, e);
            }
            (Some((s, _)), None) => {
                self.runs.insert(s, n);
            }
            (None, Some((m, e))) => {
                self.runs.remove(&m);
                self.runs.insert(n, e);
            }
            (None, None) => {
                self.runs.insert(n, n);
            }
        }
        self.numeric += 1;
    }

    /// Whether it holds `id`.
    pub(crate) fn contains(&self, id: &str) -> bool {
        match as_number(id) {
            Some(n) => self
                .runs
                .range(..=n)
                .next_back()
                .is_some_and(|(_, e)| *e >= n),
            None => self.other.contains(id),
        }
    }

    /// Whether the set holds every id it was given.
    pub(crate) fn usable(&self) -> bool {
        !self.overflow
    }

    /// How many ids it holds.
    pub(crate) fn len(&self) -> u64 {
        self.numeric + self.other.len() as u64
    }

    /// Runs of consecutive numeric ids (a measure of the state's size).
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The numeric ranges of `self` that `now` lacks, in order.
    fn gone_ranges(&self, now: &IdSet) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        for (&s, &e) in &self.runs {
            // The runs of `now` that overlap [s, e], in order.
            let first = now
                .runs
                .range(..=s)
                .next_back()
                .filter(|(_, b)| **b >= s)
                .map(|(a, b)| (*a, *b));
            let rest = now
                .runs
                .range((Excluded(s), Included(e.max(s))))
                .map(|(a, b)| (*a, *b));
            // The first id of [s, e] not yet covered; None once `now` covers up to e.
            let mut at = Some(s);
            for (a, b) in first.into_iter().chain(rest) {
                let Some(from) = at else { break };
                if a > from {
                    out.push((from, a - 1));
                }
                at = if b >= e { None } else { Some(b + 1) };
            }
            if let Some(from) = at {
                out.push((from, e));
            }
        }
        out
    }

    /// How many of `self`'s ids `now` lacks.
    pub(crate) fn count_gone(&self, now: &IdSet) -> u64 {
        let numeric: u64 = self.gone_ranges(now).iter().map(|(a, b)| b - a + 1).sum();
        numeric + self.other.difference(&now.other).count() as u64
    }

    /// The ids of `self` that `now` lacks: numeric ones in order, then the others.
    pub(crate) fn gone<'a>(&'a self, now: &'a IdSet) -> impl Iterator<Item = String> + 'a {
        self.gone_ranges(now)
            .into_iter()
            .flat_map(|(a, b)| (a..=b).map(|n| n.to_string()))
            .chain(self.other.difference(&now.other).cloned())
    }

    /// Adds every id of `other`.
    pub(crate) fn extend(&mut self, other: &IdSet) {
        for (&s, &e) in &other.runs {
            // Runs are few; ids of a run are added one by one only where they are new.
            let mut n = s;
            loop {
                self.insert_number(n);
                if n == e {
                    break;
                }
                n += 1;
            }
        }
        for id in &other.other {
            self.insert(id);
        }
        self.overflow |= other.overflow;
    }

    /// The numeric runs as text: base64 of LEB128 varints, per run the gap after the previous
    /// run's end (from 0 for the first) and the run's length less one.
    pub(crate) fn encode_runs(&self) -> String {
        let mut bytes = Vec::with_capacity(self.runs.len() * 3);
        let mut next = 0u64;
        for (&s, &e) in &self.runs {
            push_varint(&mut bytes, s - next);
            push_varint(&mut bytes, e - s);
            next = e.saturating_add(1);
        }
        base64_encode(&bytes)
    }

    /// The non-numeric ids, sorted.
    pub(crate) fn other_ids(&self) -> impl Iterator<Item = &str> {
        self.other.iter().map(String::as_str)
    }

    /// The set written by [`IdSet::encode_runs`] plus the other ids; the text says what is wrong.
    pub(crate) fn decode(runs: &str, other: Vec<String>) -> Result<IdSet, String> {
        let bytes = base64_decode(runs).ok_or("'runs' is not base64")?;
        let mut set = IdSet::default();
        let (mut i, mut next) = (0usize, 0u64);
        while i < bytes.len() {
            let gap = read_varint(&bytes, &mut i).ok_or("'runs' ends inside a number")?;
            let len = read_varint(&bytes, &mut i).ok_or("'runs' ends inside a number")?;
            let s = next
                .checked_add(gap)
                .ok_or("'runs' goes past the largest id")?;
            let e = s
                .checked_add(len)
                .ok_or("'runs' goes past the largest id")?;
            if !set.runs.is_empty() && gap == 0 {
                return Err("'runs' has two runs that touch".into());
            }
            set.runs.insert(s, e);
            set.numeric += len + 1;
            next = e.saturating_add(1);
        }
        if other.len() > MAX_OTHER_IDS {
            return Err(format!("'ids' lists more than {MAX_OTHER_IDS} ids"));
        }
        for id in other {
            if id.is_empty() || as_number(&id).is_some() {
                return Err("'ids' holds an empty or numeric id".into());
            }
            set.other.insert(id);
        }
        Ok(set)
    }
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 without padding (a few lines beat a dependency here).
fn base64_encode(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (k, &x)| n | u32::from(x) << (16 - 8 * k));
        for k in 0..=chunk.len() {
            s.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
        }
    }
    s
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (k, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            } as u32;
            n |= v << (18 - 6 * k);
        }
        for k in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * k)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
#[path = "id_set_tests.rs"]
mod tests;
