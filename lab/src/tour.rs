//! The tour: every experiment in its short form, one after the other, then the files
//! that hold them all, `tour.json` ([`TourReport`]) and `summary.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::experiments::{self, ExperimentReport, Lab};
use crate::machine::Machine;
use crate::report::to_markdown;

/// Every experiment in its short form, then `tour.json` and `summary.md`.
pub fn run(full: bool, lab: &Lab) -> anyhow::Result<()> {
    let start = Instant::now();
    println!(
        "turnstile-lab tour: every experiment on {} ({})\nmachine: {}\n",
        lab.runtimes
            .iter()
            .map(|r| r.name())
            .chain(lab.python.iter().map(|p| p.name()))
            .collect::<Vec<_>>()
            .join(", "),
        if lab.smoke {
            "smoke sizes"
        } else {
            "short forms"
        },
        lab.machine
    );
    let experiments = experiments::tour(full, lab)?;
    let tour = TourReport {
        machine: lab.machine.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        seconds: start.elapsed().as_secs_f64(),
        experiments,
    };
    let json = write(&lab.out, "tour.json", &serde_json::to_string_pretty(&tour)?)?;
    let md = write(&lab.out, "summary.md", &tour.markdown())?;
    println!(
        "\nThe tour took {:.1} s. Summary: {}; all figures: {}.",
        tour.seconds,
        md.display(),
        json.display()
    );
    Ok(())
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Everything a tour measured: `tour.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TourReport {
    /// Where it ran.
    pub machine: Machine,
    /// The command line that ran it.
    pub command: String,
    /// How long the tour took, in seconds.
    pub seconds: f64,
    /// Each experiment's report, in the order they ran.
    pub experiments: Vec<ExperimentReport>,
}

impl TourReport {
    /// The markdown summary: `summary.md`.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# turnstile-lab tour\n");
        let _ = writeln!(
            out,
            "Machine: {}.  \nCommand: `{}`.  \nThe tour took {:.1} s.\n",
            self.machine, self.command, self.seconds
        );
        let _ = writeln!(
            out,
            "Each experiment runs the same workload code on turnstile (probes at \
             `Level::Counters`), on tokio's current-thread runtime and on smol \
             (async-executor's `LocalExecutor` over async-io); the experiments that test \
             a claim about Python run it too, in `lab/python/`, on asyncio's loop and on \
             uvloop, at the smaller sizes each report states. Times are medians \
             where samples were repeated; the machine is shared, so read ratios within \
             one run rather than absolute figures.\n"
        );
        for experiment in &self.experiments {
            let report = experiment.as_report();
            let svg = format!("{}.svg", report.name());
            out.push_str(&to_markdown(report, Some(&svg)));
            out.push('\n');
        }
        out
    }
}
