//! cargo run --release                    (at the workspace root: the tour)
//! cargo run --release -- chain --narrate  (one experiment; `--help` lists them)
//!
//! The lab's binary: installs the counting allocator, then hands over to the CLI.

use turnstile_lab::alloc::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() -> std::process::ExitCode {
    turnstile_lab::cli::main()
}
