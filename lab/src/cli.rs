//! The command line: the tour (the default) and one subcommand per experiment.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::experiments::{self, ExperimentCommand, Lab};
use crate::machine::Machine;
use crate::runtimes::RuntimeChoice;
use crate::tour;

/// Where the lab writes its files unless `--out` says otherwise.
const DEFAULT_OUT: &str = "target/lab";

/// turnstile-lab: claims about async runtimes, tested by measurement on turnstile,
/// tokio's current-thread runtime and smol side by side.
///
/// With no subcommand it runs the tour: every experiment in a short form.
#[derive(Debug, Parser)]
#[command(name = "turnstile-lab", version, about, long_about = None)]
pub struct Cli {
    /// What to run (the tour if none).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Where to write JSON, SVG plots and markdown [default: target/lab]. (`view` has
    /// an `--out` of its own: the page.)
    #[arg(long, global = true, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Which runtimes to measure.
    #[arg(long, global = true, value_enum, default_value_t = RuntimeChoice::All)]
    pub runtime: RuntimeChoice,
    /// Tiny sizes, for the test suite: the counts are exact, the times mean nothing.
    #[arg(long, global = true)]
    pub smoke: bool,
    /// The tour prints every table as each experiment ends, not one screen of verdicts.
    #[arg(long, global = true)]
    pub verbose: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every experiment in a short form, one after the other (the default).
    Tour(TourArgs),
    /// An experiment (the registry in `experiments` lists them).
    #[command(flatten)]
    Experiment(ExperimentCommand),
    /// Asks a running turnstile runtime's inspector (`Builder::inspect`) what its loop
    /// is doing, like `top`: answered by a thread of its own, even while the loop is
    /// stuck in one poll.
    Inspect(crate::inspect::InspectArgs),
    /// Makes a recording (`TURNSTILE_RECORD=FILE`) or a flight recorder's file into one
    /// self-contained HTML page that steps through the run turn by turn. The page goes
    /// to `--out PAGE.html` (or into `--out DIR`), by default beside FILE; `--serve`
    /// also serves it on 127.0.0.1.
    View(crate::view::ViewArgs),
    /// Runs a server for a parent lab process until its stdin closes (internal).
    #[command(hide = true)]
    Serve {
        /// The server, as JSON.
        job: String,
    },
    /// Runs one measurement for a parent lab process (internal).
    #[command(hide = true)]
    Worker {
        /// The job, as JSON.
        job: String,
    },
}

/// The knobs of `tour`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct TourArgs {
    /// Include the long forms (gather with 1,000,000 tasks).
    #[arg(long)]
    pub full: bool,
}

/// Parses the command line, runs it, and turns an error into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::View(args)) = &cli.command {
        // `view --out` is the page (its own option, see `ViewArgs`), not a directory.
        return crate::view::run(args);
    }
    let out = cli.out.unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
    // A run can take minutes: find out before it starts that its files have a home.
    if !matches!(
        cli.command,
        Some(Command::Serve { .. } | Command::Worker { .. } | Command::Inspect(_))
    ) {
        check_writable(&out)?;
    }
    let lab = Lab {
        runtimes: cli.runtime.runtimes(),
        python: cli.runtime.python(),
        smoke: cli.smoke,
        out,
        machine: Machine::detect(),
    };
    match cli.command {
        None => tour::run(TourArgs::default().full, cli.verbose, &lab),
        Some(Command::Tour(args)) => tour::run(args.full, cli.verbose, &lab),
        Some(Command::Experiment(experiment)) => experiment.run(&lab).map(drop),
        Some(Command::Inspect(args)) => crate::inspect::run(&args),
        Some(Command::View(_)) => unreachable!("view returned above"),
        Some(Command::Serve { job }) => crate::servers::serve(&job),
        Some(Command::Worker { job }) => crate::worker::serve(&job, experiments::child_jobs()),
    }
}

