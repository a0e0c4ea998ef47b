//! Python's asyncio, on its default loop and on uvloop, as two more runtimes beside the
//! Rust ones: the articles' own experiments re-run on this machine, in the same run.
//!
//! Each experiment has a script in `lab/python/` (`<experiment>.py`) with the same knobs
//! as its Rust side; it prints one JSON object on stdout, which the experiment parses
//! into its own type (so a field the lab reads and the script forgot is an error, not a
//! blank). The scripts run in a virtual environment that the lab makes once, under
//! `target/lab-python-venv`, with uvloop installed by pip. When python3 or the venv
//! cannot be had, the lab says so in one line and leaves the Python cells empty: the
//! tour never fails for want of Python.

use std::fs::{self, File};
use std::io::Write as _;
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{bail, Context as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A Python event loop the lab runs the scripts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Py {
    /// asyncio's default loop (the selector loop on Linux).
    Asyncio,
    /// asyncio with uvloop's loop (libuv) installed as the event loop.
    Uvloop,
}

impl Py {
    /// Both loops, in the order the experiments run them.
    pub const ALL: [Py; 2] = [Py::Asyncio, Py::Uvloop];

    /// The name in tables: `asyncio` or `asyncio + uvloop`.
    ///
    /// ```
    /// use turnstile_lab::python::Py;
    /// assert_eq!(Py::Uvloop.name(), "asyncio + uvloop");
    /// assert_eq!(Py::Uvloop.flag(), "uvloop");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Py::Asyncio => "asyncio",
            Py::Uvloop => "asyncio + uvloop",
        }
    }

    /// The scripts' `--loop` value (see [`Py::name`] for an example).
    pub fn flag(self) -> &'static str {
        match self {
            Py::Asyncio => "asyncio",
            Py::Uvloop => "uvloop",
        }
    }
}

impl std::fmt::Display for Py {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What one script reported on one loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyRun<T> {
    /// The loop.
    pub python: Py,
    /// The script's figures.
    pub figures: T,
}

/// An experiment's Python figures: one run per loop that could run, and why any could
/// not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyRuns<T> {
    /// The sizes the scripts ran with, in words (the tour's are smaller than Rust's).
    pub sizes: String,
    /// One entry per loop that ran.
    pub runs: Vec<PyRun<T>>,
    /// Why a loop has no figures (Python missing, uvloop missing, a script failed).
    pub missing: Vec<String>,
    /// How long the Python runs took in all (the venv's making included), s.
    #[serde(default)]
    pub seconds: f64,
    /// The interpreter's version, e.g. `3.11.7` (empty if none ran).
    #[serde(default)]
    pub version: String,
}

impl<T> Default for PyRuns<T> {
    fn default() -> Self {
        PyRuns {
            sizes: String::new(),
            runs: Vec::new(),
            missing: Vec::new(),
            seconds: 0.0,
            version: String::new(),
        }
    }
}

impl<T> PyRuns<T> {
    /// The figures of `py`, if it ran.
    ///
    /// ```
    /// use turnstile_lab::python::{Py, PyRun, PyRuns};
    /// let runs = PyRuns {
    ///     runs: vec![PyRun { python: Py::Asyncio, figures: 7 }],
    ///     ..PyRuns::default()
    /// };
    /// assert_eq!(runs.get(Py::Asyncio), Some(&7));
    /// assert_eq!(runs.get(Py::Uvloop), None);
    /// ```
    pub fn get(&self, py: Py) -> Option<&T> {
        self.runs
            .iter()
            .find(|r| r.python == py)
            .map(|r| &r.figures)
    }

    /// Notes for the report: the sizes, then what is missing and why.
    ///
    /// ```
    /// use turnstile_lab::python::PyRuns;
    /// let runs = PyRuns::<u8> {
    ///     missing: vec!["python3 cannot be had".into()],
    ///     ..PyRuns::default()
    /// };
    /// assert_eq!(runs.notes(), ["no Python figures: python3 cannot be had"]);
    /// ```
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.runs.is_empty() && !self.sizes.is_empty() {
            notes.push(format!(
                "Python {} ran with {} ({:.1} s in all).",
                self.version, self.sizes, self.seconds
            ));
        }
        notes.extend(
            self.missing
                .iter()
                .map(|m| format!("no Python figures: {m}")),
        );
        notes
    }
}

/// Runs `measure` on each loop in `loops` that this machine has, collecting what it
/// measured; a loop that cannot run, or a script that fails, is a line in `missing`,
/// never an error.
///
/// ```
/// use turnstile_lab::python;
/// // No loops chosen (`--runtime tokio`): nothing runs, not even the venv's making.
/// let runs = python::runs(&[], "none", |_, _| -> anyhow::Result<u8> { unreachable!() });
/// assert!(runs.runs.is_empty() && runs.missing.is_empty());
/// ```
pub fn runs<T>(
    loops: &[Py],
    sizes: impl Into<String>,
    mut measure: impl FnMut(&Python, Py) -> anyhow::Result<T>,
) -> PyRuns<T> {
    let mut out = PyRuns {
        sizes: sizes.into(),
        ..PyRuns::default()
    };
    if loops.is_empty() {
        return out;
    }
    let start = std::time::Instant::now();
    out.fill(loops, &mut measure);
    out.seconds = start.elapsed().as_secs_f64();
    out
}

