//! System B's routes, the `/api/v1` prefix, blocks, reports, the admin API, and who may touch what.

use messaging_domain::user::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn send_b(
    app: &TestApp,
    from: &TestUser,
    to: &str,
    subject: Option<&str>,
    content: &str,
) -> (u16, Value) {
    app.post(
        "/api/messages/send",
        Some(&from.token),
        json!({"recipient": to, "subject": subject, "content": content}),
    )
    .await
}

pub async fn system_b_send_inbox_conversation_sent_and_reply_work_together(app: &TestApp) {
    let a = app.register("anna_b").await;
    let b = app.register("bert_b").await;
    let long = format!("Budget meeting notes: {}", "x".repeat(150));
    let (status, sent) = send_b(app, &a, "bert_b", Some("Budget"), &long).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(
        (sent["status"].as_str(), sent["recipient"].as_str()),
        (Some("sent"), Some("bert_b"))
    );
    assert!(
        sent["message_id"].is_i64()
            && sent["conversation_id"].is_i64()
            && sent["timestamp"].is_string()
    );

    let (status, inbox) = app.get("/api/messages/inbox", Some(&b.token)).await;
    assert_eq!(status, 200);
    let first = &inbox["conversations"][0];
    assert_eq!(
        (first["with_user"].as_str(), first["unread_count"].as_i64()),
        (Some("anna_b"), Some(1))
    );
    assert_eq!(first["subject"], "Budget");
    assert_eq!(
        first["preview"].as_str().unwrap().chars().count(),
        101,
        "100 characters and an ellipsis"
    );
    assert_eq!(inbox["unread_total"], 1);
    let (_, unread_only) = app
        .get("/api/messages/inbox?unread_only=true", Some(&b.token))
        .await;
    assert_eq!(unread_only["conversations"].as_array().unwrap().len(), 1);
    // System B treats an out-of-range limit as 20.
    let (status, lenient) = app
        .get("/api/messages/inbox?limit=500", Some(&b.token))
        .await;
    assert_eq!((status, lenient["limit"].as_i64()), (200, Some(20)));

    let (_, before) = app.get("/api/messages/sent", Some(&a.token)).await;
    assert_eq!(before["messages"][0]["is_read"], false);
    // Opening the conversation marks Anna's messages read.
    let (status, convo) = app
        .get("/api/messages/conversation/anna_b", Some(&b.token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(convo["messages"].as_array().unwrap().len(), 1);
    let (_, after) = app.get("/api/messages/sent", Some(&a.token)).await;
    assert_eq!(after["messages"][0]["is_read"], true);
    let (_, unread_only) = app
        .get("/api/messages/inbox?unread_only=true", Some(&b.token))
        .await;
    assert!(unread_only["conversations"].as_array().unwrap().is_empty());

    let path = format!("/api/messages/{}/reply", sent["message_id"]);
    let (status, reply) = app
        .post(&path, Some(&b.token), json!({"content": "Agreed."}))
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(
        (reply["subject"].as_str(), reply["recipient"].as_str()),
        (Some("Re: Budget"), Some("anna_b"))
    );
    assert_eq!(
        reply["conversation_id"], sent["conversation_id"],
        "a reply stays in the conversation"
    );
    let (status, body) = app
        .post(
            &path,
            Some(&app.register("carl_b").await.token),
            json!({"content": "me too"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("MESSAGE_NOT_FOUND"))
    );

    let (status, body) = send_b(app, &a, "nobody_here", None, "hello").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("RECIPIENT_UNAVAILABLE"))
    );
    let (status, body) = send_b(app, &a, "bert_b", Some(&"s".repeat(256)), "hello").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("subject")));
    let (status, convo) = app
        .get("/api/messages/conversation/nobody_here", Some(&b.token))
        .await;
    assert_eq!(
        (status, convo["messages"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}

pub async fn clinician_messages_land_in_the_patients_inbox(app: &TestApp) {
    let admin = app.user_with_role("root_c", Role::Admin).await;
    let doc = app.user_with_role("dr_c", Role::Clinician).await;
    let patient = app.user_with_role("pat_c", Role::Patient).await;
    let student = app.register("stud_c").await;
    let body = json!({"recipient_username": "pat_c", "message": "How are you feeling?"});
    // A patient the clinician has nothing to do with is, to them, nobody (System B's 404).
    let (status, refused) = app
        .post("/api/clinician/message", Some(&doc.token), body.clone())
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (404, Some("RECIPIENT_UNAVAILABLE"))
    );
    let (status, _) = app
        .post(
            "/api/admin/care-assignments",
            Some(&admin.token),
            json!({"clinician_id": doc.id, "patient_id": patient.id}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, sent) = app
        .post("/api/clinician/message", Some(&doc.token), body.clone())
        .await;
    assert_eq!(status, 201, "{sent}");
    // System B kept these outside any conversation, so patients never saw them.
    let (_, inbox) = app.get("/api/messages/inbox", Some(&patient.token)).await;
    assert_eq!(inbox["conversations"][0]["with_user"], "dr_c");
    assert_eq!(inbox["conversations"][0]["preview"], "How are you feeling?");
    let (status, _) = app
        .post(
            &format!("/api/messages/{}/reply", sent["message_id"]),
            Some(&patient.token),
            json!({"content": "Better"}),
        )
        .await;
    assert_eq!(
        status, 201,
        "the patient may reply in a conversation the clinician started"
    );
    let (status, refused) = app
        .post("/api/clinician/message", Some(&student.token), body)
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("CLINICIAN_ONLY"))
    );
}

