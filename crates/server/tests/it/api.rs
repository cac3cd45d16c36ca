//! What a client of the HTTP API notices.

use chrono::Utc;
use messaging_domain::user::{BookingState, Role, UserId};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

fn bodies(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn the_readme_walkthrough_works_end_to_end(app: &TestApp) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let sent = app
        .send(&alice, &bob, "Hi Bob!\nShall we meet on Tuesday?")
        .await;
    assert_eq!(
        sent["message"], "Hi Bob!\nShall we meet on Tuesday?",
        "line breaks are kept"
    );
    assert_eq!(sent["is_read"], false);
    let id = sent["id"].as_i64().unwrap();

    let (status, threads) = app.get("/api/messages/threads", Some(&bob.token)).await;
    assert_eq!(status, 200);
    assert_eq!(threads[0]["other_user_id"], alice.id);
    assert_eq!(threads[0]["unread_count"], 1);
    let (_, unread) = app
        .get("/api/messages/unread-count", Some(&bob.token))
        .await;
    assert_eq!(
        unread,
        json!({"total": 1, "by_sender": {alice.id.to_string(): 1}})
    );

    let (status, read) = app
        .patch(&format!("/api/messages/{id}/read"), &bob.token, None)
        .await;
    assert_eq!((status, &read["is_read"]), (200, &json!(true)));

    let (status, edited) = app
        .patch(
            &format!("/api/messages/{id}"),
            &alice.token,
            Some(json!({"message": "Hi Bob! Tuesday at 10:30?"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["is_edited"], true);

    let (status, history) = app
        .get(
            &format!("/api/messages/threads/{}", alice.id),
            Some(&bob.token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bodies(&history["messages"]), ["Hi Bob! Tuesday at 10:30?"]);

    let (status, found) = app
        .get("/api/messages/search?q=tuesday", Some(&bob.token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (found["total"].as_i64(), found["total_pages"].as_i64()),
        (Some(1), Some(1))
    );

    let (status, _) = app.delete(&format!("/api/messages/{id}"), &bob.token).await;
    assert_eq!(status, 204);
    let (_, history) = app
        .get(
            &format!("/api/messages/threads/{}", alice.id),
            Some(&bob.token),
        )
        .await;
    assert!(history["messages"].as_array().unwrap().is_empty());
    let (_, threads) = app.get("/api/messages/threads", Some(&bob.token)).await;
    assert!(threads.as_array().unwrap().is_empty(), "{threads}");
}

pub async fn contact_details_are_masked_until_the_pair_shares_a_booking(app: &TestApp) {
    let student = app.register("sally").await;
    let tutor = app.user_with_role("terry", Role::Tutor).await;
    let text = "mail me at john@example.com or call 555-1234, see https://evil.example/x";
    let masked = app.send(&student, &tutor, text).await;
    assert_eq!(
        masked["message"],
        "mail me at j***@e***.com or call ***-****, see [external link removed]"
    );
    // A requested booking does not count; a scheduled one does.
    let booking = app
        .store
        .create_booking(
            UserId(student.id),
            UserId(tutor.id),
            BookingState::Requested,
            Utc::now(),
        )
        .await
        .unwrap();
    assert_ne!(app.send(&student, &tutor, text).await["message"], text);
    app.store
        .set_booking_state(booking.id, BookingState::Scheduled)
        .await
        .unwrap();
    assert_eq!(app.send(&student, &tutor, text).await["message"], text);
}

pub async fn a_booking_of_another_pair_is_refused_and_unmasks_nothing(app: &TestApp) {
    let mallory = app.register("mallory").await;
    let victim = app.user_with_role("victor", Role::Tutor).await;
    let other = app.register("olga").await;
    // A real, active booking, but between Olga and Victor: Mallory quotes its id (System A let
    // any booking id unmask contact details).
    let foreign = app
        .store
        .create_booking(
            UserId(other.id),
            UserId(victim.id),
            BookingState::Active,
            Utc::now(),
        )
        .await
        .unwrap();
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&mallory.token),
            json!({"recipient_id": victim.id, "message": "my number is +44 20 7946 0958", "booking_id": foreign.id.0}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("BOOKING_NOT_FOUND")),
        "{body}"
    );
    let (_, threads) = app.get("/api/messages/threads", Some(&victim.token)).await;
    assert!(threads.as_array().unwrap().is_empty(), "nothing was stored");
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&mallory.token),
            json!({"recipient_id": victim.id, "message": "my number is +44 20 7946 0958", "booking_id": 987_654}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("BOOKING_NOT_FOUND"))
    );
}

pub async fn file_names_prices_and_times_survive_masking(app: &TestApp) {
    let a = app.register("fiona").await;
    let b = app.user_with_role("felix", Role::Tutor).await;
    let text = "I sent notes.pdf and homework.docx; it costs $45.50, lesson at 10:30 on 2025-10-21, \
                order 1234567, stand in line, good signal, version 2.0.1";
    assert_eq!(app.send(&a, &b, text).await["message"], text);
}

pub async fn no_response_carries_an_email_address(app: &TestApp) {
    let a = app.register("quinn").await;
    let b = app.register("quincy").await;
    let sent = app.send(&a, &b, "searchable hello").await;
    let (_, threads) = app.get("/api/messages/threads", Some(&b.token)).await;
    let (_, history) = app
        .get(&format!("/api/messages/threads/{}", a.id), Some(&b.token))
        .await;
    let (_, found) = app
        .get("/api/messages/search?q=searchable", Some(&b.token))
        .await;
    let (_, read) = app
        .patch(
            &format!("/api/messages/{}/read", sent["id"]),
            &b.token,
            None,
        )
        .await;
    for body in [&sent, &threads, &history, &found, &read] {
        let text = body.to_string();
        assert!(!text.contains("@example.com"), "email leaked: {text}");
        assert!(!text.contains("email"), "email field present: {text}");
    }
}

pub async fn history_shows_the_newest_page_first(app: &TestApp) {
    let a = app.register("henry").await;
    let b = app.register("harriet").await;
    for i in 1..=5 {
        app.send(&a, &b, &format!("n{i}")).await;
    }
    let (_, page1) = app
        .get(
            &format!("/api/messages/threads/{}?page_size=2", a.id),
            Some(&b.token),
        )
        .await;
    assert_eq!(bodies(&page1["messages"]), ["n4", "n5"]);
    assert_eq!(page1["has_more"], true);
    let before = page1["next_before"].as_i64().unwrap();
    let (_, page2) = app
        .get(
            &format!("/api/messages/threads/{}?page_size=2&before={before}", a.id),
            Some(&b.token),
        )
        .await;
    assert_eq!(bodies(&page2["messages"]), ["n2", "n3"]);
    let (_, page3) = app
        .get(
            &format!("/api/messages/threads/{}?page_size=2&page=3", a.id),
            Some(&b.token),
        )
        .await;
    assert_eq!(bodies(&page3["messages"]), ["n1"]);
    assert_eq!(page3["has_more"], false);
}

pub async fn delete_for_me_hides_the_message_only_from_the_deleter_in_every_listing(app: &TestApp) {
    let a = app.register("ingrid").await;
    let b = app.register("isaac").await;
    app.send(&a, &b, "keep this budget").await;
    let gone = app.send(&a, &b, "forget this budget").await;
    let (status, _) = app
        .delete(&format!("/api/messages/{}", gone["id"]), &b.token)
        .await;
    assert_eq!(status, 204);
    let (_, mine) = app
        .get(&format!("/api/messages/threads/{}", a.id), Some(&b.token))
        .await;
    assert_eq!(bodies(&mine["messages"]), ["keep this budget"]);
    let (_, found) = app
        .get("/api/messages/search?q=budget", Some(&b.token))
        .await;
    assert_eq!(bodies(&found["messages"]), ["keep this budget"]);
    let (_, threads) = app.get("/api/messages/threads", Some(&b.token)).await;
    assert_eq!(threads[0]["last_message"], "keep this budget");
    assert_eq!(threads[0]["unread_count"], 1);
    // The sender still has both.
    let (_, theirs) = app
        .get(&format!("/api/messages/threads/{}", b.id), Some(&a.token))
        .await;
    assert_eq!(
        bodies(&theirs["messages"]),
        ["keep this budget", "forget this budget"]
    );
    let (_, found) = app
        .get("/api/messages/search?q=budget", Some(&a.token))
        .await;
    assert_eq!(found["total"], 2);
    // Deleting again is a 404: the message is gone for this user.
    let (status, body) = app
        .delete(&format!("/api/messages/{}", gone["id"]), &b.token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("MESSAGE_NOT_FOUND"))
    );
}

