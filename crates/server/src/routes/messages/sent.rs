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
    /// 1-based page number.
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// Messages per page, 1..=50; anything else (out of range, not a number) means 20, as in
    /// System B.
    limit: Option<String>,
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
        crate::problem::doc::Errors<crate::problem::doc::SystemB<messaging_domain::ValidationError>>
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
        number: PageNumber::parse(query.page).map_err(|e| Problem::from(e).for_system_b())?,
        size: PageSize::or_default(
            super::inbox::lenient_number(query.limit.as_deref()),
            LimitSpec::INBOX,
        ),
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
