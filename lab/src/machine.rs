//! Facts about the machine and the process: CPU, kernel, build, resident memory.

use std::fs;

use serde::{Deserialize, Serialize};

/// The machine a run was made on, stated beside every figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Cores available to this process (`nproc`).
    pub cpus: usize,
    /// The CPU model from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The kernel release.
    pub kernel: String,
    /// `release` or `debug`: figures from a debug build are not worth reading.
    pub build: String,
    /// The one-minute load average when the run began (`/proc/loadavg`): above the
    /// core count, other work shared the cores with the measurement.
    #[serde(default)]
    pub load: Option<f64>,
}

impl Machine {
    /// The machine this process runs on.
    pub fn detect() -> Machine {
        let cpu_model = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel,
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
            load: fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|l| l.split_whitespace().next()?.parse().ok()),
        }
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cores ({}), Linux {}, {} build",
            self.cpus, self.cpu_model, self.kernel, self.build
        )?;
        match self.load {
            Some(load) => write!(f, ", load average {load:.2} at the start"),
            None => Ok(()),
        }
    }
}

/// Resident memory of this process, from `/proc/self/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rss {
    /// Resident now (`VmRSS`), KiB.
    pub current_kib: u64,
    /// The most ever resident in this process (`VmHWM`), KiB.
    pub peak_kib: u64,
}

/// This process's resident memory now and at its peak (zeros if `/proc` is missing).
pub fn rss() -> Rss {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Rss {
        current_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
    }
}
