//! README.md's shell blocks of Installing, First steps and Operating, read from the README when
//! the test runs and executed as written, by a new installer on a fresh Debian bookworm booted
//! under systemd (`systemd-nspawn`, see `e2e::machine`): once with the `.deb`, once with the
//! tarball `cargo xtask dist` made. Then the service runs as a user systemd allocated, answers
//! on the address the installer configured, lets the admin of the first steps sign in, `doctor`
//! passes, the backup is written and restoring it brings back the database of its time.
//!
//! Every `sh` block of those sections must be one this test runs: a new block, or one that no
//! longer shows the command the test knows it by, fails it, naming the block.

use std::path::Path;
use std::time::{Duration, Instant};

use e2e::machine::{self, As, Machine};
use e2e::server::workspace_root;

/// The README sections whose `sh` blocks a new installer runs.
const SECTIONS: [&str; 3] = ["Installing", "First steps", "Operating"];

/// Each block this test runs: its name here, and the command that identifies it in the README.
const BLOCKS: [(&str, &str); 6] = [
    ("install-deb", "sudo apt install ./"),
    ("install-tarball", "tar xzf "),
    ("first-admin", "parkbridge user add"),
    ("doctor", "parkbridge doctor"),
    ("backup", "parkbridge backup"),
    ("restore", "parkbridge restore"),
];

/// The sign-in user that stands for the installer: sudo rights, no password asked.
const INSTALLER: &str = "admin";
/// What the installer types into the editor `sudoedit` opens, and the password of the first admin.
const LISTEN: &str = "127.0.0.1:8181";
const PASSWORD: &str = "correct horse battery";

/// The README's blocks by name (common indentation removed), each checked to be there once, and
/// every `sh` block of `SECTIONS` checked to be one of them.
fn readme_blocks() -> Vec<(&'static str, String)> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let mut found: Vec<(&'static str, String)> = Vec::new();
    let mut section = String::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading.trim().to_owned();
            continue;
        }
        if !SECTIONS.contains(&section.as_str()) || line.trim() != "```sh" {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim() != "```")
            .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
            .collect();
        let text = body.join("\n") + "\n";
        let named: Vec<&str> = BLOCKS
            .iter()
            .filter(|(_, marker)| text.contains(marker))
            .map(|(name, _)| *name)
            .collect();
        match named.as_slice() {
            [name] => found.push((name, text)),
            [] => panic!(
                "README.md's `## {section}` shows a block that tests/tests/readme_install.rs \
                 does not run; run it there (add it to BLOCKS and the scenario):\n{text}"
            ),
            many => panic!("README.md's `## {section}`: one block is several of {many:?}:\n{text}"),
        }
    }
    for (name, marker) in BLOCKS {
        let count = found.iter().filter(|(n, _)| *n == name).count();
        assert_eq!(
            count, 1,
            "README.md should show the `{name}` block (the one with `{marker}`) once in {SECTIONS:?}, \
             it shows it {count} times; tests/tests/readme_install.rs runs it"
        );
    }
    found
}

fn block(blocks: &[(&str, String)], name: &str) -> String {
    blocks.iter().find(|(n, _)| *n == name).unwrap().1.clone()
}

/// The machine of one install path, with the README's blocks as files under /readme/blocks,
/// the artifacts of target/dist in the installer's home and `sudoedit`'s editor in place.
struct Install {
    machine: Machine,
    started: Instant,
    path: &'static str,
    _files: tempfile::TempDir,
}