pub async fn system_a_routes_answer_under_api_v1_too(app: &TestApp) {
    let a = app.register("vera").await;
    let b = app.register("vince").await;
    let (status, sent) = app
        .post(
            "/api/v1/messages",
            Some(&a.token),
            json!({"recipient_id": b.id, "message": "via v1"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let (status, threads) = app.get("/api/v1/messages/threads", Some(&b.token)).await;
    assert_eq!(
        (status, threads[0]["last_message"].as_str()),
        (200, Some("via v1"))
    );
    let (status, _) = app
        .patch(
            &format!("/api/v1/messages/{}/read", sent["id"]),
            &b.token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app.get("/api/v1/messages/inbox", Some(&b.token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("NOT_FOUND")),
        "System B's routes are not versioned"
    );
}

pub async fn search_accepts_system_b_limit(app: &TestApp) {
    let a = app.register("sara").await;
    let b = app.register("sean").await;
    for i in 0..3 {
        app.send(&a, &b, &format!("budget line {i}")).await;
    }
    let (status, found) = app
        .get("/api/messages/search?q=budget&limit=2", Some(&b.token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            found["page_size"].as_i64(),
            found["total"].as_i64(),
            found["total_pages"].as_i64()
        ),
        (Some(2), Some(3), Some(2))
    );
    assert_eq!(found["messages"].as_array().unwrap().len(), 2);
    let (status, body) = app
        .get("/api/messages/search?q=budget&limit=51", Some(&b.token))
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("limit")));
}

pub async fn a_block_stops_messages_both_ways_until_lifted(app: &TestApp) {
    let a = app.register("bella").await;
    let b = app.register("boris").await;
    let stranger = app.register("bruno").await;
    // Only someone one has a conversation with can be blocked; a stranger looks like nobody, so
    // the route tells no one who exists.
    for other in [stranger.id, 999_999] {
        let (status, body) = app
            .post(
                &format!("/api/users/{other}/block"),
                Some(&a.token),
                json!({}),
            )
            .await;
        assert_eq!(status, 404, "{other}: {body}");
    }
    app.send(&b, &a, "hello bella").await;
    let (status, _) = app
        .post(
            &format!("/api/users/{}/block", b.id),
            Some(&a.token),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = send_b(app, &b, "bella", None, "hello?").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("RECIPIENT_UNAVAILABLE")),
        "the blocked user is not told"
    );
    let (status, body) = send_b(app, &a, "boris", None, "hi").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("RECIPIENT_BLOCKED"))
    );
    let (status, body) = app
        .post(
            &format!("/api/users/{}/block", a.id),
            Some(&a.token),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("CANNOT_BLOCK_SELF"))
    );
    let (status, _) = app
        .post("/api/users/999999/block", Some(&a.token), json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .delete(&format!("/api/users/{}/block", b.id), &a.token)
        .await;
    assert_eq!(status, 204);
    let (status, _) = send_b(app, &b, "bella", None, "hello again").await;
    assert_eq!(status, 201);
}

