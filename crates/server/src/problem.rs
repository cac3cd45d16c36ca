//! RFC 9457 problem responses with stable machine-readable codes, and the mapping of every domain
//! error to one. A server fault is logged with its cause and answered with a generic body.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use messaging_domain::AdminError;
use messaging_domain::StoreError;
use messaging_domain::Unique;
use messaging_domain::ValidationError;
use messaging_domain::contact::ContactRefusal;
use messaging_domain::message::EditRefusal;
use messaging_domain::ports::HashError;
use messaging_domain::service::accounts::{
    AuthError, LoginError, PasswordChangeError, RefreshError, RegisterError,
};
use messaging_domain::{DeleteError, EditError, LiveError, ReadError, SafetyError, SendError};
use serde_json::{Map, Value, json};

pub mod doc;

/// A problem response.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    extra: Map<String, Value>,
    /// Whole seconds for the `Retry-After` header, set only through [`Problem::with_retry_after`]
    /// so that the header and the body member always agree.
    retry_after: Option<u64>,
}

impl Problem {
    /// A problem with a status, a stable code, a short title and a human-readable detail.
    #[must_use]
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    /// Tells the client when to try again: a `Retry-After` header and a `retry_after` member,
    /// both in whole seconds.
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self.with("retry_after", seconds)
    }

    /// Adds a member to the body.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// The stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// A server fault: the cause goes to the log, the client gets a generic body.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %error_chain(cause), "request failed with a server fault");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Internal server error",
            "The server failed to handle this request.",
        )
    }

    /// 503 while the database cannot be reached, with `Retry-After`.
    #[must_use]
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "DATABASE_UNAVAILABLE",
            "Service unavailable",
            "The database cannot be reached right now; try again shortly.",
        )
        .with_retry_after(5)
    }

    /// 401 for a missing or unusable access token.
    #[must_use]
    pub fn unauthenticated(detail: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Authentication required",
            detail,
        )
    }

    /// 400 for a request that could not be read at all.
    #[must_use]
    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Invalid request",
            detail,
        )
    }

    /// What System B's routes answer for this problem, in System B's statuses with the same
    /// codes: a validation failure is 400 (its error table), and a recipient who cannot be
    /// written to is 404, as an unknown one was in System B (for every such recipient alike,
    /// so that accounts still cannot be told apart).
    #[must_use]
    pub fn for_system_b(mut self) -> Self {
        match (self.status, self.code) {
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED") => {
                self.status = StatusCode::BAD_REQUEST;
            }
            (StatusCode::BAD_REQUEST, "RECIPIENT_UNAVAILABLE") => {
                self.status = StatusCode::NOT_FOUND;
            }
            _ => {}
        }
        self
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// 405 for a method the path does not have; `allow` lists the ones it has.
    #[must_use]
    pub fn method_not_allowed(allow: String) -> Self {
        // The `allow` member is also the `Allow` header (see `error_response`).
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "Method not allowed",
            format!("This path answers {allow} only."),
        )
        .with("allow", allow)
    }

    /// The answer to a request no route took, or whose path parameters name nothing: 405 when
    /// the path exists with other methods (TRACE included), else 404.
    #[must_use]
    pub fn no_route(req: &actix_web::HttpRequest) -> Self {
        let allowed = req
            .app_data::<actix_web::web::Data<crate::openapi::MethodTable>>()
            .and_then(|table| table.allowed(req.path()));
        match allowed {
            Some(allow) if !allow.split(", ").any(|m| m == req.method().as_str()) => {
                Self::method_not_allowed(allow)
            }
            _ => Self::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Not found",
                "No such resource",
            ),
        }
    }

    /// 404 for a message the caller cannot see.
    #[must_use]
    pub fn message_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "MESSAGE_NOT_FOUND",
            "Not found",
            "Message not found",
        )
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            json!(format!(
                "urn:messaging:problem:{}",
                self.code.to_lowercase().replace('_', "-")
            )),
        );
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("detail".into(), json!(self.detail));
        body.insert("code".into(), json!(self.code));
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if self.status == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self
                .extra
                .get("allow")
                .and_then(Value::as_str)
                .and_then(|a| HeaderValue::from_str(a).ok())
        {
            response.insert_header((header::ALLOW, allow));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.body(Value::Object(body).to_string())
    }
}

/// Logs a background task's store failure at warning level, unless the database is simply out of
/// reach: the store logs that once per outage, and a task retrying every few seconds would
/// otherwise log it again each time.
pub fn warn_unless_outage(err: &StoreError, message: &'static str) {
    if !matches!(err, StoreError::Unavailable(_)) {
        tracing::warn!(error = %error_chain(err), "{message}");
    }
}

