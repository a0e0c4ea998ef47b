//! cargo run -p turnstile --features hyper,tokio-io,tower --example axum_postgres
//!
//! An axum app on turnstile, as a tokio user writes it: shared state, JSON routes,
//! tower middleware, and a small pool of tokio-postgres connections, served with
//! `turnstile::hyper::serve`. tokio-postgres reads and writes turnstile's `TcpStream`s
//! through tokio's I/O traits (the `tokio-io` feature): no `compat()` wrapper, and no
//! tokio runtime (tokio-postgres is built without its `runtime` feature, so the
//! connection is opened with `connect_raw` over a socket of turnstile's).
//!
//! Configuration, from the environment:
//! - `DATABASE_URL` (required): `postgres://USER@HOST:PORT/DB` (`scripts/postgres.sh
//!   start DIR PORT` starts a throwaway server and prints one);
//! - `ADDR` (default `127.0.0.1:0`): where to listen; the first line printed is
//!   `listening on http://ADDR`;
//! - `FLIGHT_DIR`: turns the flight recorder on, writing its traces there;
//! - `WATCHDOG_MS`: the watchdog's threshold, in milliseconds.
//!
//! Routes: `GET /health`, `POST /users` (`{"name": .., "email": ..}`: inserts, answers
//! the row), `GET /users/{id}`, and `GET /slow`, a handler that blocks the loop for
//! 50 ms on purpose (a `std::thread::sleep` with no `.await`: what a stall looks like).

use std::io::Write;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};
use tower::limit::ConcurrencyLimitLayer;
use turnstile::net::{TcpListener, TcpStream, UnixStream};

/// Connections in the pool.
const POOL: usize = 4;

/// A few clients, handed out in turn: a tokio-postgres client pipelines the queries of
/// every request that holds it, so a small pool shared round-robin is enough.
struct Pool {
    clients: Vec<Client>,
    next: AtomicUsize,
}

impl Pool {
    /// Opens `size` connections to `config`'s first host, each driven by a task of
    /// its own named "postgres".
    async fn connect(config: &Config, size: usize) -> Result<Pool, String> {
        let mut clients = Vec::with_capacity(size);
        for _ in 0..size {
            clients.push(connect(config).await?);
        }
        Ok(Pool {
            clients,
            next: AtomicUsize::new(0),
        })
    }

    fn get(&self) -> &Client {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
        &self.clients[i]
    }
}

/// One connection, over a turnstile socket: TCP, or a Unix socket for a `host=/dir`.
async fn connect(config: &Config) -> Result<Client, String> {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let client = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => {
            let stream = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| format!("cannot connect to PostgreSQL at {host}:{port}: {e}"))?;
            stream.set_nodelay(true).ok();
            let (client, connection) = config
                .connect_raw(stream, NoTls)
                .await
                .map_err(|e| format!("PostgreSQL refused the connection: {e}"))?;
            spawn_connection(connection);
            client
        }
        Some(Host::Unix(dir)) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            let stream = UnixStream::connect(&path)
                .await
                .map_err(|e| format!("cannot connect to PostgreSQL at {}: {e}", path.display()))?;
            let (client, connection) = config
                .connect_raw(stream, NoTls)
                .await
                .map_err(|e| format!("PostgreSQL refused the connection: {e}"))?;
            spawn_connection(connection);
            client
        }
        None => return Err("DATABASE_URL names no host".into()),
    };
    Ok(client)
}

/// The task that drives one connection's socket (tokio-postgres's `Connection`).
fn spawn_connection<F>(connection: F)
where
    F: std::future::Future<Output = Result<(), tokio_postgres::Error>> + 'static,
{
    // Detached: it ends when its client is dropped or the server goes away.
    let _driver = turnstile::task::Builder::new()
        .name("postgres")
        .spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("a PostgreSQL connection failed: {e}");
            }
        });
}

type AppState = Arc<Pool>;

#[derive(Deserialize)]
struct NewUser {
    name: String,
    email: String,
}

#[derive(Serialize)]
struct User {
    id: i64,
    name: String,
    email: String,
}

impl From<&tokio_postgres::Row> for User {
    fn from(row: &tokio_postgres::Row) -> User {
        User {
            id: row.get(0),
            name: row.get(1),
            email: row.get(2),
        }
    }
}

/// A database error, answered 500 with its text.
struct DbError(tokio_postgres::Error);

