//! `GET /api/messages/threads/{other_user_id}?booking_id=&page=&page_size=&before=`: one page of the
//! conversation, newest page first, each page oldest message first. `before` (a message id) pages
//! by keyset; `page` counts pages back from the newest.

use actix_web::{HttpResponse, get, web};
use messaging_domain::message::{HistoryRequest, MessageId};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use messaging_domain::user::{BookingId, UserId};
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::dto::{AttachmentResponse, MessageResponse};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only the thread of this booking.
    booking_id: Option<i64>,
    /// Pages back from the newest (1).
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// Messages per page, 1..=100 (50).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<i64>,
    /// A message id: the page of messages older than it (`next_before` of the previous page).
    before: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct HistoryResponse {
    messages: Vec<MessageResponse>,
    page: u32,
    page_size: u32,
    has_more: bool,
    /// Pass as `before` to get the next older page.
    next_before: Option<i64>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "A thread's history; page 1 is the newest, each page oldest first (also under /api/v1)",
    params(HistoryQuery),
    responses(
        (status = 200, description = "One page", body = HistoryResponse),
        crate::problem::doc::Errors<messaging_domain::ValidationError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/threads/{other_user_id}")]
pub async fn thread_history(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, Problem> {
    let page = Page {
        number: PageNumber::parse(query.page)?,
        size: PageSize::parse(query.page_size, LimitSpec::HISTORY)?,
    };
    let request = HistoryRequest {
        before: query.before.map(MessageId),
        page,
    };
    let slice = state
        .attachments
        .history_with_files(
            &state.messaging,
            &user.actor(),
            UserId(crate::routes::positive_id(path.into_inner())?),
            query.booking_id.map(BookingId),
            request,
        )
        .await?;
    let next_before = if slice.has_more {
        slice.messages.first().map(|m| m.view.message.id.0)
    } else {
        None
    };
    let messages = slice
        .messages
        .into_iter()
        .map(|with_files| {
            let mut response = MessageResponse::from(with_files.view);
            response.attachments = with_files
                .files
                .into_iter()
                .map(AttachmentResponse::from)
                .collect();
            response
        })
        .collect();
    Ok(HttpResponse::Ok().json(HistoryResponse {
        messages,
        page: page.number.get(),
        page_size: page.size.get(),
        has_more: slice.has_more,
        next_before,
    }))
}
