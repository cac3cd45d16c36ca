//! Real-time delivery over real WebSockets: devices, echoes, reads, edits, deletes, typing and
//! receipts, blocks, replay with `since` across a restart, slow consumers, credentials and close
//! codes. The cross-instance test (PostgreSQL only) is at the end.

use std::time::Duration;

use messaging_domain::ports::EventLog;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// No payload may carry an email address (System A leaked the sender's).
fn assert_no_email(frame: &Value) {
    let text = frame.to_string();
    assert!(!text.contains("@example.com"), "email leaked: {text}");
    assert!(!text.contains("email"), "email field present: {text}");
}

async fn send_with_client_id(
    app: &TestApp,
    from: &TestUser,
    to: &TestUser,
    text: &str,
    id: &str,
) -> Value {
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&from.token),
            json!({"recipient_id": to.id, "message": text, "client_message_id": id}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

pub async fn every_device_gets_new_messages_and_the_senders_other_devices_the_echo(app: &TestApp) {
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let mut bea_phone = app.ws_for(&bea, "").await;
    let mut bea_laptop = app.ws_for(&bea, "").await;
    let mut amy_tablet = app.ws_for(&amy, "").await;

    let sent = send_with_client_id(
        app,
        &amy,
        &bea,
        "Hi Bea, call me at 0170 1234567",
        "draft-1",
    )
    .await;
    let id = sent["id"].as_i64().unwrap();
    for device in [&mut bea_phone, &mut bea_laptop] {
        let frame = device.next_json().await;
        assert_eq!(frame["type"], "new_message", "{frame}");
        assert_eq!(
            (
                &frame["message_id"],
                &frame["sender_id"],
                &frame["recipient_id"],
                &frame["seq"]
            ),
            (&json!(id), &json!(amy.id), &json!(bea.id), &json!(1)),
        );
        assert_eq!(
            frame["message"], sent["message"],
            "masked like the stored body"
        );
        assert_eq!(frame["sender"]["username"], "amy");
        assert_no_email(&frame);
    }
    let echo = amy_tablet.next_json().await;
    assert_eq!(echo["type"], "message_sent", "{echo}");
    assert_eq!(
        (
            &echo["message_id"],
            &echo["recipient_id"],
            &echo["client_message_id"],
            &echo["temp_id"]
        ),
        (
            &json!(id),
            &json!(bea.id),
            &json!("draft-1"),
            &json!("draft-1")
        )
    );
    assert_no_email(&echo);
    // Nothing else arrives: no duplicates.
    bea_phone.expect_silence(300).await;
    amy_tablet.expect_silence(100).await;
}

pub async fn reads_edits_and_both_deletes_reach_the_right_devices(app: &TestApp) {
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let first = app.send(&amy, &bea, "first").await["id"].as_i64().unwrap();
    let second = app.send(&amy, &bea, "second").await["id"].as_i64().unwrap();
    let mut amy_ws = app.ws_for(&amy, "").await;
    let mut bea_ws = app.ws_for(&bea, "").await;

    let (status, _) = app
        .patch(&format!("/api/messages/{first}/read"), &bea.token, None)
        .await;
    assert_eq!(status, 200);
    let read = amy_ws.next_json().await;
    assert_eq!(
        (&read["type"], &read["message_id"], &read["reader_id"]),
        (&json!("message_read"), &json!(first), &json!(bea.id))
    );
    assert!(read["read_at"].is_string(), "{read}");

    let (status, _) = app
        .patch(
            &format!("/api/messages/threads/{}/read-all", amy.id),
            &bea.token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let thread = amy_ws.next_json().await;
    assert_eq!(
        (&thread["type"], &thread["reader_id"], &thread["count"]),
        (&json!("thread_read"), &json!(bea.id), &json!(1))
    );

    let (status, body) = app
        .patch(
            &format!("/api/messages/{second}"),
            &amy.token,
            Some(json!({"message": "second, edited"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for ws in [&mut amy_ws, &mut bea_ws] {
        let edited = ws.next_json().await;
        assert_eq!(
            (
                &edited["type"],
                &edited["message_id"],
                &edited["new_content"]
            ),
            (
                &json!("message_edited"),
                &json!(second),
                &json!("second, edited")
            )
        );
    }

    // Delete for me: only the deleter's devices hear of it.
    let (status, _) = app
        .delete(&format!("/api/messages/{first}"), &bea.token)
        .await;
    assert_eq!(status, 204);
    let mine = bea_ws.next_json().await;
    assert_eq!(
        (&mine["type"], &mine["message_id"], &mine["scope"]),
        (&json!("message_deleted"), &json!(first), &json!("me"))
    );
    amy_ws.expect_silence(300).await;

    // Delete for everyone: both parties.
    let (status, _) = app
        .delete(
            &format!("/api/messages/{second}?scope=everyone"),
            &amy.token,
        )
        .await;
    assert_eq!(status, 204);
    for ws in [&mut amy_ws, &mut bea_ws] {
        let gone = ws.next_json().await;
        assert_eq!(
            (
                &gone["type"],
                &gone["message_id"],
                &gone["scope"],
                &gone["deleted_by"]
            ),
            (
                &json!("message_deleted"),
                &json!(second),
                &json!("everyone"),
                &json!(amy.id)
            )
        );
    }
    // Every stored frame is numbered in its user's stream without gaps: amy got read (1... after
    // her two message_sent entries), and so on; a reconnect from 0 replays them in order.
    let mut replay = app
        .ws(&format!("/ws?token={}&since=0", amy.token), &[])
        .await;
    let hello = replay.next_json().await;
    assert_eq!(hello["type"], "connected");
    let mut seqs = Vec::new();
    for _ in 0..hello["latest_seq"].as_u64().unwrap() {
        let frame = replay.next_json().await;
        // The message deleted for everyone is replayed without what it said.
        assert!(!frame.to_string().contains("second"), "{frame}");
        seqs.push(frame["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        seqs.len(),
        6,
        "2 sent, read, thread read, edit, delete for everyone"
    );
}

/// Defect 5 of System A: typing and receipts relayed to any user id, anyone's presence readable.
pub async fn typing_receipts_and_presence_are_for_participants_only(app: &TestApp) {
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let cal = app.register("cal").await;
    let message = app.send(&amy, &bea, "hello").await["id"].as_i64().unwrap();
    let mut amy_ws = app.ws_for(&amy, "").await;
    let mut bea_ws = app.ws_for(&bea, "").await;
    let mut cal_ws = app.ws_for(&cal, "").await;

    amy_ws
        .send_json(json!({"type": "typing", "recipient_id": bea.id}))
        .await;
    let typing = bea_ws.next_of("typing", &["presence_status"]).await;
    assert_eq!(
        (&typing["user_id"], &typing["is_typing"]),
        (&json!(amy.id), &json!(true))
    );
    assert!(
        typing["expires_in_seconds"].as_u64().unwrap() > 0,
        "{typing}"
    );
    assert!(
        typing.get("seq").is_none(),
        "typing is fleeting, not part of the stream"
    );

    // Forged toward a non-participant: refused, and the target hears nothing.
    amy_ws
        .send_json(json!({"type": "typing", "recipient_id": cal.id}))
        .await;
    let refused = amy_ws.next_of("error", &["presence_status"]).await;
    assert_eq!(refused["code"], "USER_NOT_FOUND");
    cal_ws
        .send_json(json!({"type": "typing", "recipient_id": bea.id}))
        .await;
    assert_eq!(cal_ws.next_of("error", &[]).await["code"], "USER_NOT_FOUND");
    cal_ws
        .send_json(json!({"type": "delivery_receipt", "message_id": message}))
        .await;
    assert_eq!(
        cal_ws.next_of("error", &[]).await["code"],
        "MESSAGE_NOT_FOUND"
    );
    // The sender cannot forge a receipt for their own message either.
    amy_ws
        .send_json(json!({"type": "delivery_receipt", "message_id": message}))
        .await;
    assert_eq!(
        amy_ws.next_of("error", &["presence_status"]).await["code"],
        "MESSAGE_NOT_FOUND"
    );
    cal_ws.expect_silence(300).await;

    // The recipient's receipt reaches the sender, once.
    bea_ws
        .send_json(json!({"type": "delivery_receipt", "message_id": message}))
        .await;
    let receipt = amy_ws
        .next_of("delivery_receipt", &["presence_status"])
        .await;
    assert_eq!(
        (&receipt["message_id"], &receipt["recipient_id"]),
        (&json!(message), &json!(bea.id))
    );
    assert!(receipt["seq"].is_u64(), "receipts are stored: {receipt}");
    bea_ws
        .send_json(json!({"type": "delivery_receipt", "message_id": message}))
        .await;
    amy_ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(
        amy_ws.next_of("pong", &["presence_status"]).await["type"],
        "pong",
        "no second receipt"
    );

    // Presence: partners only; anyone else cannot tell the user exists.
    let (status, body) = app
        .get(&format!("/api/users/{}/presence", amy.id), Some(&bea.token))
        .await;
    assert_eq!((status, &body["status"]), (200, &json!("online")), "{body}");
    let (status, body) = app
        .get(&format!("/api/users/{}/presence", amy.id), Some(&cal.token))
        .await;
    assert_eq!(
        (status, &body["code"]),
        (404, &json!("USER_NOT_FOUND")),
        "{body}"
    );
    // Hidden presence shows offline, and partners hear "offline".
    let (status, _) = app
        .request(
            "PUT",
            "/api/me/presence",
            Some(&amy.token),
            Some(json!({"visible": false})),
        )
        .await;
    assert_eq!(status, 204);
    let offline = bea_ws.next_of("presence_status", &["typing"]).await;
    assert_eq!(
        (&offline["user_id"], &offline["status"]),
        (&json!(amy.id), &json!("offline"))
    );
    let (_, body) = app
        .get(&format!("/api/users/{}/presence", amy.id), Some(&bea.token))
        .await;
    assert_eq!(body["status"], "offline");
}

pub async fn blocked_users_receive_nothing_from_each_other(app: &TestApp) {
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let message = app.send(&amy, &bea, "before the block").await["id"]
        .as_i64()
        .unwrap();
    let (status, _) = app
        .post(
            &format!("/api/users/{}/block", amy.id),
            Some(&bea.token),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let mut amy_ws = app.ws_for(&amy, "").await;
    let mut bea_ws = app.ws_for(&bea, "").await;

    amy_ws
        .send_json(json!({"type": "typing", "recipient_id": bea.id}))
        .await;
    assert_eq!(amy_ws.next_json().await["code"], "USER_NOT_FOUND");
    // Amy edits the old message: her own devices hear it, Bea's do not.
    let (status, _) = app
        .patch(
            &format!("/api/messages/{message}"),
            &amy.token,
            Some(json!({"message": "edited after"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(amy_ws.next_json().await["type"], "message_edited");
    // Bea reads it: Amy does not learn of it.
    let (status, _) = app
        .patch(&format!("/api/messages/{message}/read"), &bea.token, None)
        .await;
    assert_eq!(status, 200);
    bea_ws.expect_silence(300).await;
    amy_ws.expect_silence(100).await;
    let (status, _) = app
        .get(&format!("/api/users/{}/presence", bea.id), Some(&amy.token))
        .await;
    assert_eq!(status, 404);
}

pub async fn since_replays_exactly_across_a_server_restart(app: &TestApp) {
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let mut bea_ws = app.ws_for(&bea, "").await;
    let m1 = app.send(&amy, &bea, "one").await["id"].clone();
    let m2 = app.send(&amy, &bea, "two").await["id"].clone();
    let got: Vec<Value> = vec![bea_ws.next_json().await, bea_ws.next_json().await];
    assert_eq!((&got[0]["message_id"], &got[1]["message_id"]), (&m1, &m2));
    let last_seen = got[1]["seq"].as_u64().unwrap();

    // The server stops (as on SIGTERM): open sockets are closed with 1001.
    app.stop().await;
    assert_eq!(bea_ws.close_code().await, 1001);

    // Another process on the same database takes over; more happens while Bea is away.
    let next = app.another_instance().await;
    let m3 = next.send(&amy, &bea, "three").await["id"].clone();
    let m4 = next.send(&amy, &bea, "four").await["id"].clone();
    let mut again = next
        .ws(&format!("/ws?token={}&since={last_seen}", bea.token), &[])
        .await;
    let hello = again.next_json().await;
    assert_eq!(
        (&hello["type"], &hello["replaying_from"]),
        (&json!("connected"), &json!(last_seen))
    );
    let replayed: Vec<Value> = vec![again.next_json().await, again.next_json().await];
    assert_eq!(
        replayed
            .iter()
            .map(|f| (f["seq"].clone(), f["message_id"].clone()))
            .collect::<Vec<_>>(),
        vec![(json!(last_seen + 1), m3), (json!(last_seen + 2), m4)]
    );
    // Then live, with no gap and no duplicate.
    let m5 = next.send(&amy, &bea, "five").await["id"].clone();
    let live = again.next_json().await;
    assert_eq!(
        (&live["seq"], &live["message_id"]),
        (&json!(last_seen + 3), &m5)
    );
    again.expect_silence(300).await;

    // A position older than what is kept: resynchronise.
    next.store
        .prune_events(chrono::Utc::now() + chrono::TimeDelta::seconds(1))
        .await
        .unwrap();
    let mut old = next
        .ws(&format!("/ws?token={}&since=1", bea.token), &[])
        .await;
    assert_eq!(old.next_json().await["type"], "connected");
    let resync = old.next_json().await;
    assert_eq!(
        (&resync["type"], &resync["latest_seq"]),
        (&json!("resync_required"), &json!(last_seen + 3))
    );
    next.stop().await;
}

pub async fn credentials_origins_and_tickets_are_checked(app: &TestApp) {
    let amy = app.register("amy").await;
    // A page from another site: 4003, whatever the credentials.
    let mut ws = app
        .ws(
            &format!("/ws?token={}", amy.token),
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(ws.close_code().await, 4003);
    // The server's own origin is fine.
    let mut ws = app
        .ws(
            &format!("/ws?token={}", amy.token),
            &[("Origin", app.base.as_str())],
        )
        .await;
    assert_eq!(ws.next_json().await["type"], "connected");
    // Bad or missing credentials: 1008.
    for query in [
        "/ws?token=not-a-token",
        "/ws",
        "/ws?ticket=made-up",
        "/ws?token=x&since=-3",
    ] {
        let mut ws = app.ws(query, &[]).await;
        assert_eq!(ws.close_code().await, 1008, "{query}");
    }
    // System A's paths answer too.
    for path in ["/ws/messages", "/api/v1/ws/messages"] {
        let mut ws = app.ws(&format!("{path}?token={}", amy.token), &[]).await;
        assert_eq!(ws.next_json().await["type"], "connected", "{path}");
    }
    // A ticket works once.
    let (status, ticket) = app
        .post("/api/ws-ticket", Some(&amy.token), json!({}))
        .await;
    assert_eq!(status, 201, "{ticket}");
    assert!(ticket["expires_in_seconds"].as_u64().unwrap() <= 30);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    let mut ws = app.ws(&format!("/ws?ticket={ticket}"), &[]).await;
    assert_eq!(ws.next_json().await["user"]["id"], amy.id);
    let mut reused = app.ws(&format!("/ws?ticket={ticket}"), &[]).await;
    assert_eq!(reused.close_code().await, 1008);
    // A browser session's cookie works too (from the server's own pages).
    let mut resp = awc::Client::default()
        .post(format!("{}/api/auth/login", app.base))
        .send_json(
            &json!({"username": "amy", "password": crate::support::PASSWORD, "cookie": true}),
        )
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.body().await);
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let mut ws = app
        .ws(
            "/ws",
            &[("Cookie", cookie.as_str()), ("Origin", app.base.as_str())],
        )
        .await;
    assert_eq!(ws.next_json().await["user"]["id"], amy.id);
    let mut ws = app
        .ws(
            "/ws",
            &[
                ("Cookie", "messaging_session=forged"),
                ("Origin", app.base.as_str()),
            ],
        )
        .await;
    assert_eq!(ws.close_code().await, 1008);
    // Tickets are for signed-in users only.
    let (status, _) = app.post("/api/ws-ticket", None, json!({})).await;
    assert_eq!(status, 401);
}

pub async fn keep_alive_pings_pongs_idle_and_expiring_tokens(app: &TestApp) {
    let quick = TestApp::start_like(app, |s| {
        s.ws_ping_secs = 1;
        s.ws_idle_secs = 2;
        s.access_token_ttl_secs = 4;
    })
    .await;
    let amy = quick.register("amy").await;
    let mut ws = quick.ws_for(&amy, "").await;
    ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    ws.send_json(json!({"type": "dance"})).await;
    assert_eq!(ws.next_json().await["code"], "BAD_FRAME");
    // A client that answers nothing (not even pings) is closed as idle.
    assert_eq!(ws.close_code_within(Duration::from_secs(6)).await, 4000);

    // A client that keeps answering stays until its token expires: token_expired, then 4001.
    // (A fresh login: the first token may be close to its end by now.)
    let fresh = TestUser {
        id: amy.id,
        token: quick.login("amy").await["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let mut ws = quick.ws_for(&fresh, "").await;
    let frame = ws.next_json().await; // answers pings while waiting
    assert_eq!(frame["type"], "token_expired", "{frame}");
    assert_eq!(ws.close_code().await, 4001);
    quick.stop().await;
}

/// The cross-instance test: two server processes on one PostgreSQL database (SQLite serves one
/// process, so this runs on PostgreSQL only).
pub async fn two_instances_deliver_across_each_other(app: &TestApp) {
    let other = app.another_instance().await;
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let mut bea_here = other.ws_for(&bea, "").await;
    let mut bea_there = app.ws_for(&bea, "").await;
    let mut amy_other = other.ws_for(&amy, "").await;
    // Sent through the first instance: Bea's devices on both instances get it, and Amy's
    // device on the second gets the echo.
    let sent = app.send(&amy, &bea, "across").await;
    for ws in [&mut bea_here, &mut bea_there] {
        let frame = ws.next_of("new_message", &["presence_status"]).await;
        assert_eq!(frame["message_id"], sent["id"]);
        assert_eq!(frame["seq"], 1);
    }
    let echo = amy_other
        .next_of("message_sent", &["presence_status"])
        .await;
    assert_eq!(echo["message_id"], sent["id"]);
    // Fleeting events cross too: Amy types on the second instance, Bea hears it on the first.
    amy_other
        .send_json(json!({"type": "typing", "recipient_id": bea.id}))
        .await;
    let typing = bea_there.next_of("typing", &["presence_status"]).await;
    assert_eq!(typing["user_id"], amy.id);
    // Presence is shared: Amy is only connected to the second instance.
    let (_, body) = app
        .get(&format!("/api/users/{}/presence", amy.id), Some(&bea.token))
        .await;
    assert_eq!(body["status"], "online", "{body}");
    // Deactivating Bea through the first instance closes her sockets on both.
    let admin = app
        .user_with_role("root_rt", messaging_domain::user::Role::Admin)
        .await;
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", bea.id),
            &admin.token,
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(bea_here.close_code().await, 1008);
    assert_eq!(bea_there.close_code().await, 1008);
    drop(amy_other);
    other.stop().await;
}

pub async fn deactivating_a_user_closes_their_sockets(app: &TestApp) {
    let admin = app
        .user_with_role("root_rt", messaging_domain::user::Role::Admin)
        .await;
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let mut amy_ws = app.ws_for(&amy, "").await;
    let mut bea_phone = app.ws_for(&bea, "").await;
    let mut bea_laptop = app.ws_for(&bea, "").await;
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", bea.id),
            &admin.token,
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(bea_phone.close_code().await, 1008);
    assert_eq!(bea_laptop.close_code().await, 1008);
    // Her token, still unexpired, opens no new socket; Amy's socket is untouched.
    let mut again = app.ws(&format!("/ws?token={}", bea.token), &[]).await;
    assert_eq!(again.close_code().await, 1008);
    amy_ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(amy_ws.next_json().await["type"], "pong");
}

/// A consumer that stops reading is cut off (4008) once its queue is full, and resumes with
/// `since` without losing anything. The socket is raw TCP with a tiny receive buffer, so the
/// kernel cannot hide the slowness.
pub async fn a_slow_consumer_is_cut_off_and_resumes_without_loss(app: &TestApp) {
    let slow = TestApp::start_like(app, |s| {
        s.ws_queue = 8;
        s.tcp_send_buffer = Some(16 * 1024);
    })
    .await;
    let amy = slow.register("amy").await;
    let bea = slow.register("bea").await;
    let mut raw =
        crate::raw_ws::RawWs::connect(&slow.base, &format!("/ws?token={}", bea.token)).await;
    // Connected (and registered) before anything is sent.
    let (hello, _) = raw.read_frames(1).await;
    assert_eq!(hello[0]["type"], "connected");
    let body = "x".repeat(1900);
    let mut sent_ids = Vec::new();
    for i in 0..400 {
        let sent = slow.send(&amy, &bea, &format!("{i} {body}")).await;
        sent_ids.push(sent["id"].as_i64().unwrap());
    }
    // Now read what was delivered before the cut, then the close code and reason.
    let (frames, close) = raw.read_until_close().await;
    let (code, reason) = close.expect("a close frame");
    assert_eq!(code, 4008, "the slow consumer is cut off ({reason})");
    let delivered: Vec<&Value> = frames.iter().collect();
    let last_seq = delivered.last().map_or(0, |f| f["seq"].as_u64().unwrap());
    assert!(delivered.len() < sent_ids.len(), "cut off before the end");
    // The reason names the last entry the client received, which is where it resumes.
    let resume_from: u64 = reason
        .rsplit_once("since=")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("no since=N in {reason:?}"));
    assert_eq!(resume_from, last_seq, "{reason}");

    // Resume from the reason's number: exactly the rest, in order.
    let mut ws = slow
        .ws(&format!("/ws?token={}&since={resume_from}", bea.token), &[])
        .await;
    assert_eq!(ws.next_json().await["type"], "connected");
    let mut seen: Vec<i64> = delivered
        .iter()
        .map(|f| f["message_id"].as_i64().unwrap())
        .collect();
    let mut seqs: Vec<u64> = delivered
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    while seen.len() < sent_ids.len() {
        let frame = ws.next_json().await;

        seen.push(frame["message_id"].as_i64().unwrap());
        seqs.push(frame["seq"].as_u64().unwrap());
    }
    assert_eq!(seen, sent_ids, "every message exactly once, in order");
    assert_eq!(seqs, (1..=sent_ids.len() as u64).collect::<Vec<_>>());
    ws.expect_silence(200).await;
    slow.stop().await;
}

/// A delivery to a socket on the instance that made the change costs no database read: the
/// entry is handed over in-process, and the instance's own change announcement (PostgreSQL) does
/// not send the socket back to the store. The same sends to a user with no socket are the
/// baseline.
pub async fn local_deliveries_cost_no_database_reads(app: &TestApp) {
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let cal = app.register("cal").await;
    // Each pair has its conversation already, so both series of sends do the same writes.
    app.send(&amy, &bea, "hello").await;
    app.send(&amy, &cal, "hello").await;
    let mut bea_ws = app.ws_for(&bea, "").await;

    let before = app.store.queries_executed();
    for i in 0..5 {
        app.send(&amy, &bea, &format!("online {i}")).await;
        assert_eq!(bea_ws.next_json().await["message"], format!("online {i}"));
    }
    // Give the announcements time to arrive (and be ignored).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let online = app.store.queries_executed() - before;

    let before = app.store.queries_executed();
    for i in 0..5 {
        app.send(&amy, &cal, &format!("offline {i}")).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let offline = app.store.queries_executed() - before;
    // A replay per delivery would add at least 5 reads (one per message); the slack of 2 covers
    // the background tasks (the presence heartbeat every 30 s) landing in one of the windows.
    assert!(
        online <= offline + 2,
        "queries with the recipient online ({online}) vs offline ({offline})"
    );
}

/// The most a client frame, or a message in fragments, may carry (16 KiB).
const CLIENT_MESSAGE_LIMIT: u64 = 16 * 1024;

/// A header declaring 1 GiB is refused as soon as it is read: the socket closes with 1009 (message
/// too big) after the client wrote a sliver of the promised payload, so nothing of it is waited
/// for or buffered.
pub async fn an_oversized_frame_is_refused_with_1009_as_soon_as_its_header_arrives(app: &TestApp) {
    use crate::raw_ws::{RawWs, client_frame};
    let amy = app.register("amy").await;
    let mut raw = RawWs::connect(&app.base, &format!("/ws?token={}", amy.token)).await;
    let (hello, _) = raw.read_frames(1).await;
    assert_eq!(hello[0]["type"], "connected");
    raw.write(&client_frame(true, 0x1, 1 << 30, &[b'x'; 4096]))
        .await;
    let (_, close) = raw.read_until_close().await;
    assert_eq!(
        close.as_ref().map(|(code, _)| *code),
        Some(1009),
        "{close:?}"
    );

    // One byte over the limit is refused the same way; the limit itself is accepted.
    let mut raw = RawWs::connect(&app.base, &format!("/ws?token={}", amy.token)).await;
    raw.read_frames(1).await;
    let mut ping = br#"{"type":"ping","pad":""#.to_vec();
    ping.resize(CLIENT_MESSAGE_LIMIT as usize - 2, b'x');
    ping.extend_from_slice(br#""}"#);
    raw.write(&client_frame(true, 0x1, CLIENT_MESSAGE_LIMIT, &ping))
        .await;
    let (pong, _) = raw.read_frames(1).await;
    assert_eq!(pong[0]["type"], "pong");
    raw.write(&client_frame(true, 0x1, CLIENT_MESSAGE_LIMIT + 1, b"{"))
        .await;
    let (_, close) = raw.read_until_close().await;
    assert_eq!(
        close.as_ref().map(|(code, _)| *code),
        Some(1009),
        "{close:?}"
    );
}

/// A message sent in fragments (continuation frames) is reassembled and answered; one whose
/// fragments add up to more than the limit is refused with 1009 even though each fragment is
/// small.
pub async fn fragmented_messages_are_reassembled_up_to_the_limit(app: &TestApp) {
    use actix_ws::Item;
    use awc::ws::Message;
    let amy = app.register("amy").await;
    let mut ws = app.ws_for(&amy, "").await;
    ws.send_message(Message::Continuation(Item::FirstText(r#"{"type""#.into())))
        .await;
    ws.send_message(Message::Continuation(Item::Continue(r#":"pi"#.into())))
        .await;
    ws.send_message(Message::Continuation(Item::Last(r#"ng"}"#.into())))
        .await;
    assert_eq!(ws.next_json().await["type"], "pong");

    let piece = "x".repeat(CLIENT_MESSAGE_LIMIT as usize / 2 + 1);
    ws.send_message(Message::Continuation(Item::FirstText(piece.clone().into())))
        .await;
    ws.send_message(Message::Continuation(Item::Last(piece.into())))
        .await;
    assert_eq!(ws.close_code().await, 1009);
}

/// A client's Close frame is answered with a Close frame carrying the same code (RFC 6455 §5.5.1).
pub async fn a_clients_close_is_answered_with_the_same_code(app: &TestApp) {
    use awc::ws::{CloseCode, CloseReason, Message};
    let amy = app.register("amy").await;
    for code in [CloseCode::Normal, CloseCode::Other(4100)] {
        let mut ws = app.ws_for(&amy, "").await;
        ws.send_message(Message::Close(Some(CloseReason {
            code,
            description: Some("bye".into()),
        })))
        .await;
        assert_eq!(ws.close_code().await, u16::from(code));
    }
}

/// Typing and delivery-receipt frames are limited per socket: a flood is cut down (each frame
/// would cost the server a database read), the sender hears `error` `RATE_LIMITED`, and the
/// socket stays open. The floods are far larger than the limits, so they hold however slowly the
/// server works through them.
pub async fn typing_and_receipt_floods_are_limited_per_socket(app: &TestApp) {
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let message = app.send(&amy, &bea, "hello").await["id"].as_i64().unwrap();
    let mut amy_ws = app.ws_for(&amy, "").await;
    let mut bea_ws = app.ws_for(&bea, "").await;

    let typing_sent = 200;
    for _ in 0..typing_sent {
        amy_ws
            .send_json(json!({"type": "typing", "recipient_id": bea.id}))
            .await;
    }
    let limited = errors_until_pong(&mut amy_ws).await;
    assert!(!limited.is_empty(), "no RATE_LIMITED error");
    assert!(
        limited.iter().all(|code| code == "RATE_LIMITED"),
        "{limited:?}"
    );
    let heard = bea_ws
        .frames_until_quiet(500)
        .await
        .iter()
        .filter(|f| f["type"] == "typing")
        .count();
    assert!(
        heard > 0 && heard < typing_sent,
        "Bea heard {heard} typing frames"
    );

    for _ in 0..500 {
        bea_ws
            .send_json(json!({"type": "delivery_receipt", "message_id": message}))
            .await;
    }
    let limited = errors_until_pong(&mut bea_ws).await;
    assert!(!limited.is_empty(), "no RATE_LIMITED error");
    assert!(
        limited.iter().all(|code| code == "RATE_LIMITED"),
        "{limited:?}"
    );
    // The first receipt still counted, once.
    let receipts: Vec<Value> = amy_ws
        .frames_until_quiet(500)
        .await
        .into_iter()
        .filter(|f| f["type"] == "delivery_receipt")
        .collect();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0]["message_id"], message);
}

/// Sends a ping and reads up to its pong; returns the codes of the `error` frames before it.
async fn errors_until_pong(ws: &mut crate::support::WsClient) -> Vec<String> {
    ws.send_json(json!({"type": "ping"})).await;
    let mut codes = Vec::new();
    loop {
        let frame = ws.next_json().await;
        match frame["type"].as_str() {
            Some("pong") => return codes,
            Some("error") => codes.push(frame["code"].as_str().unwrap_or_default().to_owned()),
            _ => {}
        }
    }
}

/// The server's HTTP/1 connections give their read and write buffers back while idle (a patched
/// actix-http, `crates/vendor/actix-http/PATCHED.md`); what arrives after an idle spell is still
/// read whole: a WebSocket frame of the largest size written in slices with pauses between them,
/// then several frames in one write; and on a keep-alive HTTP connection a request whose head
/// and 20 KiB body come in slices, then two requests in one write (pipelined).
pub async fn idle_connections_read_what_comes_next_whole(app: &TestApp) {
    use tokio::io::AsyncWriteExt;

    use crate::raw_ws::{RawWs, client_frame};
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;

    let mut raw = RawWs::connect(&app.base, &format!("/ws?token={}", amy.token)).await;
    let (hello, _) = raw.read_frames(1).await;
    assert_eq!(hello[0]["type"], "connected");
    let mut ping = br#"{"type":"ping","pad":""#.to_vec();
    ping.resize(CLIENT_MESSAGE_LIMIT as usize - 2, b'x');
    ping.extend_from_slice(br#""}"#);
    let frame = client_frame(true, 0x1, CLIENT_MESSAGE_LIMIT, &ping);
    for slice in frame.chunks(frame.len() / 5 + 1) {
        tokio::time::sleep(Duration::from_millis(30)).await;
        raw.write(slice).await;
    }
    let (pong, _) = raw.read_frames(1).await;
    assert_eq!(pong[0]["type"], "pong");
    tokio::time::sleep(Duration::from_millis(30)).await;
    let small = client_frame(true, 0x1, 15, br#"{"type":"ping"}"#);
    raw.write(&[small.clone(), small.clone(), small].concat())
        .await;
    let (pongs, close) = raw.read_frames(3).await;
    assert_eq!(pongs.len(), 3, "{pongs:?} {close:?}");
    assert!(pongs.iter().all(|f| f["type"] == "pong"), "{pongs:?}");

    let host = app.base.trim_start_matches("http://");
    let mut http = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut pending = Vec::new();
    let get = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n");
    http.write_all(get.as_bytes()).await.unwrap();
    assert_eq!(read_http_response(&mut http, &mut pending).await.0, 200);
    let text = "a message after an idle spell ".repeat(40);
    let mut body = json!({"recipient_id": bea.id, "message": text}).to_string();
    body.push_str(&" ".repeat(20 * 1024));
    let post = format!(
        "POST /api/messages HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        amy.token,
        body.len()
    );
    for slice in post.as_bytes().chunks(post.len() / 4 + 1) {
        tokio::time::sleep(Duration::from_millis(30)).await;
        http.write_all(slice).await.unwrap();
    }
    let (status, sent) = read_http_response(&mut http, &mut pending).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["message"], text.trim_end(), "{sent}");
    tokio::time::sleep(Duration::from_millis(30)).await;
    http.write_all(format!("{get}{get}").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_http_response(&mut http, &mut pending).await.0, 200);
    assert_eq!(read_http_response(&mut http, &mut pending).await.0, 200);
    let (_, threads) = app.get("/api/messages/threads", Some(&bea.token)).await;
    assert_eq!(threads.as_array().map(Vec::len), Some(1), "{threads}");
}

/// Reads one HTTP/1.1 response with a `Content-Length` body from `stream` (bytes already read
/// past the previous response wait in `pending`): its status and JSON body (null when empty or
/// not JSON).
async fn read_http_response(
    stream: &mut tokio::net::TcpStream,
    pending: &mut Vec<u8>,
) -> (u16, Value) {
    use tokio::io::AsyncReadExt;
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if pending.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                let body = serde_json::from_slice(&pending[end + 4..end + 4 + length])
                    .unwrap_or(Value::Null);
                pending.drain(..end + 4 + length);
                return (status, body);
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk))
            .await
            .expect("a response within 20 s")
            .unwrap();
        assert!(n > 0, "connection closed before the response was whole");
        pending.extend_from_slice(&chunk[..n]);
    }
}