pub async fn delete_for_everyone_is_the_senders_alone(app: &TestApp) {
    let a = app.register("jack").await;
    let b = app.register("jill").await;
    let m = app.send(&a, &b, "wrong chat").await;
    let path = format!("/api/messages/{}?scope=everyone", m["id"]);
    let (status, body) = app.delete(&path, &b.token).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("NOT_SENDER")));
    let (status, _) = app.delete(&path, &a.token).await;
    assert_eq!(status, 204);
    for (user, other) in [(&a, &b), (&b, &a)] {
        let (_, h) = app
            .get(
                &format!("/api/messages/threads/{}", other.id),
                Some(&user.token),
            )
            .await;
        assert!(h["messages"].as_array().unwrap().is_empty());
    }
    let (_, unread) = app.get("/api/messages/unread-count", Some(&b.token)).await;
    assert_eq!(unread["total"], 0);
}

pub async fn unknown_inactive_and_self_recipients_get_one_identical_error(app: &TestApp) {
    let a = app.register("kate").await;
    let inactive = app.register("kevin").await;
    app.store
        .set_user_active(UserId(inactive.id), false)
        .await
        .unwrap();
    let mut answers = Vec::new();
    for recipient in [999_999, inactive.id, a.id] {
        let (status, body) = app
            .post(
                "/api/messages",
                Some(&a.token),
                json!({"recipient_id": recipient, "message": "hello"}),
            )
            .await;
        answers.push((status, body["code"].clone(), body["detail"].clone()));
    }
    assert_eq!(
        answers[0],
        (
            400,
            json!("RECIPIENT_UNAVAILABLE"),
            json!("Cannot send message to this recipient")
        )
    );
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
}

