//! Running child processes with a visible command line, step timings and clear failures.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The workspace root (xtask lives in `crates/xtask`).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask sits two levels below the workspace root")
        .to_path_buf()
}

/// A command rooted at the workspace, with `PATH` extended by our local tool directories.
pub(crate) fn command(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args)
        .current_dir(root())
        .env("PATH", crate::tools::path_with_local_tools());
    c
}

/// Runs `c` to completion, echoing it first; fails with the command line on a non-zero exit.
pub(crate) fn run(mut c: Command) -> Result<(), String> {
    let line = describe(&c);
    println!("$ {line}");
    let status = c
        .status()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})"))
    }
}

/// Runs `c` and returns its trimmed stdout, or `None` if it cannot run or fails.
pub(crate) fn output(mut c: Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs one named step and prints how long it took.
pub(crate) fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("\n==> {name}");
    let start = Instant::now();
    let r = f();
    let secs = start.elapsed().as_secs_f64();
    match &r {
        Ok(()) => println!("<== {name}: ok in {secs:.1}s"),
        Err(_) => println!("<== {name}: FAILED after {secs:.1}s"),
    }
    r
}
