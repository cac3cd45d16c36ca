//! `GET /api/messages/attachments/{id}/download` → `{download_url, filename, size, mime_type,
//! expires_in_seconds}` for one of the two participants.

use actix_web::{HttpRequest, HttpResponse, get, web};
use messaging_domain::attachment::AttachmentId;
use serde::Serialize;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::routes::positive_id;
use crate::state::AppState;

/// A download link (System A's response).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DownloadResponse {
    /// A presigned (S3) or server-signed (local disk) link; it saves the file under `filename`.
    pub download_url: String,
    pub filename: String,
    pub size: u64,
    pub mime_type: String,
    pub expires_in_seconds: u32,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "A short-lived download link for an attachment (also under /api/v1)",
    params(("id" = i64, Path, description = "The attachment id")),
    responses(
        (status = 200, description = "The link", body = DownloadResponse),
        crate::problem::doc::Errors<messaging_domain::DownloadError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/attachments/{id}/download")]
pub async fn download_attachment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let id = AttachmentId(positive_id(id.into_inner())?);
    let link = state.attachments.download(&user.actor(), id).await?;
    // Local-disk links are served by this server: make them absolute with the address the
    // client reached it by.
    let download_url = if link.url.starts_with('/') {
        let origin = crate::forwarded::request_origin(&req);
        format!("{}{}", origin.origin(), link.url)
    } else {
        link.url
    };
    Ok(HttpResponse::Ok().json(DownloadResponse {
        download_url,
        filename: link.file_name.as_str().to_owned(),
        size: link.size,
        mime_type: link.mime_type.to_owned(),
        expires_in_seconds: link.expires_in_seconds,
    }))
}
