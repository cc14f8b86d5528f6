//! A fresh Debian bookworm booted under its own systemd with `systemd-nspawn`, for running what
//! an installer runs on a real server: the root file system is debootstrapped once into
//! `target/readme-rootfs/` and each machine boots it with `--volatile=overlay`, so whatever a
//! test installs lives in memory and is gone when the machine stops. Needs root, debootstrap
//! and systemd-container (`cargo xtask test` installs both), and deb.debian.org for the first
//! debootstrap.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::server::workspace_root;

/// Where debootstrap fetches from.
const MIRROR: &str = "http://deb.debian.org/debian";
/// What the blocks need beyond minbase: systemd as PID 1, sudo (and sudoedit), curl to ask the
/// service over HTTP from inside. Part of the cache's name: a changed list debootstraps anew.
const PACKAGES: &str = "systemd,systemd-sysv,dbus,sudo,curl";
/// The cached root file system, named after the suite and the package list.
const ROOTFS: &str = "target/readme-rootfs/bookworm-v1";
/// PATH of a login shell on Debian: root's, and everyone else's.
pub const ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const USER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Fails the test, saying what to install, unless it runs as root with debootstrap,
/// systemd-nspawn and nsenter at hand.
pub fn require_tools() {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        })
        .unwrap_or_default();
    assert_eq!(
        uid, "0",
        "booting a Debian machine with systemd-nspawn needs root; run this test as root \
         (`cargo xtask test` in CI runs as root)"
    );
    for tool in [
        "/usr/sbin/debootstrap",
        "/usr/bin/systemd-nspawn",
        "/usr/bin/nsenter",
    ] {
        assert!(
            Path::new(tool).is_file(),
            "{tool} is missing: `cargo xtask test` installs it, or run \
             `apt-get install -y debootstrap systemd-container`"
        );
    }
}

