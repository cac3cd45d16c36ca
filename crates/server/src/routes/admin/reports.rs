//! `GET /api/admin/reports?page=&limit=`: reported messages, newest first, with the reporter, the
//! reason and the message.

use actix_web::{HttpResponse, get, web};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use serde::Deserialize;
use serde_json::json;

use crate::auth::AuthUser;
use crate::dto::MessageResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// Reports per page, 1..=50 (20).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<i64>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Reported messages",
    params(ReportsQuery),
    responses(
        (status = 200, description = "`{reports: [{id, reason, created_at, reporter_id, reporter_username, message}]}`", body = crate::openapi::ReportsResponse),
        crate::problem::doc::Errors<(messaging_domain::SafetyError, messaging_domain::ValidationError)>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/admin/reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    admin: AuthUser,
    query: web::Query<ReportsQuery>,
) -> Result<HttpResponse, Problem> {
    let page = Page {
        number: PageNumber::parse(query.page)?,
        size: PageSize::parse(query.limit, LimitSpec::INBOX)?,
    };
    let reports = state.messaging.reports(&admin.actor(), page).await?;
    let body: Vec<_> = reports
        .into_iter()
        .map(|r| {
            json!({
                "id": r.report.id,
                "reason": r.report.reason,
                "created_at": r.report.created_at,
                "reporter_id": r.report.reporter_id.0,
                "reporter_username": r.reporter.map(|u| u.username),
                "message": r.message.map(MessageResponse::from),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "reports": body })))
}
