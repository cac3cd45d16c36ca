//! The storage ports' contract: the rules every adapter of them keeps, written once over the
//! ports and run against each backend (memory in `messaging-memory`, SQLite and PostgreSQL in
//! `messaging-store`) through [`contract_suite!`].
//!
//! Each rule is a `pub async fn rule<S: Backend>(store: &S)` that panics when the store breaks
//! it; a backend instantiates every rule as a test with
//! `messaging_contract::contract_suite!(fresh_store)`, where `fresh_store` is an
//! `async fn() -> Option<S>` giving each test an empty store of its own (`None` skips the test,
//! for a database that is not reachable and not required). Rules that need more than the ports
//! (query counts, raw SQL, the audit chain's tamper checks) stay in the backend's own tests.

// The crate is assertions: a failed unwrap is a failed rule, reported where it happened.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_changes;
mod accounts;
mod attachments;
mod locking;
mod messages;
mod people;
mod plans;
mod search;
mod streams;
pub mod support;

pub use account_changes::*;
pub use accounts::*;
pub use attachments::*;
pub use locking::*;
pub use messages::*;
pub use people::*;
pub use plans::*;
pub use search::*;
pub use streams::*;

use messaging_domain::ports::{
    AccountChanges, AccountStatuses, Administration, AttachmentRepository, AuditLog, AuditTrail,
    Blocks, Credentials, EventLog, MessageQueries, Messages, People, PeopleSearch,
    PresenceSettings, Reports, Sessions, Tickets,
};

/// Every storage port at once: what one adapter of the store provides. Clones share the data,
/// so rules can change a store from several tasks at once.
pub trait Backend:
    Messages
    + MessageQueries
    + Reports
    + People
    + PeopleSearch
    + Blocks
    + PresenceSettings
    + Administration
    + Credentials
    + Sessions
    + Tickets
    + AccountStatuses
    + AuditLog
    + AuditTrail
    + AccountChanges
    + EventLog
    + AttachmentRepository
    + Clone
{
}

impl<T> Backend for T where
    T: Messages
        + MessageQueries
        + Reports
        + People
        + PeopleSearch
        + Blocks
        + PresenceSettings
        + Administration
        + Credentials
        + Sessions
        + Tickets
        + AccountStatuses
        + AuditLog
        + AuditTrail
        + AccountChanges
        + EventLog
        + AttachmentRepository
        + Clone
{
}

/// Declares one test per rule of the contract, each on a fresh store from `$fresh` (an
/// `async fn() -> Option<S>`; `None` skips the test). The caller needs tokio's `macros` and
/// `rt-multi-thread` features.
#[macro_export]
macro_rules! contract_suite {
    ($fresh:path) => {
        $crate::contract_suite!(@rules $fresh;
            usernames_are_unique_whatever_their_case,
            first_message_creates_one_conversation_per_pair_and_booking,
            thread_list_shows_each_members_latest_visible_message_and_unread_count,
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
            unread_counts_are_grouped_by_sender,
            a_reused_refresh_token_revokes_its_whole_family,
            blocks_bookings_and_assignments_are_read_back,
            a_send_reads_both_parties_with_the_blocks_between_them,
            an_ended_care_assignment_is_remembered_and_can_be_renewed,
            editing_replaces_the_body_and_marks_it_edited,
            messages_crossing_in_opposite_directions_do_not_deadlock,
            a_message_and_its_attachment_are_stored_together_and_read_back,
            a_message_whose_upload_was_abandoned_is_not_stored,
            uploads_are_abandoned_oldest_first_once_old_enough_until_forgotten,
            scan_decisions_are_stored_and_leave_the_queue,
            a_deferred_scan_leaves_the_queue_to_the_others_until_it_is_due,
            deactivation_raises_the_version_and_revokes_every_credential,
            a_password_change_keeps_one_session_and_revokes_the_rest,
            an_unknown_user_has_no_account_status,
            one_refresh_token_used_twice_at_once_is_a_reuse,
            each_directory_scope_finds_only_its_people,
            an_ended_assignment_leaves_the_directory_and_the_patient_list,
            assigned_patients_come_with_the_last_visible_message_and_unread_count,
            the_user_list_filters_by_words_and_role_and_pages,
            crossing_sends_deletes_and_reads_of_one_conversation_all_succeed,
            streams_number_entries_per_user_without_gaps_and_replay_exactly,
            a_position_older_than_what_is_kept_asks_for_a_resync,
            concurrent_changes_get_distinct_gap_free_numbers,
            ws_tickets_are_single_use_and_expire,
            a_delete_for_everyone_redacts_the_body_kept_in_the_streams,
            a_plan_runs_once_when_the_write_changes_something_and_never_otherwise,
            a_role_and_a_deactivation_are_stored_and_audited_together,
            a_change_to_an_unknown_user_stores_and_audits_nothing,
            sends_at_the_same_moment_each_keep_every_guarantee,
        );
    };
    (@rules $fresh:path; $($rule:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $rule() {
                let Some(store) = $fresh().await else { return };
                $crate::$rule(&store).await;
            }
        )*
    };
}
