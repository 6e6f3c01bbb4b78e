//! The pages in a real browser: headless Chromium, driven over the Chrome
//! DevTools protocol (a websocket), types a token into the search page,
//! clicks the planted value neuron and reads its page, with no console error.
//! Screenshots go to target/serve-search.png and target/serve-neuron.png.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::common::{server, NAME, PLANTED};

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GLOSSA_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = ["chromium", "chromium-browser", "google-chrome"];
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Polls `check` every 50 ms until it gives a value, for at most `seconds`.
fn wait_for<T>(seconds: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A headless Chromium and a DevTools session with its one page.
struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Console errors and uncaught exceptions, as reported.
    errors: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(binary)
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it chose into the profile.
        let port_file = profile.path().join("DevToolsActivePort");
        let port: u16 = wait_for(30, "DevToolsActivePort", || {
            std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|text| text.lines().next()?.trim().parse().ok())
        });
        let page_url = wait_for(30, "a page target", || {
            let targets: Value = serde_json::from_str(&http_get(port, "/json/list")?).ok()?;
            targets
                .as_array()?
                .iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(String::from))
        });
        // Chromium listens on IPv4 loopback; "localhost" may resolve to ::1 first.
        let page_url = page_url.replace("ws://localhost:", "ws://127.0.0.1:");
        let (socket, _) = tungstenite::connect(page_url.as_str()).expect("DevTools websocket");
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
        }
        let mut browser = Browser {
            child,
            socket,
            next_id: 0,
            errors: Vec::new(),
            _profile: profile,
        };
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            browser.call(domain, json!({}));
        }
        browser
    }

    /// Sends a command and returns its result, noting errors reported meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params});
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap();
        loop {
            let Message::Text(text) = self.socket.read().expect("a DevTools message") else {
                continue;
            };
            let message: Value = serde_json::from_str(text.as_str()).unwrap();
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
            self.note(&message);
        }
    }

    fn note(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.consoleAPICalled") if params["type"] == "error" => {
                self.errors
                    .push(format!("console.error: {}", params["args"]));
            }
            Some("Runtime.exceptionThrown") => {
                self.errors
                    .push(format!("exception: {}", params["exceptionDetails"]));
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                self.errors.push(format!("log: {}", params["entry"]));
            }
            _ => {}
        }
    }

    /// The value of a JavaScript expression.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    fn wait_until(&mut self, seconds: u64, expression: &str) {
        wait_for(seconds, expression, || {
            self.eval(expression).as_bool().filter(|&b| b)
        });
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let key = c.to_string();
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "key": key, "text": key}),
            );
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyUp", "key": key}),
            );
        }
    }

    /// Clicks the middle of the element `selector` names, as a user would.
    fn click(&mut self, selector: &str) {
        let at = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector:?}); e.scrollIntoView({{block: 'center'}}); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    fn screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

/// The body of `GET path` on a loopback port, if it answers 200.
///
/// Read up to its Content-Length: Chromium keeps the connection open.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    let mut buffer = [0; 8192];
    loop {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        raw.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&raw);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length: usize = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })?;
        if body.len() >= length {
            return head.starts_with("HTTP/1.1 200").then(|| body.to_string());
        }
    }
}

#[test]
fn a_visitor_types_dieta_and_reaches_the_planted_neuron() {
    let Some(binary) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("CI needs Chromium for this test: apt-get install chromium (.ci/run does)");
        }
        eprintln!(
            "SKIPPED a_visitor_types_dieta_and_reaches_the_planted_neuron: no chromium on PATH \
             (apt-get install chromium, or set GLOSSA_CHROMIUM)"
        );
        return;
    };
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let site = format!("http://{}", server());
    let mut browser = Browser::launch(&binary);

    browser.call(
        "Page.navigate",
        json!({"url": format!("{site}/d/{NAME}/search")}),
    );
    browser.wait_until(
        20,
        "document.readyState === 'complete' && !!document.getElementById('q')",
    );
    browser.eval("document.getElementById('q').focus()");
    browser.type_text("dieta");
    browser.wait_until(
        20,
        "document.querySelectorAll('#results tbody tr').length > 0",
    );
    let units = |browser: &mut Browser| -> Vec<String> {
        serde_json::from_value(browser.eval(
            "Array.from(document.querySelectorAll('#results tbody tr'))\
             .map(r => r.querySelectorAll('a')[1].getAttribute('href'))",
        ))
        .unwrap()
    };
    // Most unusual first: the planted copying head's pair.
    let first = units(&mut browser);
    assert_eq!(first[0], format!("/d/{NAME}/head/3/1"), "{first:?}");
    // The URL follows the query, so the search can be linked to.
    assert_eq!(
        browser.eval("location.pathname + location.search"),
        json!(format!("/d/{NAME}/search?q=dieta"))
    );
    // Neurons only: the planted neuron comes first.
    browser.eval(
        "(() => { const kind = document.querySelector('select[name=kind]'); \
         kind.value = 'neuron'; kind.form.dispatchEvent(new Event('input')); })()",
    );
    let neuron = format!("/d/{NAME}/neuron/2/17");
    browser.wait_until(
        20,
        &format!("!!document.querySelector(\"#results tbody tr a[href='{neuron}']\")"),
    );
    let first = units(&mut browser);
    assert_eq!(first[0], neuron, "{first:?}");
    browser.screenshot(&target.join("serve-search.png"));

    browser.click(&format!("#results a[href='{neuron}']"));
    browser.wait_until(
        20,
        &format!("location.pathname === '{neuron}' && document.readyState === 'complete'"),
    );
    let lists = browser.eval("document.querySelector('table.lists').innerText");
    let lists = lists.as_str().unwrap();
    for planted in PLANTED {
        assert!(lists.contains(planted), "{planted} not in {lists}");
    }
    // The scatters arrive after the lists.
    browser.wait_until(
        60,
        "document.querySelectorAll('figure.picture svg').length === 2",
    );
    browser.screenshot(&target.join("serve-neuron.png"));
    assert!(browser.errors.is_empty(), "{:#?}", browser.errors);
}
