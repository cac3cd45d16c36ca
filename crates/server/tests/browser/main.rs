//! The web client in a real browser: Debian's chromium through chromium-driver (WebDriver), on
//! the real server, on SQLite and on PostgreSQL. Run serially (`cargo xtask ci` runs this binary
//! in a step of its own with one test at a time): two cores cannot hold many browsers at once.
//! Every page the tests visit is checked with axe-core.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod chat;
mod files;
mod harness;
mod safety;
mod screenshots;

#[allow(dead_code, unreachable_pub)]
#[path = "../it/support.rs"]
mod support;

/// Declares each scenario twice: once per backend. A scenario takes the app and a driver.
macro_rules! browser_tests {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some(mut driver) = crate::harness::Driver::start() else { return };
                    let app = crate::support::TestApp::spawn(crate::support::Backend::Sqlite).await.unwrap();
                    crate::$module::$name(&app, &mut driver).await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some(mut driver) = crate::harness::Driver::start() else { return };
                    let Some(app) = crate::support::TestApp::spawn(crate::support::Backend::Postgres).await else { return };
                    crate::$module::$name(&app, &mut driver).await;
                }
            )*
        }
    };
}

browser_tests!(
    chat::two_people_register_and_chat_live_with_a_third_window_echoing,
    chat::a_dropped_connection_catches_up_exactly_on_reconnect,
    chat::edits_and_deletes_for_everyone_reach_the_other_browser,
    chat::search_finds_a_message_and_opens_it_in_its_conversation,
    files::an_attachment_is_uploaded_previewed_and_downloaded,
    safety::a_clinician_sees_only_assigned_patients_and_a_patient_cannot_start_a_conversation,
    safety::state_changes_need_the_csrf_token_and_cross_site_requests_fail,
    safety::markup_in_messages_subjects_names_and_file_names_renders_inertly,
    admin::an_admin_changes_a_role_and_a_deactivated_users_browser_is_logged_out,
);

#[test]
fn the_vendored_axe_core_is_the_recorded_file() {
    harness::check_axe_checksum();
}

/// `cargo xtask screenshots`: PNGs of the main screens, desktop and phone width, into the folder
/// named by `MESSAGING_SCREENSHOTS`.
#[actix_web::test]
#[ignore = "run by cargo xtask screenshots"]
async fn screenshots_of_the_main_screens() {
    let dir = std::env::var("MESSAGING_SCREENSHOTS").expect("MESSAGING_SCREENSHOTS names a folder");
    let Some(mut driver) = harness::Driver::start() else {
        panic!("screenshots need chromium and chromium-driver")
    };
    let app = support::TestApp::spawn(support::Backend::Sqlite)
        .await
        .unwrap();
    screenshots::take(&app, &mut driver, std::path::Path::new(&dir)).await;
}