/// The cached bookworm root file system, debootstrapped on first use (about 90 s).
pub fn rootfs() -> PathBuf {
    // Two tests of one run share one debootstrap.
    static BUILT: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let root = workspace_root().join(ROOTFS);
    if root.join("usr/lib/systemd/systemd").is_file() {
        return root;
    }
    let started = Instant::now();
    let partial = root.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", &format!("--include={PACKAGES}")])
        .arg("bookworm")
        .arg(&partial)
        .arg(MIRROR)
        .output()
        .expect("debootstrap runs");
    assert!(
        out.status.success(),
        "debootstrap of bookworm from {MIRROR} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Whole or not at all: a debootstrap cut short is never mistaken for the cache.
    if std::fs::rename(&partial, &root).is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    eprintln!(
        "debootstrap of bookworm ({PACKAGES}): {:.0}s",
        started.elapsed().as_secs_f64()
    );
    root
}

/// A booted container; shut down (and its memory overlay dropped) with the value.
pub struct Machine {
    name: String,
    nspawn: Child,
    /// The container's PID 1 (systemd), as the host sees it.
    leader: u32,
    console: PathBuf,
}

/// Who runs a command in the machine.
#[derive(Clone, Copy, Debug)]
pub enum As<'a> {
    /// root in a login shell (`sudo -i`), HOME=/root.
    Root,
    /// A user with a home directory and sudo rights.
    User(&'a str),
}

impl Machine {
    /// Boots `rootfs` as `name` with loopback only, `binds` (host path, path inside) read-only,
    /// and waits until systemd has finished starting up.
    pub fn boot(name: &str, rootfs: &Path, binds: &[(&Path, &str)], console: &Path) -> Machine {
        let log = std::fs::File::create(console).unwrap();
        let mut nspawn = Command::new("systemd-nspawn");
        nspawn.arg("--directory").arg(rootfs).args([
            "--volatile=overlay",
            "--boot",
            "--private-network",
            &format!("--machine={name}"),
            // No systemd-machined and no systemd on this host to register with or to
            // allocate a scope from: the container's systemd is the only one.
            "--register=no",
            "--keep-unit",
            "--console=read-only",
        ]);
        for (host, inside) in binds {
            nspawn.arg(format!("--bind-ro={}:{inside}", host.display()));
        }
        let nspawn = nspawn
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("systemd-nspawn starts");
        let mut machine = Machine {
            name: name.to_owned(),
            leader: 0,
            nspawn,
            console: console.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while machine.leader == 0 {
            if let Some(status) = machine.nspawn.try_wait().unwrap() {
                panic!(
                    "systemd-nspawn exited ({status}) before booting:\n{}",
                    machine.console_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no PID 1 in {name} after 60 s:\n{}",
                machine.console_text()
            );
            machine.leader = leader_of(machine.nspawn.id()).unwrap_or(0);
            std::thread::sleep(Duration::from_millis(100));
        }
        // `running`, or `degraded` when a unit of the image failed: either way, booted. Asked
        // again while PID 1 is too young to answer.
        loop {
            let boot = machine.run(As::Root, "systemctl is-system-running --wait");
            let state = String::from_utf8_lossy(&boot.stdout).trim().to_owned();
            if state == "running" || state == "degraded" {
                return machine;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not finish booting ({state}):\n{}",
                machine.console_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Runs `script` with `sh -c` in the machine, as `who`, in their home directory, with the
    /// environment a login shell has.
    pub fn run(&self, who: As<'_>, script: &str) -> Output {
        self.command(who, &["sh", "-c", script])
            .output()
            .expect("nsenter runs")
    }

    /// Like `run`, failing the test (with the output and the service's journal) unless it
    /// succeeds; returns stdout.
    pub fn run_ok(&self, who: As<'_>, script: &str) -> String {
        let out = self.run(who, script);
        assert!(
            out.status.success(),
            "`{script}` as {who:?} failed ({}):\n{}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.diagnostics()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The command that runs `argv` in the machine as `who` (all of its namespaces, its root).
    pub fn command(&self, who: As<'_>, argv: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--target={}", self.leader))
            .args(["--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup"])
            .args(["--root", "--wd"]);
        match who {
            As::Root => {
                c.args(["env", "-i", "-C", "/root", "HOME=/root", "USER=root"]);
                c.arg(format!("PATH={ROOT_PATH}"));
            }
            As::User(user) => {
                let home = format!("/home/{user}");
                c.args(["runuser", "-u", user, "--", "env", "-i", "-C", &home]);
                c.args([format!("HOME={home}"), format!("USER={user}")]);
                c.arg(format!("PATH={USER_PATH}"));
            }
        }
        c.args(["LANG=C.UTF-8", "TERM=dumb"]).args(argv);
        c
    }

    /// The service's state and journal, and the console, for a failure message.
    pub fn diagnostics(&self) -> String {
        let out = self.run(
            As::Root,
            "systemctl status --no-pager parkbridge 2>&1; \
             journalctl --no-pager -n 60 -u parkbridge 2>&1",
        );
        format!(
            "--- {}: systemctl status, journal ---\n{}",
            self.name,
            String::from_utf8_lossy(&out.stdout)
        )
    }

    fn console_text(&self) -> String {
        std::fs::read_to_string(&self.console).unwrap_or_default()
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        // SIGTERM asks nspawn to shut the container down cleanly (systemd halts it).
        let _ = Command::new("kill")
            .args(["-TERM", &self.nspawn.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.nspawn.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.nspawn.kill();
        let _ = self.nspawn.wait();
    }
}

/// The container's PID 1: the process nspawn started, found among its children.
fn leader_of(nspawn: u32) -> Option<u32> {
    let children =
        std::fs::read_to_string(format!("/proc/{nspawn}/task/{nspawn}/children")).ok()?;
    children.split_whitespace().find_map(|pid| {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        (comm.trim() == "systemd").then(|| pid.parse().ok())?
    })
}

/// A command run on a pseudo-terminal (`script`), as at a keyboard: `answer` waits for each
/// prompt in turn and types its line; returns everything the terminal showed once the command
/// has exited, or fails the test after `timeout`.
pub fn on_terminal(
    mut command: Command,
    answers: &[(&str, &str)],
    timeout: Duration,
) -> (std::process::ExitStatus, String) {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the terminal's command starts");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut shown = String::new();
    let mut seen = 0;
    let deadline = Instant::now() + timeout;
    for (prompt, line) in answers {
        while !shown[seen..].contains(prompt) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(chunk) => shown.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => {
                    let _ = child.kill();
                    panic!("no `{prompt}` prompt on the terminal; it showed:\n{shown}");
                }
            }
        }
        seen = shown[seen..].find(prompt).unwrap() + seen + prompt.len();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => shown.push_str(&String::from_utf8_lossy(&chunk)),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("the terminal's command did not finish; it showed:\n{shown}");
            }
        }
    }
    drop(stdin);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    (status, shown + &stderr)
}
