//! `turnstile-lab view FILE`: a recording (or a flight recorder's file) as one
//! self-contained HTML page that steps through the run turn by turn: the loop's steps,
//! the ready queue, the task being polled with its async stack, the waiting tasks
//! grouped by what they wait for, each wake as an arrow from its source, the counters
//! so far, a timeline of every turn, and a line in plain words that says why.
//!
//! The page's script, styles and data are inlined (no network access): the recording
//! goes in packed, six numbers per event, and the page's script
//! (`lab/assets/viewer.js`) replays it from checkpoints, so that a step is instant
//! however many turns it has.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use turnstile::probes::{EventKind, Recording, WakeSource};

const TEMPLATE: &str = include_str!("../assets/viewer.html");
const STYLE: &str = include_str!("../assets/viewer.css");
const SCRIPT: &str = include_str!("../assets/viewer.js");

/// The knobs of `view`.
#[derive(Clone, Debug, clap::Args)]
pub struct ViewArgs {
    /// The recording (`TURNSTILE_RECORD=FILE`, `Builder::record`) or a flight
    /// recorder's trace file.
    pub file: PathBuf,
    /// Where the page goes: a file ending in `.html`, or a directory (the page is
    /// then FILE's name with `.html` in it); by default FILE's path with `.html`.
    #[arg(long, value_name = "PAGE")]
    pub out: Option<PathBuf>,
    /// Serve the page on 127.0.0.1 (on `--port`) and print its URL, until interrupted,
    /// instead of only writing it.
    #[arg(long)]
    pub serve: bool,
    /// The port for `--serve` (0: any free one).
    #[arg(long, default_value_t = 0, requires = "serve")]
    pub port: u16,
}

/// Runs `view`: writes the page to `--out` (a file ending in `.html`, or a
/// directory; by default the recording's path with `.html`), then serves it if asked.
///
/// # Errors
/// If the recording cannot be read or is not one, the page cannot be written, or
/// the port cannot be listened on.
pub fn run(args: &ViewArgs) -> anyhow::Result<()> {
    let page_path = page_path(&args.file, args.out.as_deref());
    let page = write_page(&args.file, &page_path)?;
    println!(
        "wrote {} ({} turns); open it in a browser",
        page_path.display(),
        page.turns
    );
    if args.serve {
        serve(&page.html, args.port)?;
    }
    Ok(())
}

/// Where the page goes: `out` if it names an `.html` file, `out/NAME.html` for a
/// directory, or the recording's own path with `.html` when `out` is `None`.
fn page_path(file: &Path, out: Option<&Path>) -> PathBuf {
    let beside = file.with_extension("html");
    match out {
        None => beside,
        Some(out) if out.extension().is_some_and(|e| e == "html" || e == "htm") => {
            out.to_path_buf()
        }
        Some(dir) => dir.join(beside.file_name().unwrap_or_default()),
    }
}

/// A page made from a recording.
#[derive(Debug)]
pub struct Page {
    /// The page's HTML.
    pub html: String,
    /// Turns it steps through.
    pub turns: u64,
}

/// Reads the recording (or flight file) at `recording` and writes its page to `out`,
/// creating the directory if needed.
///
/// # Errors
/// If the recording cannot be read or is not one, or the page cannot be written.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let rec = dir.path().join("run.rec");
/// let rt = turnstile::Runtime::builder().record(&rec).build()?;
/// rt.block_on(turnstile::yield_now());
/// drop(rt);
/// let page = turnstile_lab::view::write_page(&rec, &dir.path().join("run.html"))?;
/// assert_eq!(page.turns, 2);
/// assert!(page.html.contains("turnstile loop viewer"));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn write_page(recording: &Path, out: &Path) -> anyhow::Result<Page> {
    let rec = Recording::read(recording)?;
    write_recording_page(&rec, out)
}

/// Writes the page of `rec` (a recording in memory: `Runtime::recording`) to `out`,
/// creating the directory if needed.
///
/// # Errors
/// If the page cannot be written.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let rt = turnstile::Runtime::builder()
///     .probes(turnstile::probes::Level::Trace)
///     .build()?;
/// rt.block_on(turnstile::yield_now());
/// let out = dir.path().join("run.html");
/// let page = turnstile_lab::view::write_recording_page(&rt.recording(), &out)?;
/// assert_eq!(page.turns, 2);
/// assert!(std::fs::read_to_string(&out)?.contains("turnstile loop viewer"));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn write_recording_page(rec: &Recording, out: &Path) -> anyhow::Result<Page> {
    let page = Page {
        html: page(rec),
        turns: rec.turns(),
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(out, &page.html).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(page)
}

