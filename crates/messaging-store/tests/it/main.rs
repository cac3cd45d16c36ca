//! The store's tests, each on a fresh database of its own, on SQLite and on PostgreSQL.
//!
//! `contract` runs the storage ports' contract (the rules of `messaging-contract`, which the
//! in-memory store keeps too). The other modules check what only this store offers: raw SQL
//! around it, query counts, the audit chain, LISTEN/NOTIFY, presence across instances, streams in
//! the old format, shared rate limits.
//!
//! PostgreSQL is found through `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! When it is unreachable the PostgreSQL half is skipped with a note, unless
//! `MESSAGING_REQUIRE_POSTGRES=1` (set by `cargo xtask ci`), which turns that into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attachments;
mod audit;
mod query_counts;
mod rate_limits;
mod search;
mod streams;
mod support;

mod contract {
    mod sqlite {
        messaging_contract::contract_suite!(crate::support::fresh_sqlite_store);
    }
    mod postgres {
        messaging_contract::contract_suite!(crate::support::postgres_store);
    }
}

/// Declares each of the store's own tests twice, once per backend, from `pub async fn`s in
/// `$module` taking the store.
macro_rules! store_tests {
    ($module:ident: $($name:ident),* $(,)?) => {
        mod $module {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let store = crate::support::sqlite_store().await;
                        crate::$module::$name(&store).await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let Some(store) = crate::support::postgres_store().await else { return };
                        crate::$module::$name(&store).await;
                    }
                )*
            }
        }
    };
}

mod store_only {
    store_tests!(
        attachments:
        a_message_with_a_file_records_the_upload_in_the_audit_log,
        an_abandoned_upload_leaves_no_message_row,
    );
    store_tests!(
        audit:
        audit_chain_verifies_after_several_actions,
        audit_entries_filter_by_actor_action_object_and_time,
        audit_log_refuses_updates_and_deletes,
        verify_audit_chain_reports_a_changed_entry_and_the_entry_after_a_removed_one,
        audit_chain_stays_linear_under_concurrent_writers,
        entries_from_before_the_chain_are_counted_apart,
    );
    store_tests!(
        query_counts:
        thread_list_costs_the_same_queries_for_one_or_forty_conversations,
        the_patient_list_is_one_query_however_many_patients,
        sends_at_the_same_moment_share_their_statements,
    );
    store_tests!(
        search:
        messages_stored_before_their_words_are_found_after_start_up,
        pending_search_words_are_merged_and_still_found,
    );
    store_tests!(
        streams:
        the_heads_of_several_streams_are_read_at_once,
        postgres_announces_committed_entries_to_listeners,
        presence_spans_instances_until_they_leave_or_go_stale,
        a_heartbeat_marks_many_users_in_a_few_statements,
        streams_written_before_the_format_was_versioned_replay_and_continue,
    );
}
