//! Children riding on a parent's pages (`include=`) when the API ignores the include: the
//! include is not documented, so each page with parent records is checked for each child's
//! list, and a child whose list is missing leaves the parent's task for a read of its own list
//! in full, as a sweep reads it (records already delivered may come again, none is lost).

use super::decision::Decision;
use super::run::Run;
use super::task::{new_task, Task};
use crate::api::streams::fixed_streams;
use crate::vocab::page::Record;

impl Run<'_, '_> {
    /// Moves each child the page's answer does not carry (while it carries parent records) to a
    /// task of its own list, begun at the next turn of the read.
    pub(super) fn reseat_ignored_riders(&mut self, t: &mut Task, lists: &[(String, Vec<Record>)]) {
        let parents = lists
            .iter()
            .any(|(k, r)| *k == t.def.page_key && !r.is_empty());
        if !parents {
            return;
        }
        let ignored: Vec<usize> = t
            .outs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.list_key != t.def.page_key)
            .filter(|(_, o)| t.sideloads.iter().any(|s| s.include == o.list_key))
            .filter(|(_, o)| !lists.iter().any(|(k, _)| *k == o.list_key))
            .map(|(i, _)| i)
            .collect();
        for i in ignored.into_iter().rev() {
            // A child is a fixed stream; one that were not would stay (and get nothing), not
            // vanish from the read.
            let Some(def) = fixed_streams()
                .into_iter()
                .find(|d| d.name == t.outs[i].stream)
            else {
                continue;
            };
            let mut out = t.outs.remove(i);
            t.sideloads.retain(|s| s.include != out.list_key);
            self.sink.decision(&Decision::IncludeIgnored {
                stream: out.stream.clone(),
                include: out.list_key.clone(),
                parent: t.def.name.clone(),
            });
            out.list_key = def.list_key.clone();
            out.state.resume = None;
            self.spawned.push(new_task(def, out, None));
        }
    }
}
