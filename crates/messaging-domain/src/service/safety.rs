//! Safety: blocking and unblocking another user, reporting a message, and the admins' list of
//! reports.

use thiserror::Error;

use super::actor::Actor;
use super::{MessageStore, MessagingService};
use crate::audit::AuditAction;
use crate::error::{StoreError, ValidationError};
use crate::message::{MessageId, MessageView, NewReport, Report};
use crate::ports::{Clock, EventPublisher};
use crate::text::Page;
use crate::user::{Role, UserId, UserSummary};

/// The longest report reason, in characters.
pub const MAX_REPORT_REASON_CHARS: usize = 1_000;

/// Why a block, unblock or report failed.
#[derive(Debug, Error)]
pub enum SafetyError {
    /// The user or message is unknown, or not visible to the actor.
    #[error("not found")]
    NotFound,
    /// A user cannot block themselves.
    #[error("you cannot block yourself")]
    SelfBlock,
    /// The report reason broke a rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Only admins may read reports.
    #[error("admins only")]
    NotAdmin,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A report with what admins need to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportView {
    /// The report.
    pub report: Report,
    /// Who reported it.
    pub reporter: Option<UserSummary>,
    /// The reported message with its parties, if it still exists.
    pub message: Option<MessageView>,
}

impl<S, E, C> MessagingService<S, E, C>
where
    S: MessageStore,
    E: EventPublisher,
    C: Clock,
{
    /// Blocks (`on = true`) or unblocks another user. Blocks stop messages both ways.
    ///
    /// # Errors
    /// [`SafetyError::NotFound`] for an unknown user, [`SafetyError::SelfBlock`] for oneself.
    pub async fn set_block(
        &self,
        actor: &Actor,
        other: UserId,
        on: bool,
    ) -> Result<bool, SafetyError> {
        if other == actor.user_id {
            return Err(SafetyError::SelfBlock);
        }
        // Only someone the actor has a conversation with (or already blocked) can be blocked:
        // anyone else looks like nobody, so the route cannot tell who exists.
        let known = !self
            .store
            .conversations_between(actor.user_id, other)
            .await?
            .is_empty()
            || self
                .store
                .blocks_between(actor.user_id, other)
                .await?
                .first_blocked_second;
        if !known || self.store.user(other).await?.is_none() {
            return Err(SafetyError::NotFound);
        }
        let action = if on {
            AuditAction::UserBlocked
        } else {
            AuditAction::UserUnblocked
        };
        let audit = self.audit(actor, action, "user", Some(other.0), self.clock.now());
        Ok(self
            .store
            .set_block(actor.user_id, other, on, audit)
            .await?)
    }

    /// Reports a message the actor can see to the admins.
    ///
    /// # Errors
    /// [`SafetyError::NotFound`] when the message is not visible to the actor;
    /// [`SafetyError::Validation`] for an empty or overlong reason.
    pub async fn report(
        &self,
        actor: &Actor,
        message: MessageId,
        reason: &str,
    ) -> Result<Report, SafetyError> {
        let reason = crate::text::clean_multiline(reason);
        if reason.is_empty() {
            return Err(ValidationError::Empty { field: "reason" }.into());
        }
        if reason.chars().count() > MAX_REPORT_REASON_CHARS {
            return Err(ValidationError::TooLong {
                field: "reason",
                max: MAX_REPORT_REASON_CHARS,
            }
            .into());
        }
        self.store
            .message(message)
            .await?
            .filter(|m| m.is_visible_to(actor.user_id))
            .ok_or(SafetyError::NotFound)?;
        let now = self.clock.now();
        let audit = self.audit(
            actor,
            AuditAction::MessageReported,
            "message",
            Some(message.0),
            now,
        );
        Ok(self
            .store
            .insert_report(
                NewReport {
                    reporter_id: actor.user_id,
                    message_id: message,
                    reason,
                    created_at: now,
                },
                audit,
            )
            .await?)
    }

    /// Reports for admins, newest first, with the reported message and the reporter.
    ///
    /// # Errors
    /// [`SafetyError::NotAdmin`] unless the actor is an active admin.
    pub async fn reports(&self, actor: &Actor, page: Page) -> Result<Vec<ReportView>, SafetyError> {
        let admin = self.active_user(actor.user_id).await?;
        if !admin.is_some_and(|u| u.role == Role::Admin) {
            return Err(SafetyError::NotAdmin);
        }
        let reports = self.store.reports(page).await?;
        let mut views = Vec::with_capacity(reports.len());
        for report in reports {
            let message = match self.store.message(report.message_id).await? {
                Some(m) => self.views(vec![m]).await?.into_iter().next(),
                None => None,
            };
            let reporter = self
                .store
                .user(report.reporter_id)
                .await?
                .map(|u| u.summary());
            views.push(ReportView {
                report,
                reporter,
                message,
            });
        }
        Ok(views)
    }
}
