//! `parkbridge doctor` on the real binary, with serve's own options and environment: a healthy
//! installation (the sandboxes as P云 and Mallcoo) passes with every row ok; a wrong master
//! key, an unreachable partner, an empty or half-migrated database each FAIL with the reason; a
//! car park missing its Mallcoo key pair and an open problem are listed. Secrets never show.

use std::process::Command;

use e2e::coupon_site::{self, CouponSite, send};
use e2e::mallcoo_site::{OUT_APP_ID, OUT_PRIVATE_KEY, OUT_PUBLIC_KEY};
use e2e::server::{Backend, PgDatabase, TestServer, binary};
use reqwest::Method;
use sandbox::mallcoo::MallcooSandbox;
use serde_json::json;

const UPLOAD_SECRET: &str = "doctor-upload-secret-91ab";
const DOWNLINK_KEY: &str = "doctor-downlink-key-27cd";

/// What one run of `parkbridge doctor` said.
struct Doctor {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Doctor {
    /// Status and detail of the rows named `check` exactly.
    fn rows(&self, check: &str) -> Vec<(String, String)> {
        self.stdout
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(check)?;
                rest.starts_with("  ").then_some(())?;
                let rest = rest.trim_start();
                let (status, detail) = rest.split_once(' ').unwrap_or((rest, ""));
                Some((status.to_owned(), detail.trim().to_owned()))
            })
            .collect()
    }

    /// The one row named `check`.
    fn row(&self, check: &str) -> (String, String) {
        let rows = self.rows(check);
        assert_eq!(
            rows.len(),
            1,
            "one row `{check}` expected in:\n{}",
            self.stdout
        );
        rows.into_iter().next().unwrap()
    }

    fn assert_row(&self, check: &str, status: &str, detail_has: &str) {
        let (s, d) = self.row(check);
        assert_eq!(s, status, "row `{check}`: {d}\n{}", self.stdout);
        assert!(
            d.contains(detail_has),
            "row `{check}` lacks {detail_has:?}: {d}\n{}",
            self.stdout
        );
    }

    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `parkbridge doctor` with `db_args` and the environment `env` (nothing inherited from
/// the test's own PARKBRIDGE_* settings but what is given).
fn doctor(db_args: &[String], env: &[(&str, &str)]) -> Doctor {
    let mut cmd = Command::new(binary());
    cmd.arg("doctor")
        .args(db_args)
        .args(["--probe-timeout-secs", "3"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("PARKBRIDGE_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.envs(env.iter().copied()).output().expect("doctor runs");
    let d = Doctor {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        d.stdout.starts_with("CHECK"),
        "a table is printed:\n{}",
        d.all()
    );
    d
}

/// A car park with every integration wired to the sandboxes, and the secrets it holds.
struct Healthy {
    site: CouponSite,
    mallcoo_url: String,
    _mallcoo: sandbox::mallcoo::RunningSandbox,
    secrets: Vec<String>,
}

impl Healthy {
    async fn start(backend: Backend) -> Healthy {
        let mallcoo = MallcooSandbox::new();
        mallcoo.add_app(OUT_APP_ID, OUT_PUBLIC_KEY, OUT_PRIVATE_KEY);
        mallcoo.add_park_code("DOC-P1");
        let running = mallcoo.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mallcoo_url = running.base_url.clone();
        let env = format!("PARKBRIDGE_MALLCOO_BASE_URL={mallcoo_url}");
        let site = CouponSite::start(backend, coupon_site::sandbox(&[]), &[&env]).await;
        let mut ids = Vec::new();
        let mut issued_private = String::new();
        for body in [
            json!({"name": "mallcoo-out", "kind": "mallcoo_outbound", "app_id": OUT_APP_ID,
                   "public_key": OUT_PUBLIC_KEY, "private_key": OUT_PRIVATE_KEY}),
            json!({"name": "mallcoo-in", "kind": "mallcoo_inbound"}),
            json!({"name": "pyun-carpark", "kind": "pyun_carpark",
                   "upload_secret": UPLOAD_SECRET, "downlink_key": DOWNLINK_KEY}),
        ] {
            let (status, created) = send(
                &site.admin,
                Method::POST,
                &site.server.url("/api/v1/credentials"),
                Some(body),
            )
            .await;
            assert_eq!(status, 201, "{created}");
            if let Some(k) = created["issued"]["private_key"].as_str() {
                issued_private = k.to_owned();
            }
            ids.push(created["credential"]["id"].as_i64().unwrap());
        }
        let (status, park) = send(
            &site.admin,
            Method::PUT,
            &site.server.url(&format!("/api/v1/parks/{}", site.park_id)),
            Some(json!({
                "code": coupon_site::PARK, "name": "测试广场",
                "pyun_api_store_code": coupon_site::STORE, "pyun_merchant": coupon_site::MERCHANT,
                "pyun_park_uuid": "park-uuid-1", "pyun_credential_id": site.credential_id,
                "mallcoo_park_id": "doc-park-1", "mallcoo_park_code": "DOC-P1",
                "mallcoo_out_credential_id": ids[0], "mallcoo_in_credential_id": ids[1],
                "pyun_carpark_credential_id": ids[2],
            })),
        )
        .await;
        assert_eq!(status, 200, "{park}");
        let key = std::fs::read_to_string(site.server.data_dir.path().join("master.key")).unwrap();
        Healthy {
            secrets: vec![
                coupon_site::APP_SECRET.to_owned(),
                OUT_PRIVATE_KEY.to_owned(),
                UPLOAD_SECRET.to_owned(),
                DOWNLINK_KEY.to_owned(),
                issued_private,
                key.trim().to_owned(),
            ],
            site,
            mallcoo_url,
            _mallcoo: running,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "PARKBRIDGE_PYUN_BASE_URL",
                self.site.running.base_url.clone(),
            ),
            ("PARKBRIDGE_MALLCOO_BASE_URL", self.mallcoo_url.clone()),
        ]
    }

    fn doctor_with(&self, changes: &[(&'static str, &str)]) -> Doctor {
        let mut env = self.env();
        for (k, v) in changes {
            env.retain(|(name, _)| name != k);
            env.push((k, (*v).to_owned()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let d = doctor(self.site.server.db_args(), &env);
        for secret in &self.secrets {
            assert!(
                !d.all().contains(secret.as_str()),
                "a secret was printed:\n{}",
                d.all()
            );
        }
        d
    }
}

async fn a_healthy_installation_passes_and_each_breakage_is_named(backend: Backend) {
    let h = Healthy::start(backend).await;
    let d = h.doctor_with(&[]);
    assert!(d.success, "exit 0 expected:\n{}", d.all());
    eprintln!("{}", d.stdout);
    assert!(!d.stdout.contains("FAIL  "), "{}", d.stdout);
    d.assert_row("database", "ok", "reachable");
    d.assert_row("migrations", "ok", "none pending");
    d.assert_row("master key", "ok", "it is this database's key");
    d.assert_row("sealed secrets", "ok", "all open: 4 credential(s)");
    d.assert_row(
        "park mall-a",
        "ok",
        "P云 coupons/VIP, P云 car-park access, Mallcoo V1.4, Mallcoo entry notices",
    );
    d.assert_row("park mall-a · P云 coupons/VIP", "ok", "1 coupon code(s)");
    d.assert_row(
        "park mall-a · P云 car-park access",
        "ok",
        "credential 'pyun-carpark'",
    );
    d.assert_row(
        "park mall-a · Mallcoo V1.4",
        "ok",
        "credential 'mallcoo-in'",
    );
    d.assert_row(
        "park mall-a · Mallcoo entry notices",
        "ok",
        "ParkCode DOC-P1",
    );
    d.assert_row("P云 address", "ok", "connected to 127.0.0.1");
    d.assert_row("Mallcoo address", "ok", "connected to 127.0.0.1");
    d.assert_row("clock", "ok", "P云's Date header");
    assert_ne!(d.row("disk").0, "FAIL");
    d.assert_row("problems", "ok", "none open");

    // The wrong master key: the key row and every sealed value's owner FAIL, values unshown.
    let d = h.doctor_with(&[("PARKBRIDGE_MASTER_KEY", &"ab".repeat(32))]);
    assert!(!d.success, "{}", d.all());
    d.assert_row("master key", "FAIL", "sealed with another key");
    for name in ["pyun", "mallcoo-out", "mallcoo-in", "pyun-carpark"] {
        d.assert_row(
            &format!("credential '{name}'"),
            "FAIL",
            "does not open with this master key",
        );
    }

    // A partner that refuses connections, and one whose host does not resolve.
    let d = h.doctor_with(&[
        ("PARKBRIDGE_PYUN_BASE_URL", "http://127.0.0.1:9"),
        (
            "PARKBRIDGE_MALLCOO_BASE_URL",
            "https://mallcoo.doctor-test.invalid",
        ),
    ]);
    assert!(!d.success, "{}", d.all());
    d.assert_row("P云 address", "FAIL", "cannot connect to 127.0.0.1:9");
    d.assert_row("Mallcoo address", "FAIL", "does not resolve");
    d.assert_row("clock", "warn", "not checked");

    // A second car park on Mallcoo without the key pair Mallcoo signs with, and an open problem:
    // listed as warnings, the exit code stays 0.
    let (status, park) = send(
        &h.site.admin,
        Method::POST,
        &h.site.server.url("/api/v1/parks"),
        Some(json!({
            "code": "mall-b", "name": "乙广场", "mallcoo_park_id": "doc-park-2"
        })),
    )
    .await;
    assert_eq!(status, 201, "{park}");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.site.server.database_url())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO problems (kind, park_id, subject, label, state, open_key, first_seen, last_seen, count, examples_json, link_path) \
         VALUES ('credential_refused', $1, 'partner:pyun', 'pyun', 'open', 'doctor-test', $2, $2, 3, '[]', '/credentials')",
    )
    .bind(h.site.park_id)
    .bind(chrono::Utc::now().timestamp_millis())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let d = h.doctor_with(&[]);
    assert!(d.success, "warnings only:\n{}", d.all());
    d.assert_row(
        "park mall-b · Mallcoo V1.4",
        "warn",
        "missing: the key pair issued to Mallcoo",
    );
    let problem = d
        .stdout
        .lines()
        .find(|l| l.starts_with("problem #"))
        .unwrap_or_else(|| panic!("the open problem is listed:\n{}", d.stdout));
    assert!(
        problem.contains("warn") && problem.contains("Credential refused at 测试广场"),
        "{problem}"
    );
}

mod healthy_and_broken {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_healthy_installation_passes_and_each_breakage_is_named(super::Backend::Sqlite)
            .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_healthy_installation_passes_and_each_breakage_is_named(super::Backend::Postgres)
            .await;
    }
}

#[test]
fn a_missing_sqlite_database_fails_and_doctor_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = vec!["--data-dir".to_owned(), data.display().to_string()];
    let d = doctor(&args, &[("PARKBRIDGE_PYUN_BASE_URL", "http://127.0.0.1:9")]);
    assert!(!d.success);
    d.assert_row("database", "FAIL", "no SQLite database at");
    d.assert_row("master key", "FAIL", "no master key");
    assert!(!data.exists(), "doctor created {}", data.display());
    assert!(d.stderr.contains("check(s) failed"), "{}", d.stderr);
}

#[tokio::test]
async fn a_pending_migration_fails_and_is_not_applied() {
    let mut server = TestServer::start();
    let status = server.terminate();
    assert!(status.success());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&server.database_url())
        .await
        .unwrap();
    let latest: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(latest)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let d = doctor(server.db_args(), &[]);
    assert!(!d.success);
    d.assert_row("migrations", "FAIL", &format!("pending: {latest} "));
    d.assert_row("car parks", "warn", "not checked");
    let pool = sqlx::AnyPool::connect(&server.database_url())
        .await
        .unwrap();
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE version = $1")
        .bind(latest)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(still, 0, "doctor never migrates");
}

#[tokio::test]
async fn an_empty_postgres_database_fails_as_unmigrated_and_stays_empty() {
    let pg = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let args = vec![
        "--data-dir".to_owned(),
        dir.path().display().to_string(),
        "--database-url".to_owned(),
        pg.url(),
    ];
    let d = doctor(&args, &[("PARKBRIDGE_MASTER_KEY", &"cd".repeat(32))]);
    assert!(!d.success);
    d.assert_row("database", "ok", "PostgreSQL");
    d.assert_row("migrations", "FAIL", "none applied");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&pg.url()).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(tables, 0, "doctor created tables");
}

/// `openssl s_server` with a fresh self-signed certificate for `localhost`; killed on drop.
struct TlsServer {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn self_signed_tls_server() -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-accept", &port.to_string(), "-cert"])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "s_server did not listen"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    TlsServer {
        child,
        port,
        _dir: dir,
    }
}

#[test]
fn an_https_partner_whose_certificate_is_not_trusted_fails_the_handshake() {
    let tls = self_signed_tls_server();
    let dir = tempfile::tempdir().unwrap();
    let args = vec!["--data-dir".to_owned(), dir.path().display().to_string()];
    let url = format!("https://localhost:{}", tls.port);
    let d = doctor(
        &args,
        &[
            ("PARKBRIDGE_PYUN_BASE_URL", &url),
            ("PARKBRIDGE_MALLCOO_BASE_URL", &url),
        ],
    );
    assert!(!d.success);
    let (status, detail) = d.row("P云 address");
    assert_eq!(status, "FAIL", "{detail}");
    assert!(
        detail.contains("connected to")
            && detail.contains("the TLS handshake with localhost failed"),
        "{detail}"
    );
    assert!(detail.contains("certificate"), "{detail}");
    d.assert_row("clock", "warn", "not checked");
}