pub async fn reports_reach_the_admins_and_only_them(app: &TestApp) {
    let admin = app.user_with_role("root_r", Role::Admin).await;
    let a = app.register("rex").await;
    let b = app.register("rosa").await;
    let stranger = app.register("rudy").await;
    let m = app.send(&a, &b, "something nasty").await;
    let path = format!("/api/messages/{}/report", m["id"]);
    let (status, body) = app
        .post(&path, Some(&stranger.token), json!({"reason": "spam"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("NOT_FOUND")),
        "only parties can report"
    );
    let (status, body) = app
        .post(&path, Some(&b.token), json!({"reason": "  "}))
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("reason")));
    let (status, created) = app
        .post(&path, Some(&b.token), json!({"reason": "harassment"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, body) = app.get("/api/admin/reports", Some(&b.token)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("ADMIN_ONLY")));
    let (status, list) = app.get("/api/admin/reports", Some(&admin.token)).await;
    assert_eq!(status, 200);
    let report = &list["reports"][0];
    assert_eq!(
        (
            report["reason"].as_str(),
            report["reporter_username"].as_str()
        ),
        (Some("harassment"), Some("rosa"))
    );
    assert_eq!(report["message"]["message"], "something nasty");
}

pub async fn admins_manage_accounts_bookings_and_assignments(app: &TestApp) {
    let admin = app.user_with_role("root_a", Role::Admin).await;
    let student = app.register("stella").await;
    let tutor = app.user_with_role("theo", Role::Tutor).await;
    let doc = app.user_with_role("dr_a", Role::Clinician).await;
    let patient = app.user_with_role("pia", Role::Patient).await;

    // Non-admins are refused and nothing changes.
    let (status, body) = app
        .request(
            "PATCH",
            &format!("/api/admin/users/{}", tutor.id),
            Some(&student.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("ADMIN_ONLY")));
    app.login("theo").await;

    // A booking unmasks contact details once scheduled.
    let (status, booking) = app
        .post(
            "/api/admin/bookings",
            Some(&admin.token),
            json!({"student_id": student.id, "tutor_id": tutor.id}),
        )
        .await;
    assert_eq!(
        (status, booking["state"].as_str()),
        (201, Some("requested")),
        "{booking}"
    );
    let text = "call me on 555-123-4567";
    assert_ne!(app.send(&student, &tutor, text).await["message"], text);
    let (status, moved) = app
        .request(
            "PATCH",
            &format!("/api/admin/bookings/{}", booking["id"]),
            Some(&admin.token),
            Some(json!({"state": "scheduled"})),
        )
        .await;
    assert_eq!((status, moved["state"].as_str()), (200, Some("scheduled")));
    assert_eq!(app.send(&student, &tutor, text).await["message"], text);
    let (status, body) = app
        .post(
            "/api/admin/bookings",
            Some(&admin.token),
            json!({"student_id": tutor.id, "tutor_id": student.id}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("WRONG_ROLES")));

    // Assignments gate clinician messages.
    let (status, body) = app
        .post(
            "/api/admin/care-assignments",
            Some(&admin.token),
            json!({"clinician_id": patient.id, "patient_id": doc.id}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("WRONG_ROLES")));
    app.post(
        "/api/admin/care-assignments",
        Some(&admin.token),
        json!({"clinician_id": doc.id, "patient_id": patient.id}),
    )
    .await;
    app.send(&doc, &patient, "hello").await;
    let (status, _) = app
        .delete(
            &format!("/api/admin/care-assignments/{}/{}", doc.id, patient.id),
            &admin.token,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&doc.token),
            json!({"recipient_id": patient.id, "message": "still there?"}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("NOT_ASSIGNED")));

    // Deactivation: the user can no longer log in or be written to. Roles change.
    let (status, user) = app
        .request(
            "PATCH",
            &format!("/api/admin/users/{}", tutor.id),
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!((status, user["is_active"].as_bool()), (200, Some(false)));
    let (status, _) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "theo", "password": crate::support::PASSWORD}),
        )
        .await;
    assert_eq!(status, 401);
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&student.token),
            json!({"recipient_id": tutor.id, "message": "hello?"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("RECIPIENT_UNAVAILABLE"))
    );
    let (status, user) = app
        .request(
            "PATCH",
            &format!("/api/admin/users/{}", student.id),
            Some(&admin.token),
            Some(json!({"role": "tutor"})),
        )
        .await;
    assert_eq!((status, user["role"].as_str()), (200, Some("tutor")));
    let (status, body) = app
        .request(
            "PATCH",
            &format!("/api/admin/users/{}", admin.id),
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("SELF_CHANGE")));
    let (status, _) = app
        .request(
            "PATCH",
            "/api/admin/users/999999",
            Some(&admin.token),
            Some(json!({"role": "tutor"})),
        )
        .await;
    assert_eq!(status, 404);
}

