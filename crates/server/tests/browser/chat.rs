//! Chatting: registration, live delivery with typing and receipts, the echo to another window of
//! the sender, catching up after a dropped connection, edits and deletes, search.

use messaging_domain::ports::People;
use serde_json::{Value, json};

use crate::harness::{Browser, Driver};
use crate::support::{PASSWORD, TestApp};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

async fn register(browser: &Browser, username: &str, first_name: &str) {
    browser.fill("#reg-username", username).await;
    browser
        .fill("#reg-email", &format!("{username}@example.com"))
        .await;
    browser.fill("#reg-first", first_name).await;
    browser.fill("#reg-password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "!document.querySelector('#bar').hidden && location.hash === '#/' && document.querySelector('.chat-layout')",
            "the app after registering",
        )
        .await;
}

async fn id_of(app: &TestApp, username: &str) -> i64 {
    app.store
        .user_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
        .0
}

/// The bodies of the messages shown in the open conversation, in order.
async fn bodies(browser: &Browser) -> Value {
    browser
        .js(
            "return Array.from(document.querySelectorAll('.messages .msg .body')).map(e => e.textContent)",
            vec![],
        )
        .await
}

pub async fn two_people_register_and_chat_live_with_a_third_window_echoing(
    app: &TestApp,
    driver: &mut Driver,
) {
    let alice = driver.browser(&app.base, WIDTH, HEIGHT).await;
    alice.open("/").await;
    alice
        .wait_until(
            "document.querySelector('#login-username')",
            "the login form",
        )
        .await;
    alice.assert_accessible("the login page").await;
    alice.click_text("a", "Create an account").await;
    alice
        .wait_until(
            "document.querySelector('#reg-username')",
            "the registration form",
        )
        .await;
    alice.assert_accessible("the registration page").await;
    register(&alice, "alice", "Alice").await;

    let bob = driver.browser(&app.base, WIDTH, HEIGHT).await;
    bob.open("/#/register").await;
    register(&bob, "bob", "Bob").await;
    bob.assert_accessible("an empty conversation list").await;
    let bob_id = id_of(app, "bob").await;

    // Alice writes to Bob by his user name.
    alice.open("/#/new").await;
    alice
        .wait_until(
            "document.querySelector('#to-username')",
            "the new-conversation page",
        )
        .await;
    alice.assert_accessible("the new-conversation page").await;
    alice.fill("#to-username", "bob").await;
    alice.fill("#to-message", "Hello Bob!").await;
    alice.click("#to-form button[type=submit]").await;
    alice.wait_for_text(".msg.mine .body", "Hello Bob!").await;

    // Bob is elsewhere: the message is delivered (his device got it) but not read.
    bob.wait_until(
        "document.title === '(1) Messages'",
        "the unread count in the title",
    )
    .await;
    bob.wait_for_text(".thread .badge", "1").await;
    alice
        .wait_until(
            "document.querySelector('.msg.mine [data-status=delivered]')",
            "the delivered mark",
        )
        .await;
    bob.wait_for_text("#notif-badge", "1").await;
    bob.click("a[data-nav='#/notifications']").await;
    bob.wait_for_text(".notification-text", "New message from Alice: Hello Bob!")
        .await;
    bob.assert_accessible("the notification list").await;

    // Bob opens the conversation: it is read, and Alice sees so.
    bob.click_text(".notification a", "Hello Bob!").await;
    bob.wait_for_text(".msg.theirs .body", "Hello Bob!").await;
    bob.assert_accessible("a conversation").await;
    alice
        .wait_until(
            "document.querySelector('.msg.mine [data-status=read]')",
            "the read mark",
        )
        .await;
    bob.wait_until(
        "document.title === 'Messages'",
        "the title without unread messages",
    )
    .await;

    // Alice types: Bob sees it. Shift+Enter breaks the line, Enter sends.
    let compose = alice.element("#compose").await;
    compose.send_keys("Are you there?").await.unwrap();
    bob.wait_for_text(".typing", "Alice is typing").await;
    compose
        .send_keys("\u{E008}\u{E007}\u{E000}Second line\u{E007}")
        .await
        .unwrap();
    bob.wait_for_text(".msg.theirs .body", "Are you there?\nSecond line")
        .await;
    bob.wait_until(
        "document.querySelector('.typing').textContent === ''",
        "the typing line to clear",
    )
    .await;
    alice
        .wait_until(
            "Array.from(document.querySelectorAll('.msg.mine')).pop().querySelector('[data-status=read]')",
            "the second message read",
        )
        .await;

    // A third window, Alice's again: her own messages arrive there as she sends them.
    let alice_again = driver.browser(&app.base, WIDTH, HEIGHT).await;
    alice_again.log_in("alice", PASSWORD).await;
    alice_again.open_conversation(bob_id).await;
    alice_again
        .wait_for_text(".msg.theirs .body, .msg.mine .body", "Second line")
        .await;
    alice.send_message("Echo to my other window").await;
    alice_again
        .wait_for_text(".msg.mine .body", "Echo to my other window")
        .await;
    bob.wait_for_text(".msg.theirs .body", "Echo to my other window")
        .await;
    // Exactly once in each window: the optimistic copy settled, the echo did not double it.
    for browser in [&alice, &alice_again, &bob] {
        let shown = bodies(browser).await;
        let count = shown
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| *b == "Echo to my other window")
            .count();
        assert_eq!(count, 1, "{shown}");
    }
    alice_again.close().await;
    alice.close().await;
    bob.close().await;
}

