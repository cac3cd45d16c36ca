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
    /// The other user's name; `null` for a user that does not exist (an empty conversation).
    pub with_user: Option<String>,
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
    /// `null` when the reporter's account is gone.
    pub reporter_username: Option<String>,
    /// `null` when the message is gone.
    pub message: Option<MessageResponse>,
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
        messages::delete_v1::delete_v1,
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

/// The served document: the handlers' annotations, then System A's routes mirrored under
/// `/api/v1` and the answers every route's extractors add (see [`complete`]).
#[must_use]
pub fn document() -> utoipa::openapi::OpenApi {
    let generated = ApiDoc::openapi();
    let completed = serde_json::to_value(&generated)
        .map(complete)
        .and_then(serde_json::from_value);
    match completed {
        Ok(doc) => doc,
        Err(err) => {
            tracing::error!(error = %err, "cannot complete the OpenAPI document");
            generated
        }
    }
}

/// Serves the document and Swagger UI. Must be registered before the `/api` scope, which would
/// otherwise own `/api/openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(SwaggerUi::new("/docs/{_:.*}").url(OPENAPI_PATH, document()));
}

/// The HTTP methods an OpenAPI path item can have, in the order `Allow` lists them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The tag of System A's message routes, which are served under `/api/v1` too.
const SYSTEM_A_TAG: &str = "messages (System A)";

/// Completes the generated document:
/// - System A's operations are copied under `/api/v1` (where the router serves them too), unless
///   a handler documents its own `/api/v1` operation for that method;
/// - every operation gets the problems its extractors can answer, from its shape: 401 (and 403
///   `CSRF_FAILED` for state-changing methods) when it needs credentials, 400/413/415 for a JSON
///   body, 400 for query parameters, 404 for path parameters, and 500 always;
/// - id path parameters get `minimum: 1` (anything else names nothing: 404).
fn complete(mut doc: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    let mirrored: Vec<(String, String, Value)> = paths
        .iter()
        .filter(|(path, _)| !path.starts_with("/api/v1/"))
        .filter_map(|(path, item)| Some((path.strip_prefix("/api/")?, item)))
        .flat_map(|(rest, item)| {
            METHODS.iter().filter_map(move |method| {
                let op = item.get(*method)?;
                let tagged = op["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t == SYSTEM_A_TAG));
                tagged.then(|| (format!("/api/v1/{rest}"), (*method).to_owned(), op.clone()))
            })
        })
        .collect();
    for (path, method, mut op) in mirrored {
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if item.get(&method).is_none() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                op["operationId"] = Value::String(format!("v1_{id}"));
            }
            item[method.as_str()] = op;
        }
    }
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(op) = item.get_mut(method) {
                add_common_problems(path, method, op);
            }
        }
    }
    doc
}

fn add_common_problems(path: &str, method: &str, op: &mut serde_json::Value) {
    use actix_web::http::StatusCode;
    let mut extra: Vec<(StatusCode, &'static str)> = Vec::new();
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    if secured {
        for code in crate::auth::UNAUTHENTICATED_CODES {
            extra.push((StatusCode::UNAUTHORIZED, code));
        }
        if !matches!(method, "get" | "head" | "options") {
            extra.push((StatusCode::FORBIDDEN, "CSRF_FAILED"));
        }
    }
    if op["requestBody"]["content"]
        .get("application/json")
        .is_some()
    {
        for problem in crate::problem::json_body_problems() {
            extra.push((problem.status(), problem.code()));
        }
    }
    let params = op["parameters"].as_array_mut();
    let mut has_query = false;
    let mut has_path = false;
    for param in params.into_iter().flatten() {
        match param["in"].as_str() {
            Some("query") => has_query = true,
            Some("path") => {
                has_path = true;
                let integer = param["schema"]["type"] == "integer";
                if integer && param["schema"].get("minimum").is_none() {
                    param["schema"]["minimum"] = serde_json::json!(1);
                }
            }
            _ => {}
        }
    }
    if has_query {
        extra.push((StatusCode::BAD_REQUEST, "INVALID_REQUEST"));
    }
    if has_path {
        extra.push((StatusCode::NOT_FOUND, "NOT_FOUND"));
    }
    extra.push((StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"));
    // Every route but the liveness probe reads the database, so every one can find it away.
    if path != "/healthz" {
        extra.push((StatusCode::SERVICE_UNAVAILABLE, "DATABASE_UNAVAILABLE"));
    }
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    for (status, code) in extra {
        let key = status.as_u16().to_string();
        match responses.get_mut(&key) {
            Some(existing) => {
                let description = existing["description"].as_str().unwrap_or_default();
                let mut codes = crate::problem::doc::described_codes(description);
                if !codes.iter().any(|c| c == code) {
                    codes.push(code.to_owned());
                    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
                    existing["description"] =
                        serde_json::Value::String(crate::problem::doc::describe(&codes));
                }
            }
            None => {
                if let Ok(response) =
                    serde_json::to_value(crate::problem::doc::problem_response(&[code]))
                {
                    responses.insert(key, response);
                }
            }
        }
    }
}

/// Which methods each documented path answers, for 405 answers with an `Allow` header.
#[derive(Debug)]
pub struct MethodTable {
    routes: Vec<(Vec<Segment>, Vec<&'static str>)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    /// A path parameter; `true` when it must be an integer.
    Param(bool),
}

impl MethodTable {
    /// From the served document, plus routes it does not describe (`extra`: path, methods).
    #[must_use]
    pub fn new(doc: &utoipa::openapi::OpenApi, extra: &[(&str, &[&'static str])]) -> Self {
        let json = serde_json::to_value(doc).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = json["paths"].as_object() {
            for (path, item) in paths {
                let methods: Vec<&'static str> = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .copied()
                    .collect();
                let integer_params: Vec<&str> = METHODS
                    .iter()
                    .filter_map(|m| item.get(*m)?["parameters"].as_array())
                    .flatten()
                    .filter(|p| p["in"] == "path" && p["schema"]["type"] == "integer")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                routes.push((segments(path, &integer_params), methods));
            }
        }
        for (path, methods) in extra {
            routes.push((segments(path, &[]), methods.to_vec()));
        }
        Self { routes }
    }

    /// The methods `path` answers, or `None` when no route has that path.
    #[must_use]
    pub fn allowed(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<&str> = Vec::new();
        for (pattern, methods) in &self.routes {
            let matches = pattern.len() == parts.len()
                && pattern.iter().zip(&parts).all(|(seg, part)| match seg {
                    Segment::Literal(lit) => lit == part,
                    Segment::Param(true) => part.parse::<i64>().is_ok(),
                    Segment::Param(false) => !part.is_empty(),
                });
            if matches {
                for method in methods {
                    if !allowed.contains(method) {
                        allowed.push(method);
                    }
                }
            }
        }
        if allowed.is_empty() {
            return None;
        }
        allowed.sort_by_key(|m| METHODS.iter().position(|x| x == m));
        Some(
            allowed
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

fn segments(path: &str, integer_params: &[&str]) -> Vec<Segment> {
    path.split('/')
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => Segment::Param(integer_params.contains(&name)),
                None => Segment::Literal(part.to_owned()),
            },
        )
        .collect()
}