/// The page of a recording, as HTML.
///
/// ```
/// let rec = turnstile::probes::Recording::from_log("demo", Default::default());
/// let html = turnstile_lab::view::page(&rec);
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(!html.contains("http://") && !html.contains("https://"));
/// ```
pub fn page(rec: &Recording) -> String {
    let data = pack(rec);
    // Inside a <script> element, only "</" could end it early.
    let data = data.replace("</", "<\\/");
    let title = format!("{} ({} turns)", rec.runtime, rec.turns());
    TEMPLATE
        .replace("__TITLE__", &html_escape(&title))
        .replace("__STYLE__", STYLE)
        .replace("__SCRIPT__", SCRIPT)
        .replace("__DATA__", &data)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn source(s: WakeSource) -> i64 {
    match s {
        WakeSource::SelfWake => 0,
        WakeSource::Local => 1,
        WakeSource::Remote => 2,
        WakeSource::Io => 3,
        WakeSource::Timer => 4,
    }
}

fn opt(v: Option<impl Into<i64>>) -> i64 {
    v.map_or(-1, Into::into)
}

/// The recording as the page's script reads it: the tables as JSON, the events as one
/// flat array of `[code, nanoseconds since the first event, a, b, c, d]`, -1 for
/// "none" (the codes are the constants at the top of `viewer.js`).
fn pack(rec: &Recording) -> String {
    let tasks: Vec<serde_json::Value> = rec
        .tasks
        .iter()
        .map(|t| serde_json::json!([t.id, t.name, t.spawned_at]))
        .collect();
    let sites: Vec<serde_json::Value> = rec
        .sites
        .iter()
        .map(|s| serde_json::json!([s.location, s.label]))
        .collect();
    let stacks: Vec<Vec<String>> = rec
        .stacks
        .iter()
        .map(|s| {
            let mut frames: Vec<String> = s.frames.iter().map(ToString::to_string).collect();
            if s.truncated {
                frames.insert(0, "(outer frames cut)".to_string());
            }
            frames
        })
        .collect();
    let head = serde_json::json!({
        "runtime": rec.runtime,
        "origin": rec.origin,
        "limit": rec.limit,
        "dropped": rec.dropped,
        "counters": rec.counters,
        "tasks": tasks,
        "sites": sites,
        "stacks": stacks,
    })
    .to_string();
    let t0 = rec.events.first().map_or(0, |e| e.at_ns);
    let mut out = String::with_capacity(head.len() + rec.events.len() * 24);
    out.push_str(&head[..head.len() - 1]);
    out.push_str(",\"ev\":[");
    for (n, e) in rec.events.iter().enumerate() {
        let b = |x: bool| i64::from(x);
        let (code, a, bb, c, d): (i64, i64, i64, i64, i64) = match e.kind {
            EventKind::TurnStart { turn } => (0, turn as i64, 0, 0, 0),
            EventKind::TurnEnd { turn, ready } => (1, turn as i64, ready as i64, 0, 0),
            EventKind::PollStart { task } => (2, task as i64, 0, 0, 0),
            EventKind::PollEnd { task, done } => (3, task as i64, b(done), 0, 0),
            EventKind::Wake {
                target,
                source: s,
                by,
            } => (4, target as i64, source(s), opt(by.map(|x| x as i64)), 0),
            EventKind::Coalesced {
                target,
                source: s,
                by,
            } => (5, target as i64, source(s), opt(by.map(|x| x as i64)), 0),
            EventKind::ParkStart => (6, 0, 0, 0, 0),
            EventKind::ParkEnd => (7, 0, 0, 0, 0),
            EventKind::Io { events } => (8, events as i64, 0, 0, 0),
            EventKind::TimersFired { count } => (9, count as i64, 0, 0, 0),
            EventKind::Stall { task, nanos } => (10, task as i64, 0, nanos as i64, 0),
            EventKind::Yielded {
                task,
                site,
                stack,
                budget,
            } => (11, task as i64, opt(site), opt(stack), b(budget)),
            EventKind::Spawned { task, by } => (12, task as i64, opt(by.map(|x| x as i64)), 0, 0),
            EventKind::TimerSet { task, due_in_ns } => (
                13,
                0,
                opt(task.map(|x| x as i64)),
                i64::try_from(due_in_ns).unwrap_or(i64::MAX),
                0,
            ),
        };
        if n > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{code},{},{a},{bb},{c},{d}",
            e.at_ns.saturating_sub(t0)
        );
    }
    out.push_str("]}");
    out
}

/// Serves `html` on 127.0.0.1 until the process is interrupted, printing the URL.
fn serve(html: &str, port: u16) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    println!("serving the page at http://{addr}/ (Ctrl-C to stop)");
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                if let Err(e) = answer(stream, html) {
                    eprintln!("view: a request failed: {e}");
                }
            }
            Err(e) => eprintln!("view: accept failed: {e}"),
        }
    }
    Ok(())
}

/// Answers one HTTP/1.x request with the page (any path: there is only one).
fn answer(mut stream: TcpStream, html: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    // The request line and headers, up to the blank line; the body (none) is ignored.
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        html.len()
    )?;
    stream.write_all(html.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_goes_where_out_says() {
        let rec = Path::new("target/chain.rec");
        assert_eq!(page_path(rec, None), Path::new("target/chain.html"));
        assert_eq!(
            page_path(rec, Some(Path::new("x/page.html"))),
            Path::new("x/page.html")
        );
        assert_eq!(
            page_path(rec, Some(Path::new("pages"))),
            Path::new("pages/chain.html")
        );
    }

    #[test]
    fn a_script_end_in_a_name_cannot_end_the_data() {
        let mut rec = Recording::from_log("</script><b>", Default::default());
        rec.runtime = "</script>".into();
        let html = page(&rec);
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the page's own two"
        );
    }
}