pub async fn a_dropped_connection_catches_up_exactly_on_reconnect(
    app: &TestApp,
    driver: &mut Driver,
) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.send(&alice, &bob, "first").await;
    let browser = driver.browser(&app.base, WIDTH, HEIGHT).await;
    browser.log_in("bob", PASSWORD).await;
    browser.open_conversation(alice.id).await;
    browser.wait_for_text(".msg.theirs .body", "first").await;

    // The network goes away (as the browser reports it): the page says it is reconnecting.
    browser
        .js(
            "window.dispatchEvent(new Event('offline')); return true;",
            vec![],
        )
        .await;
    browser.wait_for_text("#status", "Reconnecting").await;
    for n in 1..=3 {
        app.send(&alice, &bob, &format!("while away {n}")).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(bodies(&browser).await, json!(["first"]));

    // Back online: exactly what was missed, in order, once.
    browser
        .js(
            "window.dispatchEvent(new Event('online')); return true;",
            vec![],
        )
        .await;
    browser
        .wait_for_text(".msg.theirs .body", "while away 3")
        .await;
    browser
        .wait_until(
            "document.querySelector('#status').hidden",
            "the reconnecting line to go",
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        bodies(&browser).await,
        json!(["first", "while away 1", "while away 2", "while away 3"])
    );
    browser.close().await;
}

pub async fn edits_and_deletes_for_everyone_reach_the_other_browser(
    app: &TestApp,
    driver: &mut Driver,
) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.send(&bob, &alice, "Hi Alice").await;
    let a = driver.browser(&app.base, WIDTH, HEIGHT).await;
    a.log_in("alice", PASSWORD).await;
    a.open_conversation(bob.id).await;
    let b = driver.browser(&app.base, WIDTH, HEIGHT).await;
    b.log_in("bob", PASSWORD).await;
    b.open_conversation(alice.id).await;

    a.send_message("Meet at 5").await;
    b.wait_for_text(".msg.theirs .body", "Meet at 5").await;
    a.wait_until(
        "document.querySelector('.msg.mine[data-id] details.actions')",
        "the sent message",
    )
    .await;

    // Alice edits within the window, from the keyboard.
    a.click(".msg.mine details.actions summary").await;
    a.click_text(".msg.mine .action-list button", "Edit").await;
    let editor = a.element(".msg.mine .edit-box").await;
    editor.clear().await.unwrap();
    editor.send_keys("Meet at 6\u{E007}").await.unwrap();
    b.wait_for_text(".msg.theirs .body", "Meet at 6").await;
    b.wait_for_text(".msg.theirs .edited", "edited").await;
    b.assert_accessible("a conversation with an edited message")
        .await;

    // Then deletes it for everyone.
    a.click(".msg.mine details.actions summary").await;
    a.click_text(".msg.mine .action-list button", "Delete for everyone")
        .await;
    b.wait_for_text(".msg.theirs .body.gone", "This message was deleted.")
        .await;
    let shown = bodies(&b).await;
    assert!(!shown.to_string().contains("Meet at"), "{shown}");
    a.close().await;
    b.close().await;
}

pub async fn search_finds_a_message_and_opens_it_in_its_conversation(
    app: &TestApp,
    driver: &mut Driver,
) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.send(&alice, &bob, "The pineapple plan is on").await;
    // Enough later messages that the match is on an older page of the history.
    for n in 0..40 {
        app.send(&alice, &bob, &format!("filler {n}")).await;
    }
    let browser = driver.browser(&app.base, WIDTH, HEIGHT).await;
    browser.log_in("bob", PASSWORD).await;
    browser.open("/#/search").await;
    browser.fill("#search-q", "pineapple\u{E007}").await;
    browser
        .wait_for_text("#search-results mark", "pineapple")
        .await;
    browser
        .wait_for_text("[role=status]", "1 message found")
        .await;
    browser.assert_accessible("search results").await;
    browser.click("#search-results a.result").await;
    browser
        .wait_for_text(".msg.focused .body", "The pineapple plan is on")
        .await;
    let focused = browser
        .js(
            "return document.activeElement.classList.contains('focused')",
            vec![],
        )
        .await;
    assert_eq!(focused, json!(true));
    browser.close().await;
}
