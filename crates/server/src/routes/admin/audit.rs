//! `GET /api/admin/audit?actor_id=&action=&object_type=&object_id=&since=&until=&page=&limit=`:
//! the audit log, newest first, for active admins. `since` and `until` are RFC 3339 times (`since`
//! inclusive, `until` exclusive); `action` and `object_type` are stored names such as
//! `message.sent` and `message`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use messaging_domain::audit::AuditEntry;
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

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
        crate::problem::doc::Errors<messaging_domain::AuditReadError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    admin: AuthUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Problem> {
    // The domain checks the caller is an admin before it reads the filters.
    let query = query.into_inner();
    let (entries, page) = state
        .admin
        .audit_entries(
            &admin.actor(),
            messaging_domain::audit::AuditQuery {
                actor_id: query.actor_id,
                action: query.action,
                object_type: query.object_type,
                object_id: query.object_id,
                since: query.since,
                until: query.until,
                page: query.page,
                limit: query.limit,
            },
        )
        .await?;
    let entries: Vec<AuditEntryResponse> =
        entries.into_iter().map(AuditEntryResponse::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "entries": entries,
        "page": page.number.get(),
        "limit": page.size.get(),
    })))
}
