//! `GET /api/admin/audit?actor_id=&action=&object_type=&object_id=&since=&until=&page=&limit=`:
//! the audit log, newest first, for active admins. `since` and `until` are RFC 3339 times (`since`
//! inclusive, `until` exclusive); `action` and `object_type` are stored names such as
//! `message.sent` and `message`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use messaging_domain::ValidationError;
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use messaging_domain::user::UserId;
use messaging_store::audit::{AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

/// Audit pages are read in bulk by people going through an incident, so they may be long.
const AUDIT_LIMIT: LimitSpec = LimitSpec {
    field: "limit",
    min: 1,
    max: 200,
    default: 50,
};

/// The longest stored action or object type name accepted as a filter.
const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    actor_id: Option<i64>,
    action: Option<String>,
    object_type: Option<String>,
    object_id: Option<i64>,
    since: Option<String>,
    until: Option<String>,
    page: Option<i64>,
    limit: Option<i64>,
}

/// One entry as admins see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryResponse {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub client_addr: Option<String>,
    pub at: DateTime<Utc>,
    pub hash: Option<String>,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            actor_id: e.actor_id.map(|a| a.0),
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            client_addr: e.client_addr,
            at: e.at,
            hash: e.hash,
        }
    }
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "The audit log, newest first",
    params(AuditQuery),
    responses(
        (status = 200, description = "`{entries, page, limit}`", body = crate::openapi::AuditResponse),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "ADMIN_ONLY, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    admin: AuthUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Problem> {
    // Admins first, so that nobody else learns anything from how their filters are judged.
    state.admin.require_admin_actor(&admin.actor()).await?;
    let query = query.into_inner();
    let page = Page {
        number: PageNumber::parse(query.page)?,
        size: PageSize::parse(query.limit, AUDIT_LIMIT)?,
    };
    let since = time(query.since.as_deref(), "since")?;
    let until = time(query.until.as_deref(), "until")?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(ValidationError::Malformed {
            field: "until",
            reason: "must be later than since",
        }
        .into());
    }
    let filter = AuditFilter {
        actor_id: query.actor_id.map(UserId),
        action: name(query.action, "action")?,
        object_type: name(query.object_type, "object_type")?,
        object_id: query.object_id,
        since,
        until,
    };
    let entries: Vec<AuditEntryResponse> = state
        .store
        .audit_entries(filter, page)
        .await?
        .into_iter()
        .map(AuditEntryResponse::from)
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "entries": entries,
        "page": page.number.get(),
        "limit": page.size.get(),
    })))
}

/// An optional RFC 3339 time; an empty parameter counts as absent.
fn time(raw: Option<&str>, field: &'static str) -> Result<Option<DateTime<Utc>>, ValidationError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| ValidationError::Malformed {
                field,
                reason: "an RFC 3339 time such as 2026-11-21T09:30:00Z",
            }),
    }
}

/// An optional stored name (`message.sent`); an empty parameter counts as absent.
fn name(raw: Option<String>, field: &'static str) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::TooLong {
            field,
            max: MAX_NAME_CHARS,
        });
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_'))
    {
        return Err(ValidationError::Malformed {
            field,
            reason: "lower-case letters, digits, '.' and '_' only",
        });
    }
    Ok(Some(raw))
}
