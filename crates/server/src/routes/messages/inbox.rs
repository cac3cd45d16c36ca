//! System B's `GET /api/messages/inbox?page=&limit=&unread_only=`: the caller's conversations, most
//! recent first, each with a 100-character preview and its unread count. One query, whatever the
//! number of conversations (System B ran one per conversation and paged in memory).

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
pub struct InboxQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// Conversations per page, 1..=50; anything else (out of range, not a number) means 20, as
    /// in System B.
    limit: Option<String>,
    /// Only conversations with unread messages.
    unread_only: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Conversation {
    conversation_id: i64,
    with_user: String,
    other_user_id: i64,
    other_user_role: &'static str,
    booking_id: Option<i64>,
    last_message_id: i64,
    subject: Option<String>,
    preview: String,
    last_message_at: DateTime<Utc>,
    last_sender_id: i64,
    unread_count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct InboxResponse {
    conversations: Vec<Conversation>,
    page: u32,
    limit: u32,
    unread_total: i64,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = "Conversations, with previews cut to 100 characters",
    params(InboxQuery),
    responses(
        (status = 200, description = "One page", body = InboxResponse),
        crate::problem::doc::Errors<crate::problem::doc::SystemB<messaging_domain::ValidationError>>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/inbox")]
pub async fn inbox(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, Problem> {
    let page = Page {
        number: PageNumber::parse(query.page).map_err(|e| Problem::from(e).for_system_b())?,
        // System B treats a limit outside 1..=50, or no number at all, as the default, 20.
        size: PageSize::or_default(lenient_number(query.limit.as_deref()), LimitSpec::INBOX),
    };
    let actor = user.actor();
    let threads = state
        .messaging
        .inbox(&actor, page, query.unread_only.unwrap_or(false))
        .await?;
    let unread_total = state.messaging.unread_counts(&actor).await?.total;
    Ok(HttpResponse::Ok().json(InboxResponse {
        conversations: threads
            .into_iter()
            .map(|t| Conversation {
                conversation_id: t.conversation_id.0,
                with_user: t.other_user.username,
                other_user_id: t.other_user.id.0,
                other_user_role: t.other_user.role.as_str(),
                booking_id: t.booking_id.map(|b| b.0),
                last_message_id: t.last_message_id.0,
                subject: t.last_subject,
                preview: preview(&t.last_message, 100),
                last_message_at: t.last_message_at,
                last_sender_id: t.last_sender_id.0,
                unread_count: t.unread_count,
            })
            .collect(),
        page: page.number.get(),
        limit: page.size.get(),
        unread_total,
    }))
}

/// System B's reading of a number parameter: whatever does not parse as one is absent.
pub(crate) fn lenient_number(raw: Option<&str>) -> Option<i64> {
    raw.and_then(|r| r.trim().parse().ok())
}
