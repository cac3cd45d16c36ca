//! The answers of the messaging use cases: send (and the contact rules), edit, delete, receipts,
//! typing and presence, blocks and reports.

use actix_web::http::StatusCode;
use messaging_domain::ValidationError;
use messaging_domain::contact::ContactRefusal;
use messaging_domain::message::EditRefusal;
use messaging_domain::{DeleteError, EditError, LiveError, ReadError, SafetyError, SendError};

use super::Problem;
use super::admin::admin_only;
use super::doc::Documented;

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

impl Documented for ContactRefusal {
    fn problems() -> Vec<Problem> {
        let all = [
            ContactRefusal::RecipientUnavailable,
            ContactRefusal::RecipientBlockedBySender,
            ContactRefusal::NotAssigned,
            ContactRefusal::PatientCannotInitiate,
        ];
        // A new variant must be listed above: this match stops compiling until it is handled.
        for refusal in &all {
            match refusal {
                ContactRefusal::RecipientUnavailable
                | ContactRefusal::RecipientBlockedBySender
                | ContactRefusal::NotAssigned
                | ContactRefusal::PatientCannotInitiate => {}
            }
        }
        all.into_iter().map(Problem::from).collect()
    }
}

impl Documented for SendError {
    fn problems() -> Vec<Problem> {
        let mut all: Vec<Problem> = [
            SendError::SenderInactive,
            SendError::BookingNotFound,
            SendError::ParentNotFound,
            SendError::ClientIdReused,
            SendError::NotClinician,
        ]
        .into_iter()
        .map(|e| match e {
            SendError::SenderInactive
            | SendError::BookingNotFound
            | SendError::ParentNotFound
            | SendError::ClientIdReused
            | SendError::NotClinician
            | SendError::Validation(_)
            | SendError::Contact(_)
            | SendError::Store(_) => Problem::from(e),
        })
        .collect();
        all.extend(ValidationError::problems());
        all.extend(ContactRefusal::problems());
        all
    }
}

impl Documented for EditError {
    fn problems() -> Vec<Problem> {
        let mut all: Vec<Problem> = [
            EditError::NotFound,
            EditError::Refused(EditRefusal::NotSender),
        ]
        .into_iter()
        .map(|e| match e {
            EditError::NotFound
            | EditError::Refused(_)
            | EditError::Validation(_)
            | EditError::Store(_) => Problem::from(e),
        })
        .collect();
        all.push(EditError::Refused(EditRefusal::WindowExpired { minutes: 15 }).into());
        all.extend(ValidationError::problems());
        all
    }
}

impl Documented for DeleteError {
    fn problems() -> Vec<Problem> {
        [DeleteError::NotFound, DeleteError::NotSender]
            .into_iter()
            .map(|e| match e {
                DeleteError::NotFound | DeleteError::NotSender | DeleteError::Store(_) => {
                    Problem::from(e)
                }
            })
            .collect()
    }
}

impl Documented for LiveError {
    fn problems() -> Vec<Problem> {
        [LiveError::NotFound]
            .into_iter()
            .map(|e| match e {
                LiveError::NotFound | LiveError::Store(_) => Problem::from(e),
            })
            .collect()
    }
}

impl Documented for ReadError {
    fn problems() -> Vec<Problem> {
        [ReadError::NotFound]
            .into_iter()
            .map(|e| match e {
                ReadError::NotFound | ReadError::Store(_) => Problem::from(e),
            })
            .collect()
    }
}

impl Documented for SafetyError {
    fn problems() -> Vec<Problem> {
        let mut all: Vec<Problem> = [
            SafetyError::NotFound,
            SafetyError::SelfBlock,
            SafetyError::NotAdmin,
        ]
        .into_iter()
        .map(|e| match e {
            SafetyError::NotFound
            | SafetyError::SelfBlock
            | SafetyError::NotAdmin
            | SafetyError::Validation(_)
            | SafetyError::Store(_) => Problem::from(e),
        })
        .collect();
        all.extend(ValidationError::problems());
        all
    }
}