/// An error and all its causes on one line, for the logs.
#[must_use]
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<ValidationError> for Problem {
    fn from(err: ValidationError) -> Self {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "Validation failed",
            err.to_string(),
        )
        .with("field", err.field())
    }
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        match err {
            // The store logs an outage once when it begins; each request only says try later.
            StoreError::Unavailable(_) => Problem::unavailable(),
            // What the request named is gone (removed between the use case's check and its write).
            StoreError::NotFound => Problem::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Not found",
                "No such resource",
            ),
            StoreError::Duplicate(rule) => Problem::new(
                StatusCode::CONFLICT,
                duplicate_code(rule),
                "Conflict",
                format!("Another record already has this {rule}"),
            ),
            StoreError::Backend(_) => Problem::internal(&err),
        }
    }
}

/// The stable code of a broken uniqueness rule.
fn duplicate_code(rule: Unique) -> &'static str {
    match rule {
        Unique::ClientMessageId => "DUPLICATE_CLIENT_MESSAGE_ID",
        Unique::Username => "DUPLICATE_USERNAME",
        Unique::Email => "DUPLICATE_EMAIL",
        Unique::StorageKey => "DUPLICATE_STORAGE_KEY",
    }
}

impl From<crate::passwords::HashingError> for Problem {
    fn from(err: crate::passwords::HashingError) -> Self {
        use crate::passwords::HashingError;
        match err {
            // The queue drains at tens of hashes a second per thread: a second is plenty.
            HashingError::Busy => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_BUSY",
                "Server busy",
                "Too many password checks are waiting; try again shortly.",
            )
            .with_retry_after(1),
            HashingError::Stopped | HashingError::Failed(_) => Problem::internal(&err),
        }
    }
}

impl From<ContactRefusal> for Problem {
    fn from(err: ContactRefusal) -> Self {
        let detail = err.to_string();
        match err {
            ContactRefusal::RecipientUnavailable => Problem::new(
                StatusCode::BAD_REQUEST,
                "RECIPIENT_UNAVAILABLE",
                "Recipient unavailable",
                detail,
            ),
            ContactRefusal::RecipientBlockedBySender => Problem::new(
                StatusCode::FORBIDDEN,
                "RECIPIENT_BLOCKED",
                "Recipient blocked",
                detail,
            ),
            ContactRefusal::NotAssigned => Problem::new(
                StatusCode::FORBIDDEN,
                "NOT_ASSIGNED",
                "Not assigned",
                detail,
            ),
            ContactRefusal::PatientCannotInitiate => Problem::new(
                StatusCode::FORBIDDEN,
                "PATIENT_CANNOT_INITIATE",
                "Conversation not allowed",
                detail,
            ),
        }
    }
}

impl From<SendError> for Problem {
    fn from(err: SendError) -> Self {
        match err {
            SendError::SenderInactive => Problem::new(
                StatusCode::FORBIDDEN,
                "ACCOUNT_INACTIVE",
                "Account inactive",
                "Your account is not active.",
            ),
            SendError::Validation(e) => e.into(),
            SendError::Contact(e) => e.into(),
            SendError::BookingNotFound => Problem::new(
                StatusCode::NOT_FOUND,
                "BOOKING_NOT_FOUND",
                "Not found",
                "Booking not found",
            ),
            SendError::ParentNotFound => Problem::message_not_found(),
            SendError::ClientIdReused => Problem::new(
                StatusCode::CONFLICT,
                "IDEMPOTENCY_KEY_REUSED",
                "Idempotency key reused",
                "This Idempotency-Key or client_message_id was already used for another message",
            ),
            SendError::NotClinician => Problem::new(
                StatusCode::FORBIDDEN,
                "CLINICIAN_ONLY",
                "Forbidden",
                "Only clinicians can use this route",
            ),
            SendError::Store(e) => e.into(),
        }
    }
}

impl From<EditError> for Problem {
    fn from(err: EditError) -> Self {
        match err {
            EditError::NotFound => Problem::message_not_found(),
            EditError::Refused(EditRefusal::NotSender) => Problem::new(
                StatusCode::FORBIDDEN,
                "NOT_SENDER",
                "Forbidden",
                "Only the sender can edit a message",
            ),
            EditError::Refused(refusal @ EditRefusal::WindowExpired { .. }) => Problem::new(
                StatusCode::FORBIDDEN,
                "EDIT_WINDOW_EXPIRED",
                "Edit window expired",
                refusal.to_string(),
            ),
            EditError::Validation(e) => e.into(),
            EditError::Store(e) => e.into(),
        }
    }
}

