//! One dataset of the shipped model, extracted once per run, and one server
//! over it on a loopback port; a raw HTTP/1.1 client to ask it anything,
//! malformed requests included.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use glossa_load::HubOptions;
use glossa_pipeline::{extract, ExtractConfig, Silent};
use glossa_serve::{router, Catalog};

/// What the shipped model's planted value neuron (layer 2, neuron 17) promotes.
pub const PLANTED: [&str; 5] = ["dieta", "diety", "dietą", "dietę", "diecie"];

/// The dataset's name in URLs: its directory's name.
pub const NAME: &str = "tiny";

fn shipped_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models/tiny-polish-gpt2")
}

/// The shipped model's dataset (k = 50, head_k = 100), extracted on first use.
pub fn dataset() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("serve-tests")
            .join(NAME);
        let model = std::fs::canonicalize(shipped_model()).expect("the shipped model");
        let mut config = ExtractConfig::new(model.display().to_string());
        config.out = Some(out.clone());
        config.force = true;
        extract(&config, &HubOptions::from_env(), &Silent).expect("extraction");
        out
    })
}

pub fn catalog() -> Catalog {
    Catalog::open(&[dataset().to_path_buf()], &HubOptions::from_env(), &|_| {}).unwrap()
}

/// The address of a server over [`dataset`], started on first use.
pub fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| serve(catalog()))
}

/// Starts a server over `catalog` on a loopback port, in a thread of its own.
pub fn serve(catalog: Catalog) -> SocketAddr {
    let catalog = Arc::new(catalog);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router(catalog)).await.unwrap();
        });
    });
    receiver.recv().unwrap()
}

/// A response: status, headers (lowercase names), body.
pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// `GET target` (a path and query as sent on the request line).
pub fn get(target: &str) -> Response {
    get_from(server(), target)
}

/// `GET target` of the server at `address`.
pub fn get_from(address: SocketAddr, target: &str) -> Response {
    send_to(
        address,
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// Sends `request` as it is and reads the whole response.
pub fn send(request: &[u8]) -> Response {
    send_to(server(), request)
}

/// Sends `request` to the server at `address` and reads the whole response.
pub fn send_to(address: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request).unwrap();
    let mut raw = Vec::new();
    // The server may close early on a request it refuses; what it sent counts.
    let _ = stream.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    Response {
        status,
        headers: head,
        body: raw[end + 4..].to_vec(),
    }
}
