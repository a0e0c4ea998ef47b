//! A PostgreSQL server of scripts/postgres.sh for the tests that need a real database:
//! a throwaway cluster on 127.0.0.1 and a free port, stopped on drop. Without PostgreSQL
//! it fails and names the script that installs it.

#![allow(dead_code)] // each test that includes this file uses a part of it

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server: its folder, URL and port.
pub struct Postgres {
    dir: PathBuf,
    pub url: String,
    pub port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

impl Postgres {
    /// Starts a cluster in `CARGO_TARGET_TMPDIR/NAME`.
    pub fn start(name: &str) -> Postgres {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        // A free port: the OS picks one, which is released for PostgreSQL to take.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(&dir)
            .arg(port.to_string())
            .output()
            .expect("bash runs scripts/postgres.sh");
        assert!(
            out.status.success(),
            "could not start PostgreSQL (is it installed? `bash scripts/install-test-deps.sh` \
             installs it): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Postgres { dir, url, port }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}