pub async fn only_the_recipient_can_mark_a_message_read(app: &TestApp) {
    let a = app.register("liam").await;
    let b = app.register("lily").await;
    let stranger = app.register("lars").await;
    let m = app.send(&a, &b, "read receipts").await;
    let path = format!("/api/messages/{}/read", m["id"]);
    for token in [&a.token, &stranger.token] {
        let (status, body) = app.patch(&path, token, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("MESSAGE_NOT_FOUND"))
        );
    }
    let (_, first) = app.patch(&path, &b.token, None).await;
    let (_, second) = app.patch(&path, &b.token, None).await;
    assert_eq!(first["read_at"], second["read_at"], "read_at is set once");
    let (status, body) = app
        .patch(
            &format!("/api/messages/threads/{}/read-all", a.id),
            &b.token,
            None,
        )
        .await;
    assert_eq!((status, body["count"].as_i64()), (200, Some(0)));
}

pub async fn edits_are_refused_after_the_window_and_remasked_within_it(app: &TestApp) {
    let a = app.register("mona").await;
    let b = app.register("milo").await;
    let m = app.send(&a, &b, "first draft").await;
    let path = format!("/api/messages/{}", m["id"]);
    let (status, body) = app
        .patch(&path, &b.token, Some(json!({"message": "hijack"})))
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("NOT_SENDER")));
    let (status, body) = app
        .patch(
            &path,
            &a.token,
            Some(json!({"message": "reach me at mona@mail.com"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["message"], "reach me at m***@m***.com",
        "masking is reapplied on edit"
    );

    // A server with a zero-second window refuses every edit.
    let backend = if app.store.kind() == messaging_store::DatabaseKind::Postgres {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let strict = TestApp::spawn_with(backend, |s| s.edit_window_secs = 0)
        .await
        .unwrap();
    let a = strict.register("nora").await;
    let b = strict.register("nils").await;
    let m = strict.send(&a, &b, "too late to fix").await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    let (status, body) = strict
        .patch(
            &format!("/api/messages/{}", m["id"]),
            &a.token,
            Some(json!({"message": "fixed"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("EDIT_WINDOW_EXPIRED"))
    );
    let (_, h) = strict
        .get(&format!("/api/messages/threads/{}", b.id), Some(&a.token))
        .await;
    assert_eq!(bodies(&h["messages"]), ["too late to fix"]);
}

pub async fn bad_input_gets_problem_responses_and_changes_nothing(app: &TestApp) {
    let a = app.register("oscar").await;
    let b = app.register("olive").await;
    let (status, body) = app.get("/api/messages/threads", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, body) = app.get("/api/messages/threads", Some("not-a-token")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );

    let (status, ct, body) = app
        .raw("POST", "/api/messages", &a.token, "text/plain", "hello")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("UNSUPPORTED_MEDIA_TYPE"))
    );
    assert_eq!(ct, "application/problem+json");
    // Not JSON; then numbers JSON parsing could only round (out of 64 bits; a float past 2^53),
    // refused rather than read as their neighbour: below i64's range used to be taken as
    // i64::MIN.
    let mut bodies = vec!["{not json".to_owned()];
    for number in ["-9223372036854775809", "9007199254740995.0", "1e19"] {
        bodies.push(format!(
            r#"{{"recipient_id": {}, "message": "hello", "booking_id": {number}}}"#,
            b.id
        ));
    }
    for request in bodies {
        // `raw` takes a `'static` body.
        let request: &'static str = request.leak();
        let (status, _, body) = app
            .raw(
                "POST",
                "/api/messages",
                &a.token,
                "application/json",
                request,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("INVALID_REQUEST")),
            "{request}: {body}"
        );
    }

    let too_long = "x".repeat(2001);
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&a.token),
            json!({"recipient_id": b.id, "message": too_long}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (422, Some("VALIDATION_FAILED"), Some("message"))
    );
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&a.token),
            json!({"recipient_id": b.id, "message": " \u{7} \n "}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("VALIDATION_FAILED"))
    );
    let (status, body) = app
        .get("/api/messages/threads?limit=500", Some(&a.token))
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("limit")));
    let (status, body) = app
        .get("/api/messages/threads?limit=abc", Some(&a.token))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );
    let (status, body) = app.get("/api/messages/search?q=a", Some(&a.token)).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("q")));
    let (status, body) = app.patch("/api/messages/abc/read", &a.token, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));

    let (_, threads) = app.get("/api/messages/threads", Some(&b.token)).await;
    assert!(threads.as_array().unwrap().is_empty(), "nothing was stored");
}