pub async fn another_users_message_is_not_found_and_unchanged(app: &TestApp) {
    let a = app.register("owner").await;
    let b = app.register("partner").await;
    let other = app.register("outsider").await;
    let m = app.send(&a, &b, "private words").await;
    let id = m["id"].as_i64().unwrap();
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("PATCH", format!("/api/messages/{id}/read"), None),
        (
            "PATCH",
            format!("/api/messages/{id}"),
            Some(json!({"message": "hijacked"})),
        ),
        ("DELETE", format!("/api/messages/{id}"), None),
        ("DELETE", format!("/api/messages/{id}?scope=everyone"), None),
        (
            "POST",
            format!("/api/messages/{id}/reply"),
            Some(json!({"content": "hi"})),
        ),
        (
            "POST",
            format!("/api/messages/{id}/report"),
            Some(json!({"reason": "x"})),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = app.request(method, &path, Some(&other.token), body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    let (_, history) = app
        .get(&format!("/api/messages/threads/{}", a.id), Some(&b.token))
        .await;
    assert_eq!(history["messages"][0]["message"], "private words");
    assert_eq!(history["messages"][0]["is_read"], false);
    let (_, theirs) = app
        .get(
            &format!("/api/messages/threads/{}", b.id),
            Some(&other.token),
        )
        .await;
    assert!(
        theirs["messages"].as_array().unwrap().is_empty(),
        "an outsider sees nothing of the pair"
    );
}

pub async fn anonymous_callers_get_401_on_every_protected_route(app: &TestApp) {
    let routes = [
        ("POST", "/api/messages"),
        ("GET", "/api/messages/threads"),
        ("GET", "/api/messages/threads/1"),
        ("PATCH", "/api/messages/1/read"),
        ("PATCH", "/api/messages/threads/1/read-all"),
        ("GET", "/api/messages/search?q=hello"),
        ("PATCH", "/api/messages/1"),
        ("DELETE", "/api/messages/1"),
        ("GET", "/api/messages/unread-count"),
        ("POST", "/api/messages/send"),
        ("GET", "/api/messages/inbox"),
        ("GET", "/api/messages/sent"),
        ("GET", "/api/messages/conversation/someone"),
        ("POST", "/api/messages/1/reply"),
        ("POST", "/api/clinician/message"),
        ("POST", "/api/users/1/block"),
        ("DELETE", "/api/users/1/block"),
        ("POST", "/api/messages/1/report"),
        ("PATCH", "/api/admin/users/1"),
        ("POST", "/api/admin/bookings"),
        ("PATCH", "/api/admin/bookings/1"),
        ("POST", "/api/admin/care-assignments"),
        ("DELETE", "/api/admin/care-assignments/1/2"),
        ("GET", "/api/admin/reports"),
        ("GET", "/api/v1/messages/threads"),
    ];
    for (method, path) in routes {
        let body = matches!(method, "POST" | "PATCH").then(|| json!({}));
        let (status, answer) = app.request(method, path, None, body).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (401, Some("UNAUTHENTICATED")),
            "{method} {path}"
        );
    }
}

pub async fn a_retried_send_returns_the_original_message(app: &TestApp) {
    let a = app.register("ida_k").await;
    let b = app.register("ivan_k").await;
    let c = app.register("iris_k").await;
    let send_a = |key: &'static str, to: i64| {
        let token = a.token.clone();
        async move {
            let url = format!("{}/api/messages", app.base);
            let mut resp = awc::Client::default()
                .post(url)
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Idempotency-Key", key))
                .send_json(&json!({"recipient_id": to, "message": "only once"}))
                .await
                .unwrap();
            let body: Value = resp.json().await.unwrap();
            (resp.status().as_u16(), body)
        }
    };
    let (s1, first) = send_a("order-42", b.id).await;
    let (s2, again) = send_a("order-42", b.id).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(
        first["id"], again["id"],
        "the retry returns the original message"
    );
    let (_, unread) = app.get("/api/messages/unread-count", Some(&b.token)).await;
    assert_eq!(unread["total"], 1, "one message, not two");
    let (status, body) = send_a("order-42", c.id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("IDEMPOTENCY_KEY_REUSED"))
    );
    let (status, body) = send_a("bad key!", b.id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("VALIDATION_FAILED"))
    );

    // System B's send path and reply take the id as a field.
    let body = json!({"recipient": "ivan_k", "content": "field form", "client_message_id": "m-1"});
    let (_, one) = app
        .post("/api/messages/send", Some(&a.token), body.clone())
        .await;
    let (_, two) = app.post("/api/messages/send", Some(&a.token), body).await;
    assert_eq!(one["message_id"], two["message_id"]);
    let path = format!("/api/messages/{}/reply", one["message_id"]);
    let reply = json!({"content": "reply once", "client_message_id": "r-1"});
    let (s1, r1) = app.post(&path, Some(&b.token), reply.clone()).await;
    let (s2, r2) = app.post(&path, Some(&b.token), reply).await;
    assert_eq!((s1, s2, &r1["message_id"]), (201, 201, &r2["message_id"]));
    let (_, unread) = app.get("/api/messages/unread-count", Some(&a.token)).await;
    assert_eq!(unread["total"], 1);
}