impl From<DeleteError> for Problem {
    fn from(err: DeleteError) -> Self {
        match err {
            DeleteError::NotFound => Problem::message_not_found(),
            DeleteError::NotSender => Problem::new(
                StatusCode::FORBIDDEN,
                "NOT_SENDER",
                "Forbidden",
                "Only the sender can delete a message for everyone",
            ),
            DeleteError::Store(e) => e.into(),
        }
    }
}

impl From<LiveError> for Problem {
    fn from(err: LiveError) -> Self {
        match err {
            LiveError::NotFound => Problem::new(
                StatusCode::NOT_FOUND,
                "USER_NOT_FOUND",
                "Not found",
                "No conversation with that user",
            ),
            LiveError::Store(e) => e.into(),
        }
    }
}

impl From<ReadError> for Problem {
    fn from(err: ReadError) -> Self {
        match err {
            ReadError::NotFound => Problem::message_not_found(),
            ReadError::Store(e) => e.into(),
        }
    }
}

fn admin_only() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "ADMIN_ONLY",
        "Forbidden",
        "Only admins can do this",
    )
}

impl From<SafetyError> for Problem {
    fn from(err: SafetyError) -> Self {
        match err {
            SafetyError::NotFound => Problem::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Not found",
                "No such user or message",
            ),
            // 409 like `SELF_CHANGE`: the request is well formed, the target is the caller.
            SafetyError::SelfBlock => Problem::new(
                StatusCode::CONFLICT,
                "CANNOT_BLOCK_SELF",
                "Cannot block yourself",
                "You cannot block yourself",
            ),
            SafetyError::Validation(e) => e.into(),
            SafetyError::NotAdmin => admin_only(),
            SafetyError::Store(e) => e.into(),
        }
    }
}

impl From<AdminError> for Problem {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::NotAdmin => admin_only(),
            AdminError::NotFound => Problem::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Not found",
                "No such user or booking",
            ),
            // 409: the request is well formed; the users' current roles or state refuse it.
            AdminError::WrongRoles(detail) => {
                Problem::new(StatusCode::CONFLICT, "WRONG_ROLES", "Wrong roles", detail)
            }
            AdminError::SelfChange => Problem::new(
                StatusCode::CONFLICT,
                "SELF_CHANGE",
                "Not allowed on yourself",
                "Admins cannot deactivate or demote themselves",
            ),
            AdminError::Store(e) => e.into(),
        }
    }
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthenticated => {
                Problem::unauthenticated("The credentials are not valid (any more)")
            }
            AuthError::AccountInactive => Problem::new(
                StatusCode::UNAUTHORIZED,
                "ACCOUNT_INACTIVE",
                "Account inactive",
                "This account is deactivated; its credentials no longer work",
            ),
            AuthError::SessionExpired => Problem::new(
                StatusCode::UNAUTHORIZED,
                "SESSION_EXPIRED",
                "Session expired",
                "The session expired; log in again",
            ),
            AuthError::Store(e) => e.into(),
        }
    }
}

impl From<HashError> for Problem {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_BUSY",
                "Server busy",
                "Too many password checks are waiting; try again shortly",
            )
            .with_retry_after(1),
            HashError::Failed(_) => Problem::internal(&err),
        }
    }
}

fn invalid_credentials() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
        "Invalid credentials",
        "Incorrect username or password",
    )
}

impl From<LoginError> for Problem {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::InvalidCredentials => invalid_credentials(),
            LoginError::Hashing(e) => e.into(),
            LoginError::Store(e) => e.into(),
        }
    }
}

impl From<RegisterError> for Problem {
    fn from(err: RegisterError) -> Self {
        match err {
            RegisterError::Exists => Problem::new(
                StatusCode::CONFLICT,
                "ACCOUNT_EXISTS",
                "Account exists",
                "An account with this username or email already exists",
            ),
            RegisterError::Hashing(e) => e.into(),
            RegisterError::Store(e) => e.into(),
        }
    }
}

impl From<RefreshError> for Problem {
    fn from(err: RefreshError) -> Self {
        match err {
            RefreshError::Invalid => Problem::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_REFRESH_TOKEN",
                "Invalid refresh token",
                "The refresh token is not valid",
            ),
            RefreshError::Reused => Problem::new(
                StatusCode::UNAUTHORIZED,
                "REFRESH_TOKEN_REUSED",
                "Refresh token reused",
                "This refresh token was already used; every session from that login is revoked",
            ),
            RefreshError::Store(e) => e.into(),
        }
    }
}

