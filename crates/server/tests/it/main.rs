//! The real server, started on port 0, driven over HTTP. Every test runs on SQLite and on
//! PostgreSQL (a fresh database each); see `support.rs` for how PostgreSQL is found.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod attachments;
mod audit;
mod client_api;
mod contract;
mod fuzz;
mod lockout;
mod observability;
mod openapi;
mod outage;
mod privacy;
mod process;
mod proxies;
mod rate_limits;
mod raw_ws;
mod realtime;
mod sessions;
mod support;
mod system_b;

/// Declares each test twice: once per backend.
macro_rules! server_tests {
    ($module:ident in $wrapper:ident: $($name:ident),* $(,)?) => {
        mod $wrapper {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    let app = crate::support::TestApp::spawn(crate::support::Backend::Sqlite).await.unwrap();
                    crate::$module::$name(&app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some(app) = crate::support::TestApp::spawn(crate::support::Backend::Postgres).await else { return };
                    crate::$module::$name(&app).await;
                }
            )*
        }
        }
    };
}

server_tests!(
    api in api_tests:
    the_readme_walkthrough_works_end_to_end,
    contact_details_are_masked_until_the_pair_shares_a_booking,
    a_booking_of_another_pair_is_refused_and_unmasks_nothing,
    file_names_prices_and_times_survive_masking,
    no_response_carries_an_email_address,
    history_shows_the_newest_page_first,
    delete_for_me_hides_the_message_only_from_the_deleter_in_every_listing,
    delete_for_everyone_is_the_senders_alone,
    unknown_inactive_and_self_recipients_get_one_identical_error,
    only_the_recipient_can_mark_a_message_read,
    edits_are_refused_after_the_window_and_remasked_within_it,
    bad_input_gets_problem_responses_and_changes_nothing,
    login_failures_look_the_same_for_unknown_users_and_wrong_passwords,
    a_reused_refresh_token_revokes_the_whole_family,
    contact_rules_hold_for_clinicians_and_patients,
    health_and_readiness_answer,
);

server_tests!(
    audit in audit_tests:
    admins_see_sends_reads_and_logins_with_the_client_address,
    audit_filters_by_action_and_actor_and_refuses_bad_values,
    only_admins_read_the_audit_log,
);

server_tests!(
    system_b in system_b_tests:
    system_b_send_inbox_conversation_sent_and_reply_work_together,
    clinician_messages_land_in_the_patients_inbox,
    system_a_routes_answer_under_api_v1_too,
    search_accepts_system_b_limit,
    a_block_stops_messages_both_ways_until_lifted,
    reports_reach_the_admins_and_only_them,
    admins_manage_accounts_bookings_and_assignments,
    another_users_message_is_not_found_and_unchanged,
    anonymous_callers_get_401_on_every_protected_route,
    a_retried_send_returns_the_original_message,
    the_contact_rules_hold_on_every_send_path,
);

server_tests!(
    privacy in privacy_tests:
    the_longest_worst_case_body_is_masked_and_the_server_keeps_answering,
    subjects_and_display_names_reach_the_other_party_masked,
    probing_recipients_tells_nobody_who_exists_or_what_role_they_have,
    only_a_party_already_known_is_told_why_a_send_is_refused,
);

server_tests!(
    lockout in lockout_tests:
    a_deactivated_account_is_refused_on_every_route_at_once,
    a_deactivated_admin_loses_admin_reads_and_writes,
    a_role_change_takes_effect_without_a_new_token,
    a_signed_token_naming_no_user_is_401_not_500,
    two_concurrent_refreshes_of_one_token_are_a_reuse,
    a_password_change_keeps_this_session_and_ends_every_other_credential,
    logging_out_closes_the_sockets_opened_through_that_session_only,
    one_patch_changes_role_and_state_together_or_not_at_all,
);

server_tests!(
    client_api in client_api_tests:
    me_shows_the_caller_their_role_and_settings,
    a_password_change_needs_the_current_password_and_revokes_other_sessions,
    the_directory_lists_only_whom_the_caller_may_start_a_conversation_with,
    clinicians_get_their_patients_with_last_message_and_unread_count,
    admins_list_and_search_users_and_verify_the_audit_log,
    the_web_client_is_served_with_a_strict_policy_and_versioned_assets,
);

server_tests!(
    contract in contract_tests:
    methods_a_path_does_not_have_get_405_with_allow,
    system_b_validation_failures_are_400_with_their_code,
    system_b_unknown_recipients_are_404_as_in_system_b,
    system_b_limit_falls_back_to_its_default_on_garbage,
    patients_may_write_ten_thousand_characters,
    v1_delete_is_the_senders_and_hides_the_message_from_both,
    schema_valid_requests_are_not_refused_as_invalid,
    the_document_states_every_status_bound_and_nullable_field,
    a_json_body_must_be_an_object,
);

server_tests!(
    fuzz in fuzz_tests:
    generated_bad_input_gets_4xx_problems_and_changes_nothing,
);

#[actix_web::test]
async fn readiness_is_503_when_the_database_goes_away() {
    let Some(app) = support::TestApp::spawn(support::Backend::Postgres).await else {
        return;
    };
    let (status, _) = app.get("/readyz", None).await;
    assert_eq!(status, 200);
    app.drop_postgres_database().await;
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "DATABASE_UNAVAILABLE");
}

server_tests!(realtime in realtime_tests:
    every_device_gets_new_messages_and_the_senders_other_devices_the_echo,
    reads_edits_and_both_deletes_reach_the_right_devices,
    typing_receipts_and_presence_are_for_participants_only,
    blocked_users_receive_nothing_from_each_other,
    since_replays_exactly_across_a_server_restart,
    credentials_origins_and_tickets_are_checked,
    keep_alive_pings_pongs_idle_and_expiring_tokens,
    a_slow_consumer_is_cut_off_and_resumes_without_loss,
    local_deliveries_cost_no_database_reads,
    deactivating_a_user_closes_their_sockets,
    an_oversized_frame_is_refused_with_1009_as_soon_as_its_header_arrives,
    fragmented_messages_are_reassembled_up_to_the_limit,
    a_clients_close_is_answered_with_the_same_code,
    typing_and_receipt_floods_are_limited_per_socket,
    idle_connections_read_what_comes_next_whole,
);

#[actix_web::test]
async fn two_instances_on_one_postgres_deliver_across_each_other() {
    let Some(app) = support::TestApp::spawn(support::Backend::Postgres).await else {
        return;
    };
    realtime::two_instances_deliver_across_each_other(&app).await;
}
