//! `turnstile-lab view`: the page written where `--out` says, served over HTTP on
//! 127.0.0.1 with `--serve`, and a clear error for a file that is not a recording.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turnstile-lab"))
        .args(args)
        .output()
        .expect("the lab binary runs")
}

/// A recording of a runtime named `served` whose `block_on` yields once: 2 turns.
fn record(path: &Path) {
    let rt = turnstile::Runtime::builder()
        .name("served")
        .record(path)
        .build()
        .unwrap();
    rt.block_on(turnstile::yield_now());
    drop(rt);
    assert!(path.is_file(), "the recording was written");
}

/// The server, killed (by its own handle) when dropped, even if the test fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn view_serves_its_page_on_localhost() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("run.rec");
    record(&rec);
    let page = dir.path().join("pages/run-page.html");
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_turnstile-lab"))
            .args([
                "view",
                rec.to_str().unwrap(),
                "--out",
                page.to_str().unwrap(),
            ])
            .arg("--serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the lab binary runs"),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let wrote = lines.next().unwrap().unwrap();
    assert!(
        wrote.starts_with(&format!("wrote {} (2 turns)", page.display())),
        "{wrote}"
    );
    let serving = lines.next().unwrap().unwrap();
    let url = serving
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {serving:?}"));
    let addr = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix('/'))
        .unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{url}");

    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("Content-Type: text/html"), "{head}");
    // The viewer, with this recording in it, and the page it wrote to --out.
    assert!(body.contains("<h1>turnstile loop viewer"), "not the viewer");
    assert!(body.contains("<title>turnstile: served (2 turns)</title>"));
    assert!(
        body.contains(r#""runtime":"served""#),
        "the recording's data"
    );
    assert_eq!(body, std::fs::read_to_string(&page).unwrap());
}

#[test]
fn view_says_what_is_wrong_with_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.rec");
    let out = lab(&["view", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read") && err.contains("missing.rec"),
        "{err}"
    );

    let text = dir.path().join("notes.rec");
    std::fs::write(&text, "not a recording").unwrap();
    let out = lab(&["view", text.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a recording"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = lab(&["view", text.to_str().unwrap(), "--port", "8080"]);
    assert!(!out.status.success(), "--port without --serve");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--serve"), "{err}");
}
