//! Route wiring: every route of the service, in one place.
//!
//! Everything under `/api` lives in one scope (a scope that matches a prefix owns every request
//! under it). System A's message routes are also served under `/api/v1`, as its own code did.

use actix_web::web;

pub mod admin;
pub mod attachments;
pub mod auth;
pub mod clinician;
pub mod health;
pub mod me;
pub mod messages;
pub mod people;
pub mod realtime;
pub mod safety;

#[cfg(test)]
mod tests;

/// An id taken from a path: ids are positive, so anything else names nothing (404), like an id
/// that does not exist.
pub(crate) fn positive_id(id: i64) -> Result<i64, crate::problem::Problem> {
    if id > 0 {
        Ok(id)
    } else {
        Err(crate::problem::Problem::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Not found",
            "No such resource",
        ))
    }
}

/// Routes the OpenAPI document does not describe, with their methods (for 405 answers).
pub const UNDOCUMENTED_ROUTES: &[(&str, &[&str])] = &[
    ("/ws", &["get"]),
    ("/ws/messages", &["get"]),
    ("/api/v1/ws/messages", &["get"]),
    ("/api/openapi.json", &["get"]),
];

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Before the `/api` scope, which would otherwise own `/api/openapi.json`.
    cfg.configure(crate::openapi::configure);
    cfg.configure(crate::web::configure);
    cfg.service(health::healthz)
        .service(health::readyz)
        .route("/ws", web::get().to(realtime::ws::ws))
        .route("/ws/messages", web::get().to(realtime::ws::ws))
        .service(
            web::scope("/api/v1")
                .route("/ws/messages", web::get().to(realtime::ws::ws))
                // System A's delete: the sender's, for both parties.
                .service(messages::delete_v1::delete_v1)
                .configure(system_a),
        )
        .service(
            web::scope("/api")
                .configure(auth_routes)
                .configure(realtime_routes)
                .configure(system_b)
                .configure(system_a)
                .service(messages::delete::delete)
                .configure(safety_routes)
                .configure(client_routes)
                .service(attachments::file::serve_file)
                .configure(admin_routes),
        );
}

fn auth_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(auth::register::register)
        .service(auth::login::login)
        .service(auth::refresh::refresh)
        .service(auth::logout::logout)
        .service(auth::csrf::csrf_token);
}

/// System A's message routes (the seed document's `/api/messages...`). More specific paths come
/// before the `{id}` ones they could shadow.
fn system_a(cfg: &mut web::ServiceConfig) {
    cfg.service(messages::threads::list_threads)
        .service(messages::history::thread_history)
        .service(messages::read_all::mark_thread_read)
        .service(messages::search::search)
        .service(messages::unread_count::unread_count)
        .service(messages::send::send)
        .service(messages::send_with_attachment::send_with_attachment)
        .service(messages::attachment_download::download_attachment)
        .service(messages::mark_read::mark_read)
        .service(messages::edit::edit);
}

/// System B's routes that System A does not have (mark read, delete and search are shared).
fn system_b(cfg: &mut web::ServiceConfig) {
    cfg.service(messages::send_by_username::send_by_username)
        .service(messages::inbox::inbox)
        .service(messages::sent::sent)
        .service(messages::conversation::conversation)
        .service(messages::reply::reply)
        .service(clinician::message::clinician_message);
}

fn realtime_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(realtime::ticket::ws_ticket)
        .service(realtime::presence::presence)
        .service(realtime::presence::set_presence);
}

fn safety_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(safety::block::block)
        .service(safety::block::unblock)
        .service(safety::report::report);
}

/// What a front end needs beyond the seed systems' routes: who am I, my password, whom I may
/// write to, a clinician's patients.
fn client_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(me::profile::me)
        .service(me::password::change_password)
        .service(people::directory::directory)
        .service(clinician::patients::patients);
}

fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(admin::user_list::list_users)
        .service(admin::audit_verify::verify_audit)
        .service(admin::users::update_user)
        .service(admin::bookings::create_booking)
        .service(admin::bookings::update_booking)
        .service(admin::assignments::assign)
        .service(admin::assignments::unassign)
        .service(admin::reports::list_reports)
        .service(admin::audit::list_audit);
}
