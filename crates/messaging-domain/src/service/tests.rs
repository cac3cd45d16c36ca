//! Tests that hold for every use case of [`MessagingService`] at once, over the fake store of
//! `service::harness`: every write is audited with its actor and address, and blocked users
//! receive no events caused by each other.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;
use futures_executor::block_on;

use super::*;
use crate::message::DeleteScope;
use crate::service::harness::*;

// --- audit ---------------------------------------------------------------------------------------

#[test]
fn every_write_carries_the_actor_the_action_and_the_client_address() {
    let w = world()
        .assign(CLINICIAN, PATIENT)
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message(20, TUTOR, STUDENT, TimeDelta::minutes(1)));
    type Op = fn(&Harness);
    let cases: [(&str, UserId, AuditAction, Option<i64>, Op); 8] = [
        ("send", STUDENT, AuditAction::MessageSent, None, |h| {
            h.send(STUDENT, to(TUTOR, "hi")).unwrap();
        }),
        (
            "clinician route",
            CLINICIAN,
            AuditAction::ClinicianMessageSent,
            None,
            |h| {
                h.send(CLINICIAN, via_clinician_route(to(PATIENT, "hi")))
                    .unwrap();
            },
        ),
        ("reply", TUTOR, AuditAction::MessageReplied, None, |h| {
            h.reply(TUTOR, 10, "hi").unwrap();
        }),
        ("edit", STUDENT, AuditAction::MessageEdited, Some(10), |h| {
            h.edit(STUDENT, 10, "hi").unwrap();
        }),
        (
            "delete for me",
            TUTOR,
            AuditAction::MessageDeletedForMe,
            Some(10),
            |h| {
                h.delete(TUTOR, 10, DeleteScope::ForMe).unwrap();
            },
        ),
        (
            "delete for everyone",
            STUDENT,
            AuditAction::MessageDeletedForEveryone,
            Some(10),
            |h| {
                h.delete(STUDENT, 10, DeleteScope::ForEveryone).unwrap();
            },
        ),
        (
            "mark read",
            TUTOR,
            AuditAction::MessageRead,
            Some(10),
            |h| {
                h.mark_read(TUTOR, 10).unwrap();
            },
        ),
        (
            "mark thread read",
            STUDENT,
            AuditAction::ThreadRead,
            Some(TUTOR.0),
            |h| {
                block_on(h.service.mark_thread_read(&actor(STUDENT), TUTOR, None)).unwrap();
            },
        ),
    ];
    for (case, actor_id, action, object_id, op) in cases {
        let h = Harness::new(w.clone());
        op(&h);
        let audits: Vec<AuditRecord> = h
            .writes()
            .iter()
            .map(|w| w.audit().unwrap().clone())
            .collect();
        let object_type = if action == AuditAction::ThreadRead {
            "user"
        } else {
            "message"
        };
        let expected = AuditRecord {
            object_type,
            ..audit(actor_id, action, object_id)
        };
        check(case, audits, vec![expected]);
    }
}

#[test]
fn an_audit_record_has_no_client_address_when_the_server_saw_none() {
    let h = Harness::new(world());
    let anonymous_addr = Actor {
        user_id: STUDENT,
        client_addr: None,
    };
    block_on(h.service.send(&anonymous_addr, to(TUTOR, "hi"))).unwrap();
    check("client_addr", h.inserted().1.client_addr, None);
}

#[test]
fn blocked_users_receive_no_events_caused_by_each_other() {
    // The student sent a message, then one of the two blocked the other.
    for (case, blocker, blocked) in [
        ("tutor blocked student", TUTOR, STUDENT),
        ("student blocked tutor", STUDENT, TUTOR),
    ] {
        let w = world()
            .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
            .block(blocker, blocked);
        let h = Harness::new(w.clone());
        h.edit(STUDENT, 10, "changed").unwrap();
        let h2 = Harness::new(w.clone());
        h2.mark_read(TUTOR, 10).unwrap();
        let h3 = Harness::new(w);
        h3.delete(STUDENT, 10, DeleteScope::ForEveryone).unwrap();
        let audiences: Vec<Vec<UserId>> = [&h, &h2, &h3]
            .iter()
            .map(|h| h.deliveries().into_iter().map(|(u, _)| u).collect())
            .collect();
        check(
            case,
            audiences,
            vec![vec![STUDENT], Vec::new(), vec![STUDENT]],
        );
    }
    // Without a block both parties hear of the edit.
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    h.edit(STUDENT, 10, "changed").unwrap();
    let audience: Vec<UserId> = h.deliveries().into_iter().map(|(u, _)| u).collect();
    check("no block", audience, vec![TUTOR, STUDENT]);
}
