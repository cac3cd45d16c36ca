//! `GET /api/attachments/files/{token}`: serves a local-disk attachment through a link the server
//! signed (see `messaging_files::LocalDiskStorage`). The link is the permission, like an S3
//! presigned URL: it names one file and expires. The file is always saved, never shown: a fixed
//! type, `Content-Disposition: attachment`, `nosniff`, and a sandboxing CSP.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use bytes_stream::file_chunks;

use crate::problem::Problem;
use crate::state::AppState;

#[utoipa::path(
    context_path = "/api",
    tag = "attachments",
    summary = "Download a file through a signed link (local-disk storage)",
    params(("token" = String, Path, description = "The signed token from `download_url`")),
    responses(
        (status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"),
        crate::problem::doc::Errors<(messaging_files::LinkError, FileGone)>
    )
)]
#[get("/attachments/files/{token}")]
pub async fn serve_file(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let Some(local) = state.files.local() else {
        return Err(not_found());
    };
    let link = local.verify(&token, chrono::Utc::now().timestamp())?;
    let path = local.path_of(&link.key);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(err) => return Err(Problem::internal(&err)),
    };
    let size = file
        .metadata()
        .await
        .map_err(|e| Problem::internal(&e))?
        .len();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, link.content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            messaging_files::content_disposition(&link.file_name),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(actix_web::body::SizedStream::new(size, file_chunks(file))))
}

fn not_found() -> Problem {
    Problem::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Not found",
        "No such file",
    )
}

mod bytes_stream {
    //! A file read as a stream of chunks, for a streamed response body.

    use actix_web::web::Bytes;
    use futures_util::Stream;
    use tokio::io::AsyncReadExt;

    const CHUNK: usize = 64 * 1024;

    pub fn file_chunks(file: tokio::fs::File) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::unfold(Some(file), |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(err) => Some((Err(err), None)),
            }
        })
    }
}

/// No local storage, or the file is gone.
#[derive(Debug)]
pub struct FileGone;

impl crate::problem::doc::Documented for FileGone {
    fn problems() -> Vec<Problem> {
        vec![not_found()]
    }
}