impl IntoResponse for DbError {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("database error: {}", self.0),
        )
            .into_response()
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> DbError {
        DbError(e)
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn create_user(
    State(pool): State<AppState>,
    Json(user): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), DbError> {
    let row = pool
        .get()
        .query_one(
            "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email",
            &[&user.name, &user.email],
        )
        .await?;
    Ok((StatusCode::CREATED, Json(User::from(&row))))
}

async fn get_user(State(pool): State<AppState>, Path(id): Path<i64>) -> Result<Response, DbError> {
    let row = pool
        .get()
        .query_opt("SELECT id, name, email FROM users WHERE id = $1", &[&id])
        .await?;
    Ok(match row {
        Some(row) => Json(User::from(&row)).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no user {id}")).into_response(),
    })
}

/// Blocks the loop on purpose: no `.await` in it, so every other request waits.
async fn slow() -> &'static str {
    std::thread::sleep(Duration::from_millis(50));
    "slow"
}

fn app(pool: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/users", post(create_user))
        .route("/users/{id}", get(get_user))
        .route("/slow", get(slow))
        .with_state(pool)
        // tower middleware, as on tokio: a request timeout on turnstile's timers, and
        // tower's concurrency limit (a tokio::sync semaphore: no runtime needed).
        .layer(turnstile::tower::TimeoutLayer::new(Duration::from_secs(10)))
        .layer(ConcurrencyLimitLayer::new(256))
}

/// The environment's configuration, or what is wrong with it.
pub struct Settings {
    /// Where PostgreSQL is.
    pub database: Config,
    /// Where to listen.
    pub addr: String,
    flight_dir: Option<String>,
    watchdog: Option<Duration>,
}

impl Settings {
    /// PostgreSQL at `url`, listening on `addr`, no flight recorder, no watchdog.
    pub fn new(url: &str, addr: &str) -> Result<Settings, String> {
        let database =
            Config::from_str(url).map_err(|e| format!("DATABASE_URL is not a valid URL: {e}"))?;
        Ok(Settings {
            database,
            addr: addr.to_string(),
            flight_dir: None,
            watchdog: None,
        })
    }
}

fn settings() -> Result<Settings, String> {
    let url = std::env::var("DATABASE_URL").map_err(|_| {
        "DATABASE_URL is not set: give a PostgreSQL URL, such as \
         postgres://turnstile@127.0.0.1:5432/turnstile \
         (`bash scripts/postgres.sh start DIR PORT` starts a server and prints one)"
            .to_string()
    })?;
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let watchdog = match std::env::var("WATCHDOG_MS") {
        Ok(ms) => Some(Duration::from_millis(ms.parse().map_err(|_| {
            format!("WATCHDOG_MS must be a number of milliseconds, not {ms:?}")
        })?)),
        Err(_) => None,
    };
    Ok(Settings {
        flight_dir: std::env::var("FLIGHT_DIR").ok(),
        watchdog,
        ..Settings::new(&url, &addr)?
    })
}

fn main() -> ExitCode {
    let settings = match settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("axum_postgres: {e}");
            return ExitCode::from(2);
        }
    };
    let mut builder = turnstile::Runtime::builder().name("axum_postgres");
    if let Some(dir) = &settings.flight_dir {
        builder = builder
            .flight_recorder(Duration::from_secs(2))
            .flight_recorder_dir(dir);
    }
    if let Some(period) = settings.watchdog {
        builder = builder.watchdog(period);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("axum_postgres: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = async {
        let _ = turnstile::signal::ctrl_c().await;
    };
    let listening = |addr| {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "listening on http://{addr}");
        let _ = stdout.flush();
    };
    match rt.block_on(run(settings, shutdown, listening)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum_postgres: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The app: the pool, the table, then the server until `shutdown`; `listening` is
/// told the address once the listener is bound. (tests/axum_postgres.rs runs it too.)
pub async fn run(
    settings: Settings,
    shutdown: impl std::future::Future<Output = ()> + 'static,
    listening: impl FnOnce(std::net::SocketAddr),
) -> Result<(), String> {
    let pool = Pool::connect(&settings.database, POOL).await?;
    pool.get()
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS users (
                id BIGSERIAL PRIMARY KEY,
                name TEXT NOT NULL,
                email TEXT NOT NULL
            )",
        )
        .await
        .map_err(|e| format!("cannot create the users table: {e}"))?;

    let listener = TcpListener::bind(&settings.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
    listening(listener.local_addr().map_err(|e| e.to_string())?);
    turnstile::hyper::serve(listener, app(Arc::new(pool)))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("the listener failed: {e}"))
}