/// Creates `dir` if needed and writes and removes a file in it, so that a directory the
/// lab cannot write to is an error before anything runs, not after.
pub fn check_writable(dir: &Path) -> anyhow::Result<()> {
    let fail = |e: std::io::Error| {
        anyhow::anyhow!(
            "--out {}: the lab cannot write its files there ({e}); choose another \
             directory with --out DIR",
            dir.display()
        )
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".turnstile-lab-{}.probe", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::experiments::Experiment;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_means_the_tour() {
        let cli = Cli::try_parse_from(["turnstile-lab"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.runtime, RuntimeChoice::All);
    }

    #[test]
    fn every_tour_form_parses_from_defaults() {
        let chain = <experiments::Chain as Experiment>::tour_args(false);
        assert_eq!(chain.depths, vec![1, 5, 50]);
        assert!(chain.narrate);
        assert!(<experiments::Gather as Experiment>::tour_args(true).full);
        let _ = <experiments::YieldCost as Experiment>::tour_args(false);
        let _ = <experiments::Memory as Experiment>::tour_args(false);
        let _ = <experiments::Echo as Experiment>::tour_args(false);
        assert!(<experiments::Limit as Experiment>::tour_args(false).tour);
        assert!(<experiments::CpuShare as Experiment>::tour_args(false).tour);
        assert!(<experiments::Http as Experiment>::tour_args(false).tour);
    }

    #[test]
    fn an_out_directory_that_cannot_be_made_is_refused() {
        let file = std::env::temp_dir().join(format!("lab-out-{}", std::process::id()));
        std::fs::write(&file, b"a file, not a directory").unwrap();
        let err = check_writable(&file.join("figures"))
            .unwrap_err()
            .to_string();
        std::fs::remove_file(&file).unwrap();
        assert!(err.starts_with("--out "), "{err}");
        let dir = std::env::temp_dir().join(format!("lab-out-dir-{}", std::process::id()));
        check_writable(&dir).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no probe left");
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn view_has_an_out_of_its_own() {
        let parse = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Some(Command::View(v)) => v,
            other => panic!("{other:?}"),
        };
        let v = parse(&["turnstile-lab", "view", "run.rec"]);
        assert_eq!((v.file.as_path(), v.out), (Path::new("run.rec"), None));
        let v = parse(&["turnstile-lab", "view", "run.rec", "--out", "page.html"]);
        assert_eq!(v.out.as_deref(), Some(Path::new("page.html")));
        // The lab's own default directory is not the page's.
        let cli = Cli::try_parse_from(["turnstile-lab", "chain"]).unwrap();
        assert_eq!(cli.out, None);
        let cli = Cli::try_parse_from(["turnstile-lab", "chain", "--out", "x"]).unwrap();
        assert_eq!(cli.out.as_deref(), Some(Path::new("x")));
        assert!(
            Cli::try_parse_from(["turnstile-lab", "view"]).is_err(),
            "FILE is needed"
        );
        assert!(
            Cli::try_parse_from(["turnstile-lab", "view", "a.rec", "--port", "80"]).is_err(),
            "--port needs --serve"
        );
    }

    #[test]
    fn out_of_range_knobs_are_refused() {
        for args in [
            &["turnstile-lab", "chain", "--depths", "0"][..],
            &["turnstile-lab", "chain", "--depths", "1,65"],
            &["turnstile-lab", "gather", "--tasks", "0"],
            &["turnstile-lab", "memory", "--depth", "0"],
            &["turnstile-lab", "yield-cost", "--samples", "0"],
            &["turnstile-lab", "--runtime", "trio"],
            &["turnstile-lab", "echo", "--size", "4"],
            &["turnstile-lab", "limit", "--items", "0"],
            &["turnstile-lab", "cpu-share", "--rate", "0"],
            &["turnstile-lab", "http", "--generator", "ab"],
            &["turnstile-lab", "stall", "--stall-ms", "1"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?} was accepted");
        }
    }
}
