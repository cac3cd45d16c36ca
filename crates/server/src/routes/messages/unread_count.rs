//! `GET /api/messages/unread-count` → `{total, by_sender: {"<sender id>": count}}`.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Unread counts (also under /api/v1)",
    responses(
        (status = 200, description = r#"`{total, by_sender: {"<id>": n}}`"#, body = crate::openapi::UnreadCountResponse)
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/unread-count")]
pub async fn unread_count(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, Problem> {
    let counts = state.messaging.unread_counts(&user.actor()).await?;
    let by_sender: BTreeMap<String, i64> = counts
        .by_sender
        .into_iter()
        .map(|(sender, count)| (sender.0.to_string(), count))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "total": counts.total, "by_sender": by_sender })))
}
