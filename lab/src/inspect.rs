//! `turnstile-lab inspect SOCKET`: what a running turnstile loop is doing, from its
//! inspector (`Builder::inspect`), which answers from a thread of its own even while
//! the loop is stuck in one poll.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use crossterm::{cursor, execute, terminal};

/// The knobs of `inspect`.
#[derive(Clone, Debug, clap::Args)]
pub struct InspectArgs {
    /// The inspector's Unix socket (the path given to `Builder::inspect`).
    pub socket: PathBuf,
    /// Print one report as JSON (machine-readable) instead of the tables.
    #[arg(long, conflicts_with = "watch")]
    pub json: bool,
    /// Redraw the report in place until interrupted, like `top`.
    #[arg(long)]
    pub watch: bool,
    /// Milliseconds between redraws with `--watch`.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub interval: u64,
}

/// Runs `inspect`.
pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let ask = || {
        turnstile::probes::inspect_json(&args.socket).with_context(|| {
            format!(
                "no inspector answers at {} (is the runtime built with Builder::inspect, \
                 and still running?)",
                args.socket.display()
            )
        })
    };
    if args.json {
        let json: serde_json::Value = serde_json::from_str(&ask()?)?;
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    let render = |json: &str| -> anyhow::Result<String> {
        let report: turnstile::probes::InspectReport =
            serde_json::from_str(json).context("the inspector's answer is not a report")?;
        Ok(report.to_string())
    };
    if !args.watch {
        print!("{}", render(&ask()?)?);
        return Ok(());
    }
    let mut out = std::io::stdout();
    loop {
        let text = match ask() {
            Ok(json) => render(&json)?,
            Err(e) => format!("{e:#}\n"),
        };
        execute!(
            out,
            cursor::MoveTo(0, 0),
            terminal::Clear(terminal::ClearType::All)
        )?;
        // Raw mode is off: a newline needs its carriage return only in raw mode.
        write!(out, "{text}")?;
        out.flush()?;
        std::thread::sleep(Duration::from_millis(args.interval.max(50)));
    }
}