/// Every send path, tried by callers the rules refuse, answers as the rules say and stores nothing.
pub async fn the_contact_rules_hold_on_every_send_path(app: &TestApp) {
    let admin = app.user_with_role("root_m", Role::Admin).await;
    let doc = app.user_with_role("dr_m", Role::Clinician).await;
    let other_doc = app.user_with_role("dr_other", Role::Clinician).await;
    let patient = app.user_with_role("pat_m", Role::Patient).await;
    let blocker = app.register("blocker_m").await;
    let blocked = app.register("blocked_m").await;
    app.post(
        "/api/admin/care-assignments",
        Some(&admin.token),
        json!({"clinician_id": doc.id, "patient_id": patient.id}),
    )
    .await;
    // A conversation started by the assigned clinician, so that replies exist to try.
    let (_, started) = app
        .post(
            "/api/clinician/message",
            Some(&doc.token),
            json!({"recipient_username": "pat_m", "message": "hello"}),
        )
        .await;
    let (_, blocked_thread) = send_b(app, &blocker, "blocked_m", None, "before the block").await;
    app.post(
        &format!("/api/users/{}/block", blocked.id),
        Some(&blocker.token),
        json!({}),
    )
    .await;

    let reply_to_doc = format!("/api/messages/{}/reply", started["message_id"]);
    let reply_to_blocker = format!("/api/messages/{}/reply", blocked_thread["message_id"]);
    let cases: Vec<(&str, &TestUser, &str, String, Value, u16, &str)> = vec![
        (
            "a stranger clinician, System A",
            &other_doc,
            "POST",
            "/api/messages".into(),
            json!({"recipient_id": patient.id, "message": "hi"}),
            400,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "a stranger clinician, System B",
            &other_doc,
            "POST",
            "/api/messages/send".into(),
            json!({"recipient": "pat_m", "content": "hi"}),
            404,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "a stranger clinician, clinician route",
            &other_doc,
            "POST",
            "/api/clinician/message".into(),
            json!({"recipient_username": "pat_m", "message": "hi"}),
            404,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "patient to a stranger clinician, System A",
            &patient,
            "POST",
            "/api/messages".into(),
            json!({"recipient_id": other_doc.id, "message": "hi"}),
            400,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "patient to a stranger clinician, System B",
            &patient,
            "POST",
            "/api/messages/send".into(),
            json!({"recipient": "dr_other", "content": "hi"}),
            404,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "patient on the clinician route",
            &patient,
            "POST",
            "/api/clinician/message".into(),
            json!({"recipient_username": "dr_m", "message": "hi"}),
            403,
            "CLINICIAN_ONLY",
        ),
        (
            "blocked user, System A",
            &blocked,
            "POST",
            "/api/messages".into(),
            json!({"recipient_id": blocker.id, "message": "hi"}),
            400,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "blocked user, System B",
            &blocked,
            "POST",
            "/api/messages/send".into(),
            json!({"recipient": "blocker_m", "content": "hi"}),
            404,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "blocked user, reply",
            &blocked,
            "POST",
            reply_to_blocker.clone(),
            json!({"content": "hi"}),
            404,
            "RECIPIENT_UNAVAILABLE",
        ),
        (
            "stranger replying",
            &other_doc,
            "POST",
            reply_to_doc.clone(),
            json!({"content": "hi"}),
            404,
            "MESSAGE_NOT_FOUND",
        ),
    ];
    let unread_before = [
        app.get("/api/messages/unread-count", Some(&patient.token))
            .await
            .1,
        app.get("/api/messages/unread-count", Some(&blocker.token))
            .await
            .1,
        app.get("/api/messages/unread-count", Some(&other_doc.token))
            .await
            .1,
        app.get("/api/messages/unread-count", Some(&doc.token))
            .await
            .1,
    ];
    for (case, caller, method, path, body, status, code) in cases {
        let (got, answer) = app
            .request(method, &path, Some(&caller.token), Some(body))
            .await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{case}: {answer}"
        );
    }
    let unread_after = [
        app.get("/api/messages/unread-count", Some(&patient.token))
            .await
            .1,
        app.get("/api/messages/unread-count", Some(&blocker.token))
            .await
            .1,
        app.get("/api/messages/unread-count", Some(&other_doc.token))
            .await
            .1,
        app.get("/api/messages/unread-count", Some(&doc.token))
            .await
            .1,
    ];
    assert_eq!(
        unread_before, unread_after,
        "no refused request stored anything"
    );
    // The assigned pair still works both ways.
    let (status, _) = app
        .post(
            &reply_to_doc,
            Some(&patient.token),
            json!({"content": "thanks"}),
        )
        .await;
    assert_eq!(status, 201);
}