impl From<PasswordChangeError> for Problem {
    fn from(err: PasswordChangeError) -> Self {
        match err {
            PasswordChangeError::WrongPassword => Problem::new(
                StatusCode::FORBIDDEN,
                "WRONG_PASSWORD",
                "Wrong password",
                "The current password is not correct",
            ),
            PasswordChangeError::Auth(e) => e.into(),
            PasswordChangeError::Hashing(e) => e.into(),
            PasswordChangeError::Store(e) => e.into(),
        }
    }
}

/// Turns actix's extractor failures (bad JSON, wrong content type, bad query) into problems.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> Problem {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::ContentType => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Unsupported media type",
            "The request body must be application/json",
        ),
        E::Overflow { .. } | E::OverflowKnownLength { .. } => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "Payload too large",
            "The request body is too large",
        ),
        E::Deserialize(e) => Problem::invalid_request(format!("Invalid JSON body: {e}")),
        other => Problem::invalid_request(format!("Unreadable body: {other}")),
    }
}

/// What a JSON body extractor can answer (documented for every route that takes one).
#[must_use]
pub fn json_body_problems() -> Vec<Problem> {
    use actix_web::error::JsonPayloadError as E;
    let mut all = vec![
        json_error(E::ContentType),
        json_error(E::Overflow { limit: 0 }),
    ];
    if let Err(err) = serde_json::from_str::<()>("{") {
        all.push(json_error(E::Deserialize(err)));
    }
    all
}

/// Turns a query-string parse failure into a problem.
pub fn query_error(err: actix_web::error::QueryPayloadError) -> Problem {
    Problem::invalid_request(format!("Invalid query parameters: {err}"))
}

/// Turns a path parse failure (`/api/messages/abc`) into a 404: no such resource; or into a 405
/// when another route has that path (`PATCH /api/messages/inbox` reaches the edit route).
pub fn path_error(_err: actix_web::error::PathError, req: &actix_web::HttpRequest) -> Problem {
    Problem::no_route(req)
}

impl From<messaging_domain::attachment::FileRefusal> for Problem {
    fn from(err: messaging_domain::attachment::FileRefusal) -> Self {
        use messaging_domain::attachment::FileRefusal;
        let detail = err.to_string();
        match err {
            FileRefusal::Empty => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "EMPTY_FILE",
                "Empty file",
                detail,
            ),
            FileRefusal::TooLarge { max_bytes } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "FILE_TOO_LARGE",
                "File too large",
                detail,
            )
            .with("max_bytes", max_bytes),
            FileRefusal::UnsupportedType => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_FILE_TYPE",
                "File type not allowed",
                "Allowed: JPEG, PNG, GIF, WebP, PDF, DOC, DOCX, TXT, CSV; the type is read from the \
                 file's contents.",
            ),
            FileRefusal::TooManyPixels { max_pixels } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IMAGE_DIMENSIONS_TOO_LARGE",
                "Image too large",
                detail,
            )
            .with("max_pixels", max_pixels),
            FileRefusal::UnreadableImage => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UNREADABLE_IMAGE",
                "Unreadable image",
                detail,
            ),
        }
    }
}

impl From<messaging_domain::DownloadError> for Problem {
    fn from(err: messaging_domain::DownloadError) -> Self {
        use messaging_domain::DownloadError;
        use messaging_domain::attachment::DownloadRefusal;
        match err {
            DownloadError::Refused(refusal) => {
                let detail = refusal.to_string();
                match refusal {
                    DownloadRefusal::NotFound => Problem::new(
                        StatusCode::NOT_FOUND,
                        "ATTACHMENT_NOT_FOUND",
                        "Not found",
                        detail,
                    ),
                    DownloadRefusal::Infected => Problem::new(
                        StatusCode::FORBIDDEN,
                        "ATTACHMENT_INFECTED",
                        "File blocked",
                        detail,
                    ),
                    DownloadRefusal::ScanPending => Problem::new(
                        StatusCode::CONFLICT,
                        "ATTACHMENT_SCAN_PENDING",
                        "Scan pending",
                        detail,
                    ),
                }
            }
            DownloadError::Store(err) => err.into(),
        }
    }
}

impl From<messaging_files::LinkError> for Problem {
    fn from(err: messaging_files::LinkError) -> Self {
        use messaging_files::LinkError;
        let detail = err.to_string();
        match err {
            LinkError::Invalid => Problem::new(
                StatusCode::FORBIDDEN,
                "DOWNLOAD_LINK_INVALID",
                "Invalid link",
                detail,
            ),
            LinkError::Expired => Problem::new(
                StatusCode::FORBIDDEN,
                "DOWNLOAD_LINK_EXPIRED",
                "Link expired",
                detail,
            ),
        }
    }
}
