//! The store's contract: every test runs against SQLite and against PostgreSQL, each on a fresh
//! database of its own.
//!
//! PostgreSQL is found through `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! When it is unreachable the PostgreSQL half is skipped with a note, unless
//! `MESSAGING_REQUIRE_POSTGRES=1` (set by `cargo xtask ci`), which turns that into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_changes;
mod accounts;
mod attachments;
mod contract;
mod locking;
mod people;
mod streams;
mod support;

/// Declares each contract test twice: once per backend.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => { contract_tests!(contract: $($name),*); };
    ($module:ident: $($name:ident),* $(,)?) => {
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
    };
}

contract_tests!(
    usernames_are_unique_whatever_their_case,
    first_message_creates_one_conversation_per_pair_and_booking,
    thread_list_shows_each_members_latest_visible_message_and_unread_count,
    thread_list_costs_the_same_queries_for_one_or_forty_conversations,
    history_returns_the_newest_page_first_and_each_page_oldest_first,
    history_pages_by_keyset_without_gaps_or_repeats,
    delete_for_me_hides_the_message_from_the_deleter_only_everywhere,
    deleted_at_is_set_once_both_parties_deleted,
    delete_for_everyone_hides_the_message_from_both_and_fixes_unread_counts,
    mark_read_sets_read_at_once_and_lowers_the_unread_count,
    mark_thread_read_reads_only_what_the_reader_can_see,
    search_finds_ranked_matches_and_never_messages_deleted_for_the_caller,
    search_treats_query_syntax_as_plain_words,
    search_finds_a_words_beginning_and_digits_inside_tokens_alike,
    messages_stored_before_their_words_are_found_after_start_up,
    unread_counts_are_grouped_by_sender,
    a_reused_refresh_token_revokes_its_whole_family,
    blocks_bookings_and_assignments_are_read_back,
    an_ended_care_assignment_is_remembered_and_can_be_renewed,
    editing_replaces_the_body_and_marks_it_edited,
    audit_chain_verifies_after_several_actions,
    audit_entries_filter_by_actor_action_object_and_time,
    audit_log_refuses_updates_and_deletes,
    verify_audit_chain_reports_a_changed_entry_and_the_entry_after_a_removed_one,
    audit_chain_stays_linear_under_concurrent_writers,
    entries_from_before_the_chain_are_counted_apart,
    messages_crossing_in_opposite_directions_do_not_deadlock,
    a_message_and_its_attachment_are_stored_together_and_read_back,
    a_message_whose_upload_was_abandoned_is_not_stored,
    uploads_are_abandoned_oldest_first_once_old_enough_until_forgotten,
    scan_decisions_are_stored_and_leave_the_queue,
    a_deferred_scan_leaves_the_queue_to_the_others_until_it_is_due,
);

mod account_tests {
    contract_tests!(
        accounts:
        deactivation_raises_the_version_and_revokes_every_credential,
        a_password_change_keeps_one_session_and_revokes_the_rest,
        an_unknown_user_has_no_account_status,
        one_refresh_token_used_twice_at_once_is_a_reuse,
    );
}

mod account_change_tests {
    contract_tests!(
        account_changes:
        a_role_and_a_deactivation_are_stored_and_audited_together,
        a_change_to_an_unknown_user_stores_and_audits_nothing,
    );
}

mod people_tests {
    contract_tests!(
        people:
        each_directory_scope_finds_only_its_people,
        an_ended_assignment_leaves_the_directory_and_the_patient_list,
        assigned_patients_come_with_the_last_visible_message_and_unread_count,
        the_user_list_filters_by_words_and_role_and_pages,
    );
}

mod locking_tests {
    contract_tests!(
        locking:
        crossing_sends_deletes_and_reads_of_one_conversation_all_succeed,
    );
}

mod stream_tests {
    contract_tests!(
        streams:
        streams_number_entries_per_user_without_gaps_and_replay_exactly,
        a_position_older_than_what_is_kept_asks_for_a_resync,
        concurrent_changes_get_distinct_gap_free_numbers,
        postgres_announces_committed_entries_to_listeners,
        ws_tickets_are_single_use_and_expire,
        presence_spans_instances_until_they_leave_or_go_stale,
        a_delete_for_everyone_redacts_the_body_kept_in_the_streams,
        streams_written_before_the_format_was_versioned_replay_and_continue,
    );
}
