//! Debian's chromium driven through chromium-driver (WebDriver) with fantoccini: one driver
//! process per test, one fresh profile directory per browser, headless, as root (`--no-sandbox`).
//! Waiting is done by polling a JavaScript condition, so a test waits exactly as long as the page
//! needs and fails with what the page showed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Where Debian puts the browser and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page gets to show what a test waits for.
const WAIT: Duration = Duration::from_secs(15);

/// axe-core, vendored (see `vendor/VENDORED.md`).
const AXE: &str = include_str!("vendor/axe.min.js");
const AXE_SHA256: &str = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c";

/// A running chromedriver; stopped (by its own process id) when dropped.
pub struct Driver {
    child: Child,
    url: String,
    dirs: Vec<PathBuf>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Driver {
    /// Starts chromedriver, or `None` when chromium is not installed and the browser tests are
    /// not required (`MESSAGING_REQUIRE_BROWSER=1`, which `cargo xtask ci` sets, makes its
    /// absence a failure).
    pub fn start() -> Option<Self> {
        // `cargo xtask ci` runs these tests in a step of their own, one at a time.
        if std::env::var("MESSAGING_SKIP_BROWSER").is_ok_and(|v| v == "1") {
            eprintln!("SKIPPED: the browser tests run in their own CI step");
            return None;
        }
        let installed = Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file();
        if !installed {
            let required = std::env::var("MESSAGING_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "the browser tests are required but {CHROMIUM} or {CHROMEDRIVER} is missing \
                 (apt-get install chromium chromium-driver)"
            );
            eprintln!("SKIPPED: chromium or chromium-driver is not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dirs: Vec::new(),
        })
    }

    /// A new headless browser with a fresh profile, `width` × `height` pixels.
    pub async fn browser(&mut self, base: &str, width: u32, height: u32) -> Browser {
        let dir = std::env::temp_dir().join(format!("messaging-browser-{}", uuid::Uuid::new_v4()));
        let downloads = dir.join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        self.dirs.push(dir.clone());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--hide-scrollbars",
                    format!("--user-data-dir={}", dir.join("profile").display()),
                    format!("--window-size={width},{height}"),
                ],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        // The driver listens on localhost: plain HTTP, no TLS stack to build.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a browser session");
        // Headless windows may start at another size than asked.
        let _ = client.set_window_size(width, height).await;
        Browser {
            client,
            base: base.to_owned(),
            downloads,
        }
    }
}

/// One browser window on the app.
pub struct Browser {
    pub client: Client,
    base: String,
    pub downloads: PathBuf,
}

impl Browser {
    /// Opens a page of the app (`/`, `/#/search`, ...) and waits until the client has booted.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
        self.wait_until(
            "document.body.dataset.ready === 'true'",
            "the client to boot",
        )
        .await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Waits until the JavaScript expression `condition` is truthy; on timeout fails with the
    /// page's text.
    pub async fn wait_until(&self, condition: &str, what: &str) {
        let script =
            format!("try {{ return Boolean({condition}); }} catch (e) {{ return false; }}");
        let started = Instant::now();
        loop {
            if self.client.execute(&script, vec![]).await.unwrap() == Value::Bool(true) {
                return;
            }
            if started.elapsed() > WAIT {
                let text = self
                    .js("return document.body.innerText.slice(0, 3000)", vec![])
                    .await;
                panic!("waited {WAIT:?} for {what} ({condition}); the page shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until an element matching `css` contains `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let condition = format!(
            "Array.from(document.querySelectorAll({css})).some(e => e.textContent.includes({text}))",
            css = json!(css),
            text = json!(text),
        );
        self.wait_until(&condition, &format!("{css} to show {text:?}"))
            .await;
    }

    /// Waits for an element and returns it.
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_until(
            &format!("document.querySelector({})", json!(css)),
            &format!("an element {css}"),
        )
        .await;
        self.client.find(Locator::Css(css)).await.unwrap()
    }

    /// Types into a field (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.element(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks an element. A live page redraws messages as receipts arrive, so an element found a
    /// moment ago may have been replaced: look it up again then.
    pub async fn click(&self, css: &str) {
        for attempt in 0.. {
            match self.element(css).await.click().await {
                Ok(()) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && attempt < 5 =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot click {css}: {e}"),
            }
        }
    }

    /// Clicks the first element matching `css` whose text contains `text`.
    pub async fn click_text(&self, css: &str, text: &str) {
        self.wait_for_text(css, text).await;
        let done = self
            .js(
                "const e = Array.from(document.querySelectorAll(arguments[0])).find(e => e.textContent.includes(arguments[1])); if (!e) return false; e.scrollIntoView({block: 'center'}); e.click(); return true;",
                vec![json!(css), json!(text)],
            )
            .await;
        assert_eq!(done, Value::Bool(true), "no {css} with {text:?} to click");
    }

    /// Logs in through the login form.
    pub async fn log_in(&self, username: &str, password: &str) {
        self.open("/#/login").await;
        self.fill("#login-username", username).await;
        self.fill("#login-password", password).await;
        self.click("form button[type=submit]").await;
        // Logged in once the app has moved on to the conversation list (it routes after the
        // bar shows, so navigating earlier would race it).
        self.wait_until(
            "!document.querySelector('#bar').hidden && location.hash === '#/' && document.querySelector('.chat-layout')",
            "the app after logging in",
        )
        .await;
    }

    /// Opens the conversation with a user and waits for its history.
    pub async fn open_conversation(&self, other_id: i64) {
        self.client
            .goto(&format!("{}/#/c/{other_id}", self.base))
            .await
            .unwrap();
        self.wait_until(
            "document.body.dataset.ready === 'true' && document.querySelector('#compose')",
            "the conversation",
        )
        .await;
    }

    /// Writes a message in the open conversation and sends it with Enter.
    pub async fn send_message(&self, text: &str) {
        let compose = self.element("#compose").await;
        compose.send_keys(text).await.unwrap();
        compose.send_keys("\u{E007}").await.unwrap();
    }

    /// Runs axe-core on the page as it is and fails on any serious or critical violation.
    pub async fn assert_accessible(&self, page: &str) {
        let loaded = self
            .js("return typeof window.axe === 'object'", vec![])
            .await;
        if loaded != Value::Bool(true) {
            // Injected through WebDriver, not through the page: the page's CSP does not apply.
            self.js(&format!("{AXE}\n;return true;"), vec![]).await;
        }
        let violations = self
            .js(
                "return axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})));",
                vec![],
            )
            .await;
        assert_eq!(
            violations,
            json!([]),
            "axe-core found serious or critical violations on {page}"
        );
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Ends the session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// The vendored axe-core is the file its record names.
pub fn check_axe_checksum() {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(AXE.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex, AXE_SHA256,
        "vendor/axe.min.js differs from VENDORED.md"
    );
}
