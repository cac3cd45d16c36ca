//! `POST /api/messages/with-attachment` (multipart: `recipient_id`, `message`, `booking_id?`,
//! `file`) → 201 with the stored message and its attachment.
//!
//! The file streams through the domain's `FileInspector` into a spool file: each chunk is checked
//! before it is kept, so a file over its limit is cut off as soon as it crosses it, and memory
//! holds only the inspector's head and one chunk whatever the client sends. The message is stored
//! only once the whole file passed, together with it. The request's raw bytes pass
//! [`multipart_limits`](crate::multipart_limits) first: the preamble is skipped in one pass and the
//! whole body is capped (413 `PAYLOAD_TOO_LARGE`).

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, post, web};
use futures_util::StreamExt;
use messaging_domain::ValidationError;
use messaging_domain::attachment::{FileInspector, InspectedFile};
use messaging_domain::service::attachments::SpooledUpload;
use messaging_domain::text::{ClientMessageId, MessageText};
use messaging_domain::user::{BookingId, UserId};
use messaging_domain::{RecipientRef, SendCommand, SendRoute};
use serde::Serialize;

use crate::attachments::Spool;
use crate::auth::AuthUser;
use crate::dto::{AttachmentResponse, MessageResponse};
use crate::idempotency::client_message_id;
use crate::multipart_limits::{self, MAX_REQUEST_BYTES};
use crate::problem::Problem;
use crate::state::AppState;

/// The largest text field, in bytes (a 10 000-character body in 4-byte characters).
const MAX_TEXT_FIELD_BYTES: usize = 40_000;
/// The most parts a request may have.
const MAX_PARTS: usize = 8;

/// The form, as documented for OpenAPI (the handler reads it as a stream).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SendWithAttachmentForm {
    /// The recipient's user id.
    #[schema(minimum = 1)]
    recipient_id: i64,
    /// Up to 10 000 characters (students and tutors: 2 000), with at least one that is not
    /// white space or a control character.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"[^\s\x00-\x1f\x7f-\x9f]"
    )]
    message: String,
    /// An optional booking between the two users.
    #[schema(minimum = 1)]
    booking_id: Option<i64>,
    /// The client's id for this message (or the `Idempotency-Key` header): a retried request
    /// with the same id answers with the message stored the first time and stores nothing.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,128}$")]
    client_message_id: Option<String>,
    /// The file: JPEG, PNG, GIF or WebP up to 5 MB; PDF, DOC, DOCX, TXT or CSV up to 10 MB; not
    /// empty (422 `EMPTY_FILE`).
    #[schema(value_type = String, format = Binary, min_length = 1)]
    file: Vec<u8>,
}

/// A message with its attachment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageWithAttachmentResponse {
    #[serde(flatten)]
    pub message: MessageResponse,
    pub attachment: AttachmentResponse,
}

#[derive(Default)]
struct Form {
    recipient_id: Option<String>,
    message: Option<String>,
    booking_id: Option<String>,
    client_message_id: Option<String>,
    file: Option<(InspectedFile, Spool)>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Send a message with one file (also under /api/v1)",
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[A-Za-z0-9._:-]{1,128}$", description = "as `client_message_id`; must equal it when both are given (else 409 `IDEMPOTENCY_KEY_MISMATCH`)")),
    request_body(content = SendWithAttachmentForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The message and its attachment", body = MessageWithAttachmentResponse),
        crate::problem::doc::Errors<(messaging_domain::SendError, crate::problem::doc::RateLimited, messaging_domain::attachment::FileRefusal, (FormProblems, crate::idempotency::ClientIdProblems))>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/messages/with-attachment")]
pub async fn send_with_attachment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(not_multipart());
    }
    state.rate_limits.check_send(user.id).await?;
    let mut form = Form::default();
    let boundary = req
        .mime_type()
        .ok()
        .flatten()
        .and_then(|mime| mime.get_param("boundary").map(|b| b.as_str().to_owned()));
    let payload = multipart_limits::guard(payload, boundary.as_deref(), MAX_REQUEST_BYTES);
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let field = field.map_err(malformed)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(Problem::invalid_request("Too many form fields."));
        }
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if form.file.is_none() => {
                form.file = Some(receive_file(&state, field).await?);
            }
            "recipient_id" | "message" | "booking_id" | "client_message_id" => {
                let value = read_text(field, &name).await?;
                let slot = match name.as_str() {
                    "recipient_id" => &mut form.recipient_id,
                    "message" => &mut form.message,
                    "client_message_id" => &mut form.client_message_id,
                    _ => &mut form.booking_id,
                };
                if slot.replace(value).is_some() {
                    return Err(Problem::invalid_request(format!("{name} was sent twice.")));
                }
            }
            "file" => return Err(Problem::invalid_request("Only one file may be attached.")),
            _ => {
                return Err(Problem::invalid_request(
                    "Unexpected form field; expected recipient_id, message, booking_id, client_message_id and file.",
                ));
            }
        }
    }
    let client_id = client_message_id(&req, form.client_message_id.as_deref())?;
    let command = command(&form, client_id)?;
    let Some((file, mut spool)) = form.file else {
        return Err(ValidationError::Empty { field: "file" }.into());
    };
    let path = spool
        .finish()
        .await
        .map_err(|e| Problem::internal(&e))?
        .to_owned();
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| Problem::internal(&e))?;
    let sent = state
        .attachments
        .send_message_with_file(
            &state.messaging,
            &user.actor(),
            command,
            SpooledUpload { file, path, nonce },
        )
        .await?;
    // The spool file goes when `spool` is dropped, now that the storage has its copy.
    drop(spool);
    if sent.stored_now {
        state.scan_wakeup.notify_one();
    }
    Ok(HttpResponse::Created().json(MessageWithAttachmentResponse {
        message: MessageResponse::from(sent.view),
        attachment: sent.attachment.into(),
    }))
}

