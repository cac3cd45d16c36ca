//! `GET /api/messages/search?q=&page=&page_size=`: ranked full-text search over the caller's
//! messages, never returning one deleted for the caller. One handler serves both seed systems:
//! System A sends `page` and `page_size`, System B sends `limit`, which is read as `page_size`
//! (1..=50). The answer is System A's shape, `{messages, total, page, page_size, total_pages}`.

use actix_web::{HttpResponse, get, web};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize, SearchQuery};
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::dto::MessageResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find, 2..=200 characters with at least two that are not white space or control
    /// characters; each word matches the beginning of a word of the message (`budg` finds
    /// "budget"), case-insensitively, and every word must match.
    #[param(
        required = true,
        min_length = 2,
        max_length = 200,
        pattern = r"[^\s\x00-\x1f\x7f-\x9f][\s\S]*[^\s\x00-\x1f\x7f-\x9f]"
    )]
    q: Option<String>,
    /// 1-based page number.
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// Results per page, 1..=50 (20).
    #[param(minimum = 1, maximum = 50)]
    page_size: Option<i64>,
    /// System B's name for the page size, 1..=50 (20); `page_size` wins when both are given.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SearchResponse {
    messages: Vec<MessageResponse>,
    total: i64,
    page: u32,
    page_size: u32,
    total_pages: i64,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Search the caller's messages; takes `page`/`page_size` or System B's `limit` (also under /api/v1)",
    params(SearchParams),
    responses(
        (status = 200, description = "One page of results", body = SearchResponse),
        crate::problem::doc::Errors<messaging_domain::ValidationError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/search")]
pub async fn search(
    state: web::Data<AppState>,
    user: AuthUser,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, Problem> {
    let params = params.into_inner();
    let query = SearchQuery::parse(params.q.as_deref().unwrap_or(""))?;
    let page = Page {
        number: PageNumber::parse(params.page)?,
        // Both are checked; `page_size` wins when both are given.
        size: match (
            PageSize::parse(params.page_size, LimitSpec::SEARCH)?,
            PageSize::parse(params.limit, LimitSpec::SEARCH_LIMIT)?,
        ) {
            (size, _) if params.page_size.is_some() => size,
            (_, limit) => limit,
        },
    };
    let results = state.messaging.search(&user.actor(), &query, page).await?;
    let size = i64::from(page.size.get());
    Ok(HttpResponse::Ok().json(SearchResponse {
        total_pages: (results.total + size - 1) / size,
        total: results.total,
        page: page.number.get(),
        page_size: page.size.get(),
        messages: results
            .messages
            .into_iter()
            .map(MessageResponse::from)
            .collect(),
    }))
}
