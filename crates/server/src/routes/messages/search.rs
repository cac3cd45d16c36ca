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
    q: Option<String>,
    page: Option<i64>,
    page_size: Option<i64>,
    /// System B's name for the page size.
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
        (status = 400, description = "INVALID_REQUEST: unreadable JSON, query or path", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
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
        size: match (params.page_size, params.limit) {
            (Some(size), _) => PageSize::parse(Some(size), LimitSpec::SEARCH)?,
            (None, Some(limit)) => PageSize::parse(Some(limit), LimitSpec::SEARCH_LIMIT)?,
            (None, None) => PageSize::parse(None, LimitSpec::SEARCH)?,
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
