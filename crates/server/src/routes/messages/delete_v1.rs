//! System A's `DELETE /api/v1/messages/{id}` → 204: as in System A, only the sender may delete,
//! and the message is hidden from both parties (the recipient's devices get `message_deleted`
//! with scope `everyone`). Anyone else, the recipient included, gets 404, as System A's update
//! `WHERE id = ? AND sender_id = ?` found nothing for them. The unversioned route keeps the
//! per-party delete of System B (`delete.rs`).

use actix_web::{HttpResponse, delete, web};
use messaging_domain::DeleteError;
use messaging_domain::message::{DeleteScope, MessageId};

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[utoipa::path(
    context_path = "/api/v1",
    tag = "messages (System A)",
    summary = "Delete a message for both parties (sender only), as System A did",
    responses(
        (status = 204, description = "Deleted for both parties"),
        crate::problem::doc::Errors<SenderOnly>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[delete("/messages/{id}")]
pub async fn delete_v1(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let id = MessageId(crate::routes::positive_id(path.into_inner())?);
    state
        .messaging
        .delete(&user.actor(), id, DeleteScope::ForEveryone)
        .await
        .map_err(sender_only)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Not the sender's message: not found, as for a message the caller cannot see.
fn sender_only(err: DeleteError) -> Problem {
    match err {
        DeleteError::NotSender => Problem::message_not_found(),
        other => other.into(),
    }
}

/// What the route answers besides 204.
#[derive(Debug)]
pub struct SenderOnly;

impl crate::problem::doc::Documented for SenderOnly {
    fn problems() -> Vec<Problem> {
        vec![sender_only(DeleteError::NotSender)]
    }
}
