//! examples/axum_postgres.rs against a real PostgreSQL: the server is started by
//! `scripts/postgres.sh` (a throwaway cluster on 127.0.0.1, stopped when the test
//! ends), the example's app runs on a turnstile runtime of its own thread, and a hyper
//! client sends it real requests, over HTTP/1.1 and HTTP/2, and checks the rows that
//! come back. Without PostgreSQL the test fails and says which script installs it.
#![cfg(not(miri))]

#[allow(dead_code)] // its `main` is the example's, not the test's
#[path = "../examples/axum_postgres.rs"]
mod app;
#[path = "common/postgres.rs"]
mod postgres;

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use postgres::Postgres;
use turnstile::hyper::TurnstileExecutor;
use turnstile::net::TcpStream;

/// One request over a fresh HTTP/1.1 connection: the status and the body.
async fn request(addr: SocketAddr, method: Method, path: &str, body: &str) -> (StatusCode, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    let _conn = turnstile::spawn(conn);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "turnstile")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[test]
fn the_axum_app_stores_and_returns_rows_in_postgres() {
    let pg = Postgres::start("axum_postgres_pg");
    let settings = app::Settings::new(&pg.url, "127.0.0.1:0").unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (tell, listening) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let rt = turnstile::Runtime::new().unwrap();
        let shutdown = async move {
            let _ = stopped.await;
        };
        rt.block_on(app::run(settings, shutdown, move |addr| {
            tell.send(addr).unwrap();
        }))
    });
    let addr: SocketAddr = match listening.recv() {
        Ok(addr) => addr,
        Err(_) => panic!("the app did not start: {:?}", server.join()),
    };

    let rt = turnstile::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(
            request(addr, Method::GET, "/health", "").await,
            (StatusCode::OK, "ok".into())
        );
        let (status, created) = request(
            addr,
            Method::POST,
            "/users",
            r#"{"name": "Ada", "email": "ada@example.com"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let created: serde_json::Value = serde_json::from_str(&created).unwrap();
        assert_eq!(created["name"], "Ada");
        assert_eq!(created["email"], "ada@example.com");
        let id = created["id"].as_i64().unwrap();

        let (status, fetched) = request(addr, Method::GET, &format!("/users/{id}"), "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&fetched).unwrap(),
            created
        );
        assert_eq!(
            request(addr, Method::GET, "/users/999999", "").await.0,
            StatusCode::NOT_FOUND
        );
        // Bad JSON is axum's own rejection, not a server error.
        assert!(request(addr, Method::POST, "/users", "{")
            .await
            .0
            .is_client_error());
        assert_eq!(
            request(addr, Method::GET, "/slow", "").await,
            (StatusCode::OK, "slow".into())
        );

        // A second row over HTTP/2, on the same server.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TurnstileExecutor, stream)
            .await
            .unwrap();
        let _conn = turnstile::spawn(conn);
        let post = Request::post(format!("http://{addr}/users"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"name": "Grace", "email": "grace@example.com"}"#,
            )))
            .unwrap();
        let response = sender.send_request(post).await.unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        assert_eq!(response.status(), StatusCode::CREATED);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let grace: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(grace["name"], "Grace");
        assert!(grace["id"].as_i64().unwrap() > id);
    });

    // The client's connections close with its runtime; then the server drains and ends.
    drop(rt);
    stop.send(()).unwrap();
    server.join().unwrap().unwrap();
}