fn command(
    form: &Form,
    client_message_id: Option<ClientMessageId>,
) -> Result<SendCommand, Problem> {
    let recipient_id: i64 = form
        .recipient_id
        .as_deref()
        .ok_or(ValidationError::Empty {
            field: "recipient_id",
        })?
        .trim()
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ValidationError::OutOfRange {
            field: "recipient_id",
            min: 1,
            max: i64::MAX,
        })?;
    // The schema says `booking_id` may be null, and a browser's `FormData` sends a null as the
    // text `null`: both it and an empty field mean no booking.
    let booking_id = match form.booking_id.as_deref().map(str::trim) {
        None | Some("" | "null") => None,
        Some(raw) => Some(raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or(
            ValidationError::OutOfRange {
                field: "booking_id",
                min: 1,
                max: i64::MAX,
            },
        )?),
    };
    let body = MessageText::parse(form.message.as_deref().unwrap_or_default())?;
    Ok(SendCommand {
        recipient: RecipientRef::Id(UserId(recipient_id)),
        body,
        subject: None,
        booking_id: booking_id.map(BookingId),
        via: SendRoute::Direct,
        client_message_id,
    })
}

/// Streams the file part through the inspector into a spool file, stopping at the first chunk
/// that breaks a rule.
async fn receive_file(
    state: &AppState,
    mut field: Field,
) -> Result<(InspectedFile, Spool), Problem> {
    let claimed = field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .unwrap_or_default()
        .to_owned();
    let mut inspector = FileInspector::new(&claimed);
    let mut spool = Spool::create(&state.upload_dir)
        .await
        .map_err(|e| Problem::internal(&e))?;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        inspector.feed(&chunk)?;
        spool
            .write(&chunk)
            .await
            .map_err(|e| Problem::internal(&e))?;
    }
    Ok((inspector.finish()?, spool))
}

async fn read_text(mut field: Field, name: &str) -> Result<String, Problem> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(field_too_large(name));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| Problem::invalid_request(format!("{name} is not UTF-8 text.")))
}

fn malformed(err: MultipartError) -> Problem {
    match err {
        MultipartError::Payload(PayloadError::Overflow) => Problem::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "Request too large",
            format!("A request with an attachment may carry at most {MAX_REQUEST_BYTES} bytes."),
        )
        .with("max_bytes", MAX_REQUEST_BYTES),
        err => Problem::invalid_request(format!("The multipart body cannot be read: {err}")),
    }
}

fn not_multipart() -> Problem {
    Problem::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported media type",
        "Send the message and its file as multipart/form-data.",
    )
}

fn field_too_large(name: &str) -> Problem {
    Problem::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "Field too large",
        format!("{name} is too long."),
    )
}

/// What reading the form can answer besides the send's and the file's refusals.
#[derive(Debug)]
pub struct FormProblems;

impl crate::problem::doc::Documented for FormProblems {
    fn problems() -> Vec<Problem> {
        vec![
            not_multipart(),
            field_too_large("message"),
            Problem::invalid_request("Unexpected form field."),
        ]
    }
}
