//! System B's `GET /api/messages/sent?page=&limit=`: what the caller sent and still sees, newest
//! first, with read status.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::dto::preview;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SentQuery {
    page: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SentMessage {
    id: i64,
    conversation_id: i64,
    recipient: String,
    recipient_id: i64,
    subject: Option<String>,
    preview: String,
    sent_at: DateTime<Utc>,
    is_read: bool,
    read_at: Option<DateTime<Utc>>,
}

/// The answer's shape, for the OpenAPI document (the handler builds it with `json!`).
#[allow(dead_code)]
#[derive(Debug, utoipa::ToSchema)]
struct SentListResponse {
    messages: Vec<SentMessage>,
    page: u32,
    limit: u32,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = "Messages the caller sent",
    params(SentQuery),
    responses(
        (status = 200, description = "One page", body = SentListResponse),
        (status = 400, description = "INVALID_REQUEST: unreadable JSON, query or path", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/sent")]
pub async fn sent(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<SentQuery>,
) -> Result<HttpResponse, Problem> {
    let page = Page {
        number: PageNumber::parse(query.page)?,
        size: PageSize::or_default(query.limit, LimitSpec::INBOX),
    };
    let views = state.messaging.sent(&user.actor(), page).await?;
    let messages: Vec<SentMessage> = views
        .into_iter()
        .map(|v| SentMessage {
            id: v.message.id.0,
            conversation_id: v.message.conversation_id.0,
            recipient: v.recipient.username,
            recipient_id: v.recipient.id.0,
            preview: preview(&v.message.body, 100),
            subject: v.message.subject,
            sent_at: v.message.created_at,
            is_read: v.message.read_at.is_some(),
            read_at: v.message.read_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "messages": messages,
        "page": page.number.get(),
        "limit": page.size.get(),
    })))
}