impl<T> PyRuns<T> {
    /// Runs `measure` on each of `loops` that this machine has.
    fn fill(&mut self, loops: &[Py], measure: &mut impl FnMut(&Python, Py) -> anyhow::Result<T>) {
        let out = self;
        let python = match Python::get() {
            Ok(python) => python,
            Err(why) => {
                out.missing.push(why.clone());
                return;
            }
        };
        out.version = python.version.clone();
        for &py in loops {
            if py == Py::Uvloop && !python.uvloop {
                out.missing.push(format!(
                    "{py}: uvloop is not installed in {}",
                    python.venv.display()
                ));
                continue;
            }
            match measure(python, py) {
                Ok(figures) => out.runs.push(PyRun {
                    python: py,
                    figures,
                }),
                Err(e) => out.missing.push(format!("{py}: {e:#}")),
            }
        }
    }
}

/// The lab's Python: the venv's interpreter and whether uvloop imports in it.
#[derive(Debug)]
pub struct Python {
    /// The virtual environment.
    pub venv: PathBuf,
    /// Its interpreter.
    pub exe: PathBuf,
    /// uvloop imports.
    pub uvloop: bool,
    /// `sys.version`, first word.
    pub version: String,
}

/// Where the lab keeps its venv: `target/lab-python-venv` at the workspace root.
///
/// ```
/// assert!(turnstile_lab::python::venv_dir().ends_with("target/lab-python-venv"));
/// ```
pub fn venv_dir() -> PathBuf {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR"));
    lab.parent()
        .unwrap_or(lab)
        .join("target")
        .join("lab-python-venv")
}

/// Where the scripts are: `lab/python/`.
///
/// ```
/// assert!(turnstile_lab::python::scripts_dir().join("chain.py").exists());
/// ```
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

impl Python {
    /// The lab's Python, made on first use (once per process; across processes a file
    /// lock makes one maker and the others wait). The error is one line, printed once
    /// on stderr as well.
    pub fn get() -> Result<&'static Python, &'static String> {
        static PYTHON: OnceLock<Result<Python, String>> = OnceLock::new();
        PYTHON
            .get_or_init(|| {
                let made = Python::make(&venv_dir()).map_err(|e| {
                    format!(
                        "python3 or its venv cannot be had ({e:#}); the asyncio and uvloop \
                         cells stay empty"
                    )
                });
                match &made {
                    Ok(p) if !p.uvloop => eprintln!(
                        "note: uvloop could not be installed in {} (pip needs PyPI); the \
                         uvloop cells stay empty (delete the venv to try again)",
                        p.venv.display()
                    ),
                    Err(why) => eprintln!("note: {why}"),
                    Ok(_) => {}
                }
                made
            })
            .as_ref()
    }

    /// Makes (or re-uses) the venv at `venv`: `python3 -m venv`, then
    /// `pip install uvloop`; a marker file records that it is done.
    pub fn make(venv: &Path) -> anyhow::Result<Python> {
        let parent = venv.parent().context("the venv's directory")?;
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        let lock = File::create(venv.with_extension("lock")).context("the venv's lock file")?;
        // SAFETY: flock on a descriptor we own, held open for the rest of this function;
        // the lock is released when `lock` is closed.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            bail!("locking the venv: {}", std::io::Error::last_os_error());
        }
        let exe = venv.join("bin").join("python");
        let marker = venv.join("lab-ready");
        if !marker.exists() {
            let _ = fs::remove_dir_all(venv);
            let python3 = std::env::var_os("PYTHON3").unwrap_or_else(|| "python3".into());
            quiet(Command::new(&python3).arg("-m").arg("venv").arg(venv)).with_context(|| {
                format!("{} -m venv {}", python3.to_string_lossy(), venv.display())
            })?;
            // uvloop is optional: without it asyncio still runs.
            let pip = quiet(Command::new(&exe).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--timeout",
                "15",
                "--retries",
                "1",
                "uvloop",
            ]));
            if let Err(e) = pip {
                eprintln!("note: pip install uvloop failed: {e:#}");
            }
            let mut f = File::create(&marker).context("the venv's marker")?;
            writeln!(f, "made by turnstile-lab")?;
        }
        let version =
            output(Command::new(&exe).args(["-c", "import sys; print(sys.version.split()[0])"]))
                .context("running the venv's python")?;
        let uvloop = output(Command::new(&exe).args(["-c", "import uvloop"])).is_ok();
        Ok(Python {
            venv: venv.to_path_buf(),
            exe,
            uvloop,
            version: version.trim().to_string(),
        })
    }

    /// A command that runs `lab/python/<script>.py --loop <py> <args>`.
    pub fn command(&self, script: &str, py: Py, args: &[String]) -> Command {
        let mut command = Command::new(&self.exe);
        command
            // No __pycache__ in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg(scripts_dir().join(format!("{script}.py")))
            .arg("--loop")
            .arg(py.flag())
            .args(args);
        command
    }

    /// Runs a script to its end and parses its stdout as `T`.
    pub fn run<T: DeserializeOwned>(
        &self,
        script: &str,
        py: Py,
        args: &[String],
    ) -> anyhow::Result<T> {
        let text = output(&mut self.command(script, py, args))
            .with_context(|| format!("{script}.py --loop {}", py.flag()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{script}.py printed what the lab cannot read: {text:.200}"))
    }
}

/// Runs `command` to its end; its stdout, or an error with the tail of its stderr.
fn output(command: &mut Command) -> anyhow::Result<String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        bail!(
            "exited with {}: {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn quiet(command: &mut Command) -> anyhow::Result<()> {
    output(command.stdout(Stdio::null())).map(drop)
}

/// `--name value` pairs as a script's arguments.
///
/// ```
/// let args = turnstile_lab::python::knobs(&[("tasks", "10".into())]);
/// assert_eq!(args, ["--tasks", "10"]);
/// ```
pub fn knobs(pairs: &[(&str, String)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(name, value)| [format!("--{name}"), value.clone()])
        .collect()
}
