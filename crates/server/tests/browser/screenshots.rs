//! `cargo xtask screenshots`: a small demo world, then each main screen at desktop and phone width.

use std::path::Path;

use chrono::Utc;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::Credentials;
use messaging_domain::user::{BookingState, Role, UserId};
use serde_json::json;

use crate::harness::{Browser, Driver};
use crate::support::{PASSWORD, TestApp, TestUser};

async fn person(app: &TestApp, username: &str, first: &str, last: &str, role: Role) -> TestUser {
    let user = app
        .store
        .create_account(
            NewAccount {
                username: Username::parse(username).unwrap(),
                email: EmailAddress::parse(&format!("{username}@example.com")).unwrap(),
                password_hash: server::auth::hash_password(PASSWORD).unwrap(),
                first_name: first.into(),
                last_name: last.into(),
                role,
            },
            AuditRecord {
                actor: None,
                action: AuditAction::UserRegistered,
                object_type: "user",
                object_id: None,
                at: Utc::now(),
                client_addr: None,
            },
        )
        .await
        .unwrap();
    let tokens = app.login(username).await;
    TestUser {
        id: user.id.0,
        token: tokens["access_token"].as_str().unwrap().into(),
    }
}

async fn send(app: &TestApp, from: &TestUser, to: &TestUser, text: &str) {
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&from.token),
            json!({"recipient_id": to.id, "message": text}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn shoot(browser: &Browser, dir: &Path, name: &str) {
    // Let fonts, previews and focus settle.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    browser.screenshot(&dir.join(format!("{name}.png"))).await;
}

pub async fn take(app: &TestApp, driver: &mut Driver, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let alice = person(app, "alice", "Alice", "Martin", Role::Student).await;
    let tom = person(app, "tom", "Tom", "Baker", Role::Tutor).await;
    let sara = person(app, "sara", "Sara", "Okafor", Role::Tutor).await;
    let _admin = person(app, "admin", "Ada", "Admin", Role::Admin).await;
    app.store
        .create_booking(
            UserId(alice.id),
            UserId(tom.id),
            BookingState::Scheduled,
            Utc::now(),
        )
        .await
        .unwrap();
    app.store
        .create_booking(
            UserId(alice.id),
            UserId(sara.id),
            BookingState::Requested,
            Utc::now(),
        )
        .await
        .unwrap();
    send(
        app,
        &sara,
        &alice,
        "Hi Alice, I can do Thursdays after 4pm. Does that suit you?",
    )
    .await;
    send(
        app,
        &alice,
        &tom,
        "Hello Tom! Could we go over chapter 3 before the exam?",
    )
    .await;
    send(
        app,
        &tom,
        &alice,
        "Of course. Bring the exercises you found hardest.",
    )
    .await;
    send(
        app,
        &tom,
        &alice,
        "And the atlas, we will need it for the maps part.",
    )
    .await;
    send(app, &alice, &tom, "Great, see you on Tuesday at 5.").await;
    send(app, &tom, &alice, "Tuesday at 5 it is.\nI booked room B12.").await;

    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        let b = driver.browser(&app.base, width, height).await;
        b.open("/#/login").await;
        b.wait_until(
            "document.querySelector('#login-username')",
            "the login form",
        )
        .await;
        shoot(&b, dir, &format!("login-{suffix}")).await;

        b.log_in("alice", PASSWORD).await;
        b.wait_for_text(".thread-name", "Tom Baker").await;
        shoot(&b, dir, &format!("conversations-{suffix}")).await;

        b.open_conversation(tom.id).await;
        b.wait_for_text(".msg .body", "I booked room B12.").await;
        let compose = b.element("#compose").await;
        compose.send_keys("Perfect, thank you!").await.unwrap();
        shoot(&b, dir, &format!("conversation-{suffix}")).await;
        compose.clear().await.unwrap();

        b.open("/#/search?q=atlas").await;
        b.wait_for_text("#search-results mark", "atlas").await;
        shoot(&b, dir, &format!("search-{suffix}")).await;

        b.open("/#/new").await;
        b.wait_for_text("#people-results", "Tom").await;
        shoot(&b, dir, &format!("new-conversation-{suffix}")).await;

        b.open("/#/notifications").await;
        b.wait_until(
            "document.querySelector('#notification-list')",
            "notifications",
        )
        .await;
        shoot(&b, dir, &format!("notifications-{suffix}")).await;
        b.close().await;

        let a = driver.browser(&app.base, width, height).await;
        a.log_in("admin", PASSWORD).await;
        a.open("/#/admin").await;
        a.wait_for_text("#admin-users", "alice").await;
        shoot(&a, dir, &format!("admin-{suffix}")).await;
        a.close().await;
    }
}
