//! What `cargo xtask dist` made in target/dist/ (`cargo xtask test` runs it first): the `.deb`
//! holds the binary, a disabled hardened unit and a root-only conffile; the binary needs no
//! glibc newer than 2.17; unpacked and started with no `--static-dir`, it serves the admin UI
//! it carries, which Chromium loads and signs in to.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use e2e::browser::Browser;
use e2e::server::workspace_root;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH};

/// The one file in target/dist/ whose name ends with `suffix`.
fn artifact(suffix: &str) -> PathBuf {
    let dist = workspace_root().join("target/dist");
    let found: Vec<PathBuf> = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask dist` first", dist.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "target/dist/ should hold one *{suffix}: {found:?}; run `cargo xtask dist`"
    );
    found.into_iter().next().unwrap()
}

/// Runs a command and returns its stdout, failing the test with its stderr.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn unpack_deb(into: &Path) -> PathBuf {
    let deb = artifact(".deb");
    run(
        "dpkg-deb",
        &["-x", &deb.to_string_lossy(), &into.to_string_lossy()],
    );
    into.to_path_buf()
}

/// The installed unit's path inside the package (Debian moved units from /lib to /usr/lib).
fn unit_in(root: &Path) -> PathBuf {
    ["usr/lib/systemd/system", "lib/systemd/system"]
        .iter()
        .map(|d| root.join(d).join("parkbridge.service"))
        .find(|p| p.is_file())
        .expect("the package installs parkbridge.service")
}

#[test]
fn the_deb_installs_the_binary_a_disabled_hardened_unit_and_a_root_only_conffile() {
    let deb = artifact(".deb");
    let deb_s = deb.to_string_lossy().into_owned();
    let contents = run("dpkg-deb", &["--contents", &deb_s]);
    let line_of = |path: &str| {
        contents
            .lines()
            .find(|l| l.ends_with(path))
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{contents}"))
            .to_owned()
    };
    // `mode owner/group …`; dpkg-deb names root as `root/root` or `0/0`.
    let owned_by_root_with = |line: &str, mode: &str| {
        let mut fields = line.split_whitespace();
        assert_eq!(fields.next(), Some(mode), "{line}");
        let owner = fields.next().unwrap_or_default();
        assert!(owner == "root/root" || owner == "0/0", "{line}");
    };
    owned_by_root_with(&line_of("./usr/bin/parkbridge"), "-rwxr-xr-x");
    // The database password and the master key may go in here: root only.
    owned_by_root_with(&line_of("./etc/parkbridge/parkbridge.env"), "-rw-r-----");
    line_of("/systemd/system/parkbridge.service");

    let control = tempfile::tempdir().unwrap();
    run(
        "dpkg-deb",
        &["-e", &deb_s, &control.path().to_string_lossy()],
    );
    let read = |name: &str| std::fs::read_to_string(control.path().join(name)).unwrap_or_default();
    // A conffile: an upgrade never overwrites what the operator configured.
    assert!(
        read("conffiles")
            .lines()
            .any(|l| l == "/etc/parkbridge/parkbridge.env"),
        "conffiles: {}",
        read("conffiles")
    );
    assert!(
        read("control").contains("libc6 (>= 2.17)"),
        "{}",
        read("control")
    );
    // Installed disabled and stopped, until an admin has configured it.
    let postinst = read("postinst");
    for forbidden in [
        "deb-systemd-helper enable",
        "deb-systemd-invoke start",
        "deb-systemd-invoke restart",
    ] {
        let active = postinst
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .any(|l| l.contains(forbidden) && !l.contains("was-enabled"));
        assert!(!active, "postinst runs `{forbidden}`:\n{postinst}");
    }

    let root = tempfile::tempdir().unwrap();
    unpack_deb(root.path());
    let unit_path = unit_in(root.path());
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    for line in [
        "ExecStart=/usr/bin/parkbridge serve",
        "EnvironmentFile=/etc/parkbridge/parkbridge.env",
        "DynamicUser=yes",
        "StateDirectory=parkbridge",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute=yes",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks `{line}`");
    }
    // The packaged environment file is the committed one, and sets nothing: every line is a
    // comment showing a default, so the binary's own defaults apply until the admin edits it.
    let env = std::fs::read_to_string(root.path().join("etc/parkbridge/parkbridge.env")).unwrap();
    let committed =
        std::fs::read_to_string(workspace_root().join("server/debian/parkbridge.env")).unwrap();
    assert_eq!(env, committed);
    assert!(env.lines().all(|l| l.is_empty() || l.starts_with('#')));
    assert!(env.contains("#PARKBRIDGE_LISTEN=127.0.0.1:8080"));

    // systemd's own reading of the unit, where systemd is installed: no unknown or misspelt
    // setting. ExecStart must name a file that exists, so the copy points at the unpacked one.
    if Path::new("/usr/bin/systemd-analyze").is_file() {
        let check = tempfile::tempdir().unwrap();
        let copy = check.path().join("parkbridge.service");
        let bin = root.path().join("usr/bin/parkbridge");
        std::fs::write(
            &copy,
            unit.replace("/usr/bin/parkbridge", &bin.to_string_lossy()),
        )
        .unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&copy)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        let about_ours: Vec<&str> = said
            .lines()
            .filter(|l| l.contains("parkbridge.service"))
            .collect();
        assert!(
            out.status.success() && about_ours.is_empty(),
            "systemd-analyze verify: {said}"
        );
    }
}

#[test]
fn the_release_binary_needs_no_glibc_newer_than_2_17() {
    let root = tempfile::tempdir().unwrap();
    unpack_deb(root.path());
    let bin = root.path().join("usr/bin/parkbridge");
    // The check the issue names, as an operator would type it.
    let newest = run(
        "sh",
        &[
            "-c",
            &format!(
                "objdump -T '{}' | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1",
                bin.display()
            ),
        ],
    );
    let newest = newest.trim();
    let version: Vec<u32> = newest
        .strip_prefix("GLIBC_")
        .unwrap_or_else(|| panic!("no glibc version in {newest:?}"))
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(version <= vec![2, 17], "the binary needs {newest}");

    // The tarball carries the same binary, with the unit naming where it is installed by hand.
    let tar = tempfile::tempdir().unwrap();
    run(
        "tar",
        &[
            "-xzf",
            &artifact(".tar.gz").to_string_lossy(),
            "-C",
            &tar.path().to_string_lossy(),
        ],
    );
    let top: Vec<PathBuf> = std::fs::read_dir(tar.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(top.len(), 1, "one top-level folder: {top:?}");
    let dir = &top[0];
    assert!(
        std::fs::read(dir.join("parkbridge")).unwrap() == std::fs::read(&bin).unwrap(),
        "the tarball and the .deb carry different binaries"
    );
    let unit = std::fs::read_to_string(dir.join("parkbridge.service")).unwrap();
    assert!(unit.contains("\nExecStart=/usr/local/bin/parkbridge serve\n"));
    use std::os::unix::fs::PermissionsExt;
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("parkbridge"), 0o755);
    assert_eq!(mode("parkbridge.env"), 0o640);
}

/// The unpacked binary, serving from an empty working directory with no `--static-dir` and no
/// `PARKBRIDGE_STATIC_DIR`: whatever UI it serves, it carries.
struct Unpacked {
    child: Child,
    base: String,
    _data: tempfile::TempDir,
    _cwd: tempfile::TempDir,
}

impl Unpacked {
    fn start(bin: &Path, admin_password: &str) -> Unpacked {
        let data = tempfile::tempdir().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        let command = |args: &[&str]| {
            let mut c = Command::new(bin);
            c.args(args)
                .arg("--data-dir")
                .arg(data.path())
                .current_dir(cwd.path())
                .env_remove("PARKBRIDGE_STATIC_DIR")
                .env("PARKBRIDGE_PYUN_BASE_URL", e2e::server::UNREACHABLE_PYUN)
                .env("RUST_LOG", "warn");
            c
        };
        let mut add = command(&[
            "user",
            "add",
            "--username",
            "admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
        writeln!(add.stdin.take().unwrap(), "{admin_password}").unwrap();
        assert!(add.wait().unwrap().success(), "user add failed");
        let mut child = command(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let base = first
            .trim()
            .strip_prefix("ParkBridge listening on ")
            .unwrap_or_else(|| panic!("the packaged binary did not start: {first:?}"))
            .trim_end_matches('/')
            .to_owned();
        Unpacked {
            child,
            base,
            _data: data,
            _cwd: cwd,
        }
    }
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_unpacked_binary_serves_the_ui_it_carries_compressed_and_chromium_signs_in() {
    let root = tempfile::tempdir().unwrap();
    unpack_deb(root.path());
    let server = Unpacked::start(&root.path().join("usr/bin/parkbridge"), "admin-password-1");
    let http = reqwest::Client::new();

    let health: serde_json::Value = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "ok");

    // The wasm module, compressed at build time, is the UI `cargo xtask dist` built.
    let wasm = http
        .get(format!("{}/frontend_bg.wasm", server.base))
        .header(ACCEPT_ENCODING, "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()[CONTENT_ENCODING], "br");
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(wasm.headers()[CACHE_CONTROL], "no-cache");
    let tag = wasm.headers()[ETAG].to_str().unwrap().to_owned();
    let mut unpacked = Vec::new();
    brotli::Decompressor::new(&wasm.bytes().await.unwrap()[..], 4096)
        .read_to_end(&mut unpacked)
        .unwrap();
    let built = std::fs::read(e2e::server::static_dir().join("frontend_bg.wasm")).unwrap();
    assert!(
        unpacked == built,
        "the package carries another UI than frontend/dist: run `cargo xtask dist` again"
    );
    let again = http
        .get(format!("{}/frontend_bg.wasm", server.base))
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // A client-side route gets the page, with the same tag as the root's.
    let root_tag = http
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap()
        .headers()[ETAG]
        .clone();
    let route = http
        .get(format!("{}/vip/records", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(route.status(), 200);
    assert_eq!(route.headers()[ETAG], root_tag);

    let browser = Browser::start().await;
    browser
        .sign_in(&server.base, "admin", "admin-password-1")
        .await;
    browser.element("parks-empty").await;
    let paths = browser.fetched_paths().await;
    assert!(
        paths.iter().any(|p| p.contains("split_park_pages")),
        "the car parks' page group came from the binary too: {paths:?}"
    );
    browser.close().await;
}
