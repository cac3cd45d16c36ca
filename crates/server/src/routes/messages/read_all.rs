//! `PATCH /api/messages/threads/{other_user_id}/read-all?booking_id=`: marks the thread read and
//! says how many messages changed: `{message, count}`.

use actix_web::{HttpResponse, patch, web};
use messaging_domain::user::{BookingId, UserId};
use serde::Deserialize;
use serde_json::json;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadAllQuery {
    booking_id: Option<i64>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Mark a whole thread read (also under /api/v1)",
    params(ReadAllQuery),
    responses(
        (status = 200, description = "`{message, count}`", body = crate::openapi::ReadAllResponse)
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[patch("/messages/threads/{other_user_id}/read-all")]
pub async fn mark_thread_read(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    query: web::Query<ReadAllQuery>,
) -> Result<HttpResponse, Problem> {
    let count = state
        .messaging
        .mark_thread_read(
            &user.actor(),
            UserId(crate::routes::positive_id(path.into_inner())?),
            query.booking_id.map(BookingId),
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Marked {count} messages as read"),
        "count": count,
    })))
}
