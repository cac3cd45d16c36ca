//! `GET /api/messages/threads?limit=`: the caller's threads, most recent first.

use actix_web::{HttpResponse, get, web};
use messaging_domain::text::{LimitSpec, PageSize};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::ThreadResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadsQuery {
    /// Threads, 1..=200 (100).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "List threads, most recent first (also under /api/v1)",
    params(ThreadsQuery),
    responses(
        (status = 200, description = "Threads", body = Vec<crate::dto::ThreadResponse>),
        crate::problem::doc::Errors<messaging_domain::ValidationError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/threads")]
pub async fn list_threads(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ThreadsQuery>,
) -> Result<HttpResponse, Problem> {
    let limit = PageSize::parse(query.limit, LimitSpec::THREADS)?;
    let threads = state.messaging.threads(&user.actor(), limit).await?;
    let body: Vec<ThreadResponse> = threads.into_iter().map(ThreadResponse::from).collect();
    Ok(HttpResponse::Ok().json(body))
}
