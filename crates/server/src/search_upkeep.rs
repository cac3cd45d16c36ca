//! The word index's upkeep: every second by default, the words of new messages that PostgreSQL set aside
//! (the GIN pending list) are merged into the index by this task, so that no send's insert finds
//! the list full and merges it inside its own transaction (the whole group of sends waited
//! 50-100 ms for that; docs/benchmarks.md, "The tail").

use std::time::Duration;

use messaging_store::{DatabaseKind, Store};

/// Starts the upkeep on PostgreSQL (SQLite's full-text index keeps nothing aside), a merge every
/// `every_secs` seconds (0: none); it runs until the runtime stops. The default, a second, is a
/// small fraction of the list's 4 MB limit even at the benchmarks' highest rates, and search
/// scans the list on every query, so the shorter it stays the better. A failure is logged once
/// until the merge works again: a server whose database role does not own the index
/// (PostgreSQL allows the merge to the owner only) keeps running, its inserts merging the list
/// themselves as before.
pub fn spawn(store: Store, every_secs: u32) {
    if store.kind() != DatabaseKind::Postgres || every_secs == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(u64::from(every_secs)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticks.tick().await;
            match store.merge_search_backlog().await {
                Ok(pages) => {
                    if failing {
                        tracing::info!("search index upkeep works again");
                    }
                    failing = false;
                    tracing::debug!(pages, "pending search words merged");
                }
                Err(err) => {
                    if !failing {
                        crate::problem::warn_unless_outage(
                            &err,
                            "cannot merge pending search words; sends will merge them",
                        );
                    }
                    failing = true;
                }
            }
        }
    });
}
