//! Where a runtime writes its recording: the path given to `Builder::record`, or the
//! one `TURNSTILE_RECORD` names, made unique per runtime of the process.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable that records every runtime of a process.
pub(crate) const RECORD_ENV: &str = "TURNSTILE_RECORD";

/// Runtimes that took their path from the environment so far.
static FROM_ENV: AtomicUsize = AtomicUsize::new(0);

/// Whether the runtime being built records: a path given in code, or `TURNSTILE_RECORD`.
pub(crate) fn wanted(given: Option<&Path>) -> bool {
    given.is_some() || std::env::var_os(RECORD_ENV).is_some_and(|v| !v.is_empty())
}

/// The file the runtime named `name` writes: the one given in code, or the
/// environment's; there, the first runtime takes the path as it is and each later one
/// gets its name before the extension, so that no runtime overwrites another's.
pub(crate) fn path_for(name: &str, given: Option<PathBuf>) -> Option<PathBuf> {
    if given.is_some() {
        return given;
    }
    let path = PathBuf::from(std::env::var_os(RECORD_ENV).filter(|v| !v.is_empty())?);
    if FROM_ENV.fetch_add(1, Ordering::Relaxed) == 0 {
        return Some(path);
    }
    Some(with_name(&path, name))
}

/// `dir/run.rec` with `name` becomes `dir/run.NAME.rec`.
fn with_name(path: &Path, name: &str) -> PathBuf {
    let mut file: OsString = path.file_stem().unwrap_or_default().to_owned();
    file.push(".");
    file.push(name);
    if let Some(ext) = path.extension() {
        file.push(".");
        file.push(ext);
    }
    path.with_file_name(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_runtime_puts_its_name_before_the_extension() {
        assert_eq!(
            with_name(Path::new("target/run.rec"), "turnstile-2"),
            Path::new("target/run.turnstile-2.rec")
        );
        assert_eq!(with_name(Path::new("run"), "a"), Path::new("run.a"));
    }
}