pub async fn login_failures_look_the_same_for_unknown_users_and_wrong_passwords(app: &TestApp) {
    app.register("paula").await;
    let (s1, b1) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "paula", "password": "wrong password"}),
        )
        .await;
    let (s2, b2) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "nobody", "password": "wrong password"}),
        )
        .await;
    assert_eq!((s1, &b1), (s2, &b2), "both failures must look identical");
    assert_eq!(s1, 401);
    assert_eq!(b1["code"], "INVALID_CREDENTIALS");
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "PAULA", "email": "p2@example.com", "password": "long enough"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("ACCOUNT_EXISTS"))
    );
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "shorty", "email": "s@example.com", "password": "short"}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("password")));
}

pub async fn a_reused_refresh_token_revokes_the_whole_family(app: &TestApp) {
    app.register("rita").await;
    let tokens = app.login("rita").await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(tokens["token_type"], "bearer");
    let (status, renewed) = app
        .post("/api/auth/refresh", None, json!({"refresh_token": first}))
        .await;
    assert_eq!(status, 200);
    let second = renewed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second, "refresh tokens rotate");
    let (status, _) = app
        .get(
            "/api/messages/threads",
            Some(renewed["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .post("/api/auth/refresh", None, json!({"refresh_token": first}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("REFRESH_TOKEN_REUSED"))
    );
    let (status, body) = app
        .post("/api/auth/refresh", None, json!({"refresh_token": second}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("INVALID_REFRESH_TOKEN")),
        "the family is revoked"
    );
}

pub async fn contact_rules_hold_for_clinicians_and_patients(app: &TestApp) {
    let doc = app.user_with_role("drwho", Role::Clinician).await;
    let patient = app.user_with_role("amy_pond", Role::Patient).await;
    let student = app.register("clara").await;
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&patient.token),
            json!({"recipient_id": doc.id, "message": "hello doctor"}),
        )
        .await;
    // A clinician and a patient with nothing to do with each other are nobody to each other.
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("RECIPIENT_UNAVAILABLE"))
    );
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&doc.token),
            json!({"recipient_id": patient.id, "message": "hello"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("RECIPIENT_UNAVAILABLE"))
    );
    app.store
        .assign_clinician(UserId(doc.id), UserId(patient.id), Utc::now())
        .await
        .unwrap();
    // Their own clinician: the patient is told why.
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&patient.token),
            json!({"recipient_id": doc.id, "message": "hello doctor"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("PATIENT_CANNOT_INITIATE"))
    );
    app.send(&doc, &patient, "How are you feeling?").await;
    app.send(&patient, &doc, "Better, thanks").await;
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&student.token),
            json!({"recipient_id": patient.id, "message": "hi"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("RECIPIENT_UNAVAILABLE")),
        "the other side of the service looks like nobody"
    );
    app.store
        .block_user(UserId(patient.id), UserId(doc.id), Utc::now())
        .await
        .unwrap();
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&doc.token),
            json!({"recipient_id": patient.id, "message": "still there?"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("RECIPIENT_UNAVAILABLE")),
        "a block looks like an unknown user"
    );
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&patient.token),
            json!({"recipient_id": doc.id, "message": "bye"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("RECIPIENT_BLOCKED"))
    );
}

pub async fn health_and_readiness_answer(app: &TestApp) {
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    let (status, body) = app.get("/no/such/route", None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
}
