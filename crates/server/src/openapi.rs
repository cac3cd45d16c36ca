//! The OpenAPI 3.1 document (served at `/api/openapi.json`) and Swagger UI (at `/docs`, vendored so
//! it works offline). Handlers carry their own `#[utoipa::path]`; this module lists them and holds
//! the schemas of the bodies that handlers build with `json!`.

use std::collections::BTreeMap;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::dto::MessageResponse;
use crate::routes::{
    admin, attachments, auth, clinician, health, me, messages, people, realtime, safety,
};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// An error response (RFC 9457, `application/problem+json`), the error body of every route.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short, human-readable summary.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A human-readable explanation of this occurrence.
    pub detail: String,
    /// A stable machine-readable code, e.g. `VALIDATION_FAILED`.
    pub code: String,
    /// The offending field, on validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Whole seconds to wait, on 429 `RATE_LIMITED` (also in the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// `GET /healthz` and `GET /readyz`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    pub status: String,
}

/// `GET /api/csrf-token`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct CsrfTokenResponse {
    pub csrf_token: String,
}

/// `PATCH /api/messages/threads/{other_user_id}/read-all`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAllResponse {
    pub message: String,
    pub count: i64,
}

/// `GET /api/messages/unread-count`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCountResponse {
    pub total: i64,
    /// Unread count per sender id.
    pub by_sender: BTreeMap<String, i64>,
}

/// `GET /api/messages/conversation/{username}`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationResponse {
    pub with_user: String,
    pub messages: Vec<MessageResponse>,
    pub has_more: bool,
}

/// `POST /api/messages/{id}/report`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportCreated {
    pub report_id: i64,
}

/// One report of `GET /api/admin/reports`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportEntry {
    pub id: i64,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub reporter_id: i64,
    pub reporter_username: String,
    pub message: MessageResponse,
}

/// `GET /api/admin/reports`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportsResponse {
    pub reports: Vec<ReportEntry>,
}

/// `GET /api/admin/audit`.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditResponse {
    pub entries: Vec<admin::audit::AuditEntryResponse>,
    pub page: u32,
    pub limit: u32,
}

/// Adds the two ways to authenticate.
#[derive(Debug)]
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Browser session (login with `cookie: true`); state-changing requests also need \
                 `X-CSRF-Token`",
            ))),
        );
    }
}

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Messaging service",
        description = "System A's and System B's messaging routes in one service. System A's \
                       message routes are also served under `/api/v1/...`. Errors are \
                       `application/problem+json` (see `ProblemDetails`)."
    ),
    paths(
        health::healthz,
        health::readyz,
        auth::register::register,
        auth::login::login,
        auth::refresh::refresh,
        auth::logout::logout,
        auth::csrf::csrf_token,
        messages::threads::list_threads,
        messages::history::thread_history,
        messages::read_all::mark_thread_read,
        messages::search::search,
        messages::unread_count::unread_count,
        messages::send::send,
        messages::send_with_attachment::send_with_attachment,
        messages::attachment_download::download_attachment,
        attachments::file::serve_file,
        messages::mark_read::mark_read,
        messages::edit::edit,
        messages::delete::delete,
        messages::send_by_username::send_by_username,
        messages::inbox::inbox,
        messages::sent::sent,
        messages::conversation::conversation,
        messages::reply::reply,
        clinician::message::clinician_message,
        realtime::ticket::ws_ticket,
        realtime::presence::presence,
        realtime::presence::set_presence,
        safety::block::block,
        safety::block::unblock,
        safety::report::report,
        admin::users::update_user,
        admin::bookings::create_booking,
        admin::bookings::update_booking,
        admin::assignments::assign,
        admin::assignments::unassign,
        admin::reports::list_reports,
        admin::audit::list_audit,
        admin::user_list::list_users,
        admin::audit_verify::verify_audit,
        me::profile::me,
        me::password::change_password,
        people::directory::directory,
        clinician::patients::patients,
    ),
    components(schemas(ProblemDetails)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// Serves the document and Swagger UI. Must be registered before the `/api` scope, which would
/// otherwise own `/api/openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(SwaggerUi::new("/docs/{_:.*}").url(OPENAPI_PATH, ApiDoc::openapi()));
}