impl Install {
    fn boot(path: &'static str) -> Install {
        machine::require_tools();
        let blocks = readme_blocks();
        let dist = workspace_root().join("target/dist");
        let artifacts: Vec<String> = std::fs::read_dir(&dist)
            .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask dist` first", dist.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for suffix in [".deb", ".tar.gz"] {
            assert!(
                artifacts.iter().any(|a| a.ends_with(suffix)),
                "target/dist/ holds no *{suffix} ({artifacts:?}); run `cargo xtask dist` first"
            );
        }
        let started = Instant::now();
        let rootfs = machine::rootfs();
        eprintln!(
            "[{path}] root file system ready in {:.1}s",
            started.elapsed().as_secs_f64()
        );

        // Readable by the installer's uid inside (the container shares the host's uids).
        let files = tempfile::tempdir().unwrap();
        let dir = files.path();
        chmod(dir, 0o755);
        for sub in ["blocks", "dist"] {
            // `dist` is where target/dist is bound: the mount point must exist beforehand.
            std::fs::create_dir(dir.join(sub)).unwrap();
            chmod(&dir.join(sub), 0o755);
        }
        for (name, text) in &blocks {
            let file = dir.join("blocks").join(format!("{name}.sh"));
            std::fs::write(&file, text).unwrap();
            chmod(&file, 0o644);
        }
        // What a person does in the editor sudoedit opens: uncomment and set where to listen
        // and the public address. sudoedit hands the editor a copy of the file it owns.
        let editor = dir.join("editor");
        std::fs::write(
            &editor,
            format!(
                "#!/bin/sh\nset -e\n\
                 edited=$(sed -e 's|^#PARKBRIDGE_LISTEN=.*|PARKBRIDGE_LISTEN={LISTEN}|' \
                 -e 's|^#PARKBRIDGE_PUBLIC_URL=.*|PARKBRIDGE_PUBLIC_URL=http://{LISTEN}|' \"$1\")\n\
                 printf '%s\\n' \"$edited\" > \"$1\"\n"
            ),
        )
        .unwrap();
        chmod(&editor, 0o755);

        let boot = Instant::now();
        let name = format!("readme-{path}-{}", std::process::id());
        let machine = Machine::boot(
            &name,
            &rootfs,
            &[(dir, "/readme"), (&dist, "/readme/dist")],
            &dir.join("console.log"),
        );
        eprintln!("[{path}] booted in {:.1}s", boot.elapsed().as_secs_f64());
        // The installer: a sudoer who downloaded the artifacts to their home directory.
        machine.run_ok(
            As::Root,
            &format!(
                "echo \"127.0.1.1 $(hostname)\" >> /etc/hosts && \
                 useradd --create-home --shell /bin/bash --groups sudo {INSTALLER} && \
                 echo '{INSTALLER} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/{INSTALLER} && \
                 cp /readme/dist/*.deb /readme/dist/*.tar.gz /home/{INSTALLER}/ && \
                 chown {INSTALLER}: /home/{INSTALLER}/*"
            ),
        );
        Install {
            machine,
            started,
            path,
            _files: files,
        }
    }

    /// Runs README block `name` as `who`; for the installer, with the editor for `sudoedit`.
    fn block(&self, name: &str, who: As<'_>) -> String {
        let started = Instant::now();
        let script = match who {
            As::Root => {
                // As the README says: `sudo -i`, then the environment file loaded.
                format!(
                    "set -a; . /etc/parkbridge/parkbridge.env; set +a; \
                     sh -ex /readme/blocks/{name}.sh"
                )
            }
            As::User(_) => format!("SUDO_EDITOR=/readme/editor sh -ex /readme/blocks/{name}.sh"),
        };
        let out = self.machine.run(who, &script);
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "[{}] README.md's `{name}` block failed ({}):\n{}\n{shown}\n{}",
            self.path,
            out.status,
            std::fs::read_to_string(self._files.path().join(format!("blocks/{name}.sh"))).unwrap(),
            self.machine.diagnostics()
        );
        eprintln!(
            "[{}] block `{name}`: {:.1}s",
            self.path,
            started.elapsed().as_secs_f64()
        );
        shown
    }

    /// The first-admin block, on a terminal: `user add` asks the password twice.
    fn first_admin(&self) {
        let started = Instant::now();
        let terminal = self.machine.command(
            As::User(INSTALLER),
            &[
                "script",
                "--quiet",
                "--return",
                "--command",
                "sh -ex /readme/blocks/first-admin.sh",
                "/dev/null",
            ],
        );
        let (status, shown) = machine::on_terminal(
            terminal,
            &[("Password: ", PASSWORD), ("Again: ", PASSWORD)],
            Duration::from_secs(120),
        );
        assert!(
            status.success(),
            "[{}] README.md's `first-admin` block failed ({status}):\n{shown}\n{}",
            self.path,
            self.machine.diagnostics()
        );
        eprintln!(
            "[{}] block `first-admin` (password typed twice): {:.1}s",
            self.path,
            started.elapsed().as_secs_f64()
        );
    }

    /// Root's shell in the machine; stdout.
    fn sh(&self, script: &str) -> String {
        self.machine.run_ok(As::Root, script)
    }

    /// The service is active within 30 s, its process runs as a user systemd allocated (not
    /// root), and `/healthz` answers 200 on the configured address within 30 s.
    ///
    /// Waited for, not read once: inside `systemd-nspawn` on a host without systemd, a start right
    /// after a stop has been seen to fail with `219/CGROUP` (the old control group could not be
    /// removed: "Failed to kill control group … Input/output error"), and the unit's
    /// `Restart=on-failure` (`RestartSec=5s`) is there to bring it up again, as on a real machine.
    fn assert_serving(&self) {
        let state = self.machine.run(
            As::Root,
            "for i in $(seq 1 60); do \
               s=$(systemctl is-active parkbridge); [ \"$s\" = active ] && break; sleep 0.5; \
             done; echo \"$s\"",
        );
        assert_eq!(
            String::from_utf8_lossy(&state.stdout).trim(),
            "active",
            "[{}] parkbridge.service is not active:\n{}",
            self.path,
            self.machine.diagnostics()
        );
        let enabled = self.sh("systemctl is-enabled parkbridge");
        assert_eq!(enabled.trim(), "enabled", "[{}]", self.path);
        let health = self.sh(&format!(
            "for i in $(seq 1 60); do \
               code=$(curl -s -o /dev/null -w '%{{http_code}}' http://{LISTEN}/healthz) && \
               [ \"$code\" = 200 ] && break; sleep 0.5; done; echo \"$code\""
        ));
        assert_eq!(
            health.trim(),
            "200",
            "[{}] GET http://{LISTEN}/healthz (the address the installer configured):\n{}",
            self.path,
            self.machine.diagnostics()
        );
        // Asked once it answers: right after the fork, before systemd switches users, the
        // process is still root's.
        let uid = self.sh(
            "pid=$(systemctl show --property MainPID --value parkbridge); \
             awk '/^Uid:/ {print $2}' /proc/$pid/status",
        );
        assert!(
            !uid.trim().is_empty() && uid.trim() != "0",
            "[{}] the service runs as uid {uid:?}, not as the user systemd allocates",
            self.path
        );
    }

    /// The HTTP status of signing in as `username` with `password` (cookie kept in root's home).
    fn sign_in(&self, username: &str, password: &str) -> String {
        self.sh(&format!(
            "curl -s -o /root/login.json -c /root/cookies -w '%{{http_code}}' \
             -H 'Content-Type: application/json' \
             --data '{{\"username\":\"{username}\",\"password\":\"{password}\"}}' \
             http://{LISTEN}/api/v1/auth/login"
        ))
        .trim()
        .to_owned()
    }

    fn finish(self) {
        eprintln!(
            "[{}] everything in {:.1}s",
            self.path,
            self.started.elapsed().as_secs_f64()
        );
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// From the install onwards: the first admin, doctor, a backup, a change, the restore.
fn first_steps_and_operating(install: &Install) {
    let path = install.path;
    install.assert_serving();
    let env = install.sh("cat /etc/parkbridge/parkbridge.env");
    assert!(
        env.lines()
            .any(|l| l == format!("PARKBRIDGE_LISTEN={LISTEN}")),
        "[{path}] the edit through sudoedit did not reach the file:\n{env}"
    );

    install.first_admin();
    install.assert_serving();
    assert_eq!(
        install.sign_in("root", PASSWORD),
        "200",
        "[{path}] the admin of `user add` cannot sign in: {}",
        install.sh("cat /root/login.json")
    );
    let me = install.sh(&format!(
        "curl -s -b /root/cookies http://{LISTEN}/api/v1/auth/me"
    ));
    assert!(
        me.contains("\"root\"") && me.contains("admin"),
        "[{path}] /api/v1/auth/me after signing in: {me}"
    );

    let doctor = install.block("doctor", As::Root);
    assert!(
        doctor.contains("reachable"),
        "[{path}] doctor's table:\n{doctor}"
    );

    install.block("backup", As::Root);
    let header = install.sh("head -c 15 /srv/backup/parkbridge-$(date +%F).db");
    assert_eq!(
        header, "SQLite format 3",
        "[{path}] the backup is not an SQLite database"
    );

    // A user added after the backup, which restoring it must take away again.
    let created = install.sh(&format!(
        "curl -s -o /dev/null -b /root/cookies -w '%{{http_code}}' \
         -H 'Content-Type: application/json' \
         --data '{{\"username\":\"after_backup\",\"password\":\"{PASSWORD}\",\"role\":\"admin\"}}' \
         http://{LISTEN}/api/v1/users"
    ));
    assert!(
        created.trim().starts_with('2'),
        "[{path}] creating a user: {created}"
    );
    assert_eq!(install.sign_in("after_backup", PASSWORD), "200", "[{path}]");

    install.block("restore", As::Root);
    install.assert_serving();
    assert_eq!(
        install.sign_in("root", PASSWORD),
        "200",
        "[{path}] after the restore, the admin cannot sign in"
    );
    assert_ne!(
        install.sign_in("after_backup", PASSWORD),
        "200",
        "[{path}] after the restore, a user added after the backup still signs in"
    );
    let replaced = install.sh("ls /var/lib/parkbridge/");
    assert!(
        replaced.contains("parkbridge.db.replaced-"),
        "[{path}] restore kept no copy of the database it replaced: {replaced}"
    );
}

#[test]
fn the_readme_installs_the_deb_and_operates_it_as_written() {
    let install = Install::boot("deb");
    install.block("install-deb", As::User(INSTALLER));
    let binary = install.sh("command -v parkbridge");
    assert_eq!(binary.trim(), "/usr/bin/parkbridge");
    first_steps_and_operating(&install);
    install.finish();
}

#[test]
fn the_readme_installs_the_tarball_and_operates_it_as_written() {
    let install = Install::boot("tarball");
    install.block("install-tarball", As::User(INSTALLER));
    let binary = install.sh("command -v parkbridge");
    assert_eq!(binary.trim(), "/usr/local/bin/parkbridge");
    first_steps_and_operating(&install);
    install.finish();
}

/// The README's blocks are found without booting anything: a README edit shows here first.
#[test]
fn every_shell_block_of_installing_first_steps_and_operating_is_one_this_test_runs() {
    let blocks = readme_blocks();
    assert_eq!(blocks.len(), BLOCKS.len());
    // Backup and restore run one after the other: restore reads the file backup wrote.
    let backup = block(&blocks, "backup");
    let restore = block(&blocks, "restore");
    let out = backup
        .split_whitespace()
        .skip_while(|w| *w != "--out")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    assert!(
        !out.is_empty() && restore.contains(&format!("--from {out}")),
        "README.md's restore block should read the file its backup block writes ({out}):\n{restore}"
    );
}
