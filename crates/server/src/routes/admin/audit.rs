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
    /// Only entries by this user.
    actor_id: Option<i64>,
    /// A stored action name such as `message.sent`; empty means any.
    #[param(max_length = 64, pattern = r"^[a-z0-9._]*$")]
    action: Option<String>,
    /// A stored object type such as `message`; empty means any.
    #[param(max_length = 64, pattern = r"^[a-z0-9._]*$")]
    object_type: Option<String>,
    /// Only entries about this object.
    object_id: Option<i64>,
    /// Entries at or after this RFC 3339 time.
    #[param(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    since: Option<String>,
    /// Entries before this RFC 3339 time.
    #[param(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    until: Option<String>,
    /// 1-based page number.
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// Entries per page, 1..=200 (50).
    #[param(minimum = 1, maximum = 200)]
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
        crate::problem::doc::Errors<(messaging_domain::AdminError, messaging_domain::ValidationError)>
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
    // A `since` at or after `until` is an empty range: an empty page, like any range with
    // nothing in it.
    let since = time(query.since.as_deref(), "since")?;
    let until = time(query.until.as_deref(), "until")?;
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

/// An optional RFC 3339 time, exactly (as the document's `date-time` format says).
fn time(raw: Option<&str>, field: &'static str) -> Result<Option<DateTime<Utc>>, ValidationError> {
    match raw {
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
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
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
