//! `parkbridge backup` and `restore` on the real binary: a backup taken while gate entries and
//! exits keep coming is one consistent instant of the database; restored into a fresh data
//! directory with its master key, a server serves the same stays, coupon records and
//! credentials (a coupon grant still signs and P云 accepts it). A restore is refused while a
//! server runs on the database and keeps the database it replaces; PostgreSQL sites are told
//! the pg_dump command, which works as printed.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use e2e::coupon_site::{self, CouponSite, bearer_client, send};
use e2e::server::{Backend, PgDatabase, TestServer, binary};
use reqwest::Method;
use serde_json::{Value, json};

/// Runs `parkbridge <args…>` with no PARKBRIDGE_* setting but those of `env`.
fn parkbridge(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args).env("RUST_LOG", "warn");
    for (k, _) in std::env::vars() {
        if k.starts_with("PARKBRIDGE_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied())
        .output()
        .expect("parkbridge runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

type Session = (i64, Option<String>, i64, Option<i64>, String, Option<i64>);

async fn sessions(url: &str) -> Vec<Session> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let rows = sqlx::query_as::<_, Session>(
        "SELECT id, plate, entry_at, exit_at, state, fee_due_fen FROM parking_sessions ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

fn sqlite_url(file: &Path) -> String {
    parkbridge::storage::sqlite_url(file)
}

/// Gate traffic until `stop`: car i enters, car i-3 leaves; counts acknowledged entries.
fn gate_traffic(
    site: &CouponSite,
    stop: Arc<AtomicBool>,
    entered: Arc<AtomicI64>,
) -> tokio::task::JoinHandle<()> {
    let gate = bearer_client(
        &site
            .server
            .api_key("gates", "gate", Some(coupon_site::PARK)),
    );
    let base = site.server.base_url.clone();
    tokio::spawn(async move {
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            let plate = format!("粤B{:05}", i);
            let (status, body) = send(
                &gate,
                Method::POST,
                &format!("{base}/api/v1/gate/entries"),
                Some(json!({"park": coupon_site::PARK, "plate": plate})),
            )
            .await;
            assert_eq!(status, 201, "{body}");
            entered.fetch_add(1, Ordering::SeqCst);
            if i >= 3 {
                let plate = format!("粤B{:05}", i - 3);
                let (status, body) = send(
                    &gate,
                    Method::POST,
                    &format!("{base}/api/v1/gate/exits"),
                    Some(json!({"park": coupon_site::PARK, "plate": plate})),
                )
                .await;
                assert_eq!(status, 200, "{body}");
            }
            i += 1;
        }
    })
}

async fn records(client: &reqwest::Client, server: &TestServer) -> Vec<Value> {
    let (status, body) = send(
        client,
        Method::GET,
        &server.url("/api/v1/coupon-records?kind=grant&limit=200"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut list = body["records"].as_array().cloned().expect("records");
    list.sort_by_key(|r| r["id"].as_i64());
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_gate_traffic_restores_to_the_same_installation() {
    let pyun = coupon_site::sandbox(&["粤B12345"]);
    let site = CouponSite::start(Backend::Sqlite, pyun, &coupon_site::FAST_RETRIES).await;
    for n in 0..3 {
        let (status, record) = site.grant(&format!("g-{n}"), "粤B12345").await;
        assert_eq!(
            (status.as_u16(), record["state"].as_str()),
            (200, Some("delivered")),
            "{record}"
        );
    }
    let data = site.server.data_dir.path().to_owned();
    let data_arg = data.display().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let entered = Arc::new(AtomicI64::new(0));
    let traffic = gate_traffic(&site, stop.clone(), entered.clone());
    while entered.load(Ordering::SeqCst) < 50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("parkbridge-backup.db");
    let backup_arg = backup.display().to_string();
    let before = entered.load(Ordering::SeqCst);
    let started = Instant::now();
    let args = ["backup", "--data-dir", &data_arg, "--out", &backup_arg];
    let out = tokio::task::spawn_blocking({
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || parkbridge(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
    })
    .await
    .unwrap();
    let took = started.elapsed();
    let after = entered.load(Ordering::SeqCst);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("backup written:"), "{said}");
    assert!(
        said.contains("master key")
            && said.contains(&format!("{}", data.join("master.key").display())),
        "{said}"
    );
    assert!(
        !said.contains(
            &std::fs::read_to_string(data.join("master.key"))
                .unwrap()
                .trim()
                .to_owned()
        )
    );
    // Traffic goes on for a while after the backup.
    while entered.load(Ordering::SeqCst) < after + 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    traffic.await.unwrap();
    eprintln!(
        "backup of {} bytes (database {} bytes + WAL) took {took:?} with {before}..{after} entries acknowledged",
        std::fs::metadata(&backup).unwrap().len(),
        std::fs::metadata(data.join("parkbridge.db")).unwrap().len()
    );

    // One instant: every stay acknowledged before the backup began is in it, none acknowledged
    // after it ended, ids without holes, and each stay as it was then (a closed one unchanged).
    let live = sessions(&site.server.database_url()).await;
    let copy = sessions(&sqlite_url(&backup)).await;
    let k = copy.len() as i64;
    assert!(k >= before && k <= after, "{before} ≤ {k} ≤ {after}");
    for (i, row) in copy.iter().enumerate() {
        let now = &live[i];
        assert_eq!((row.0, &row.1, row.2), (now.0, &now.1, now.2));
        if row.4 == "closed" {
            assert_eq!(row, now);
        }
    }

    // Never over an existing file without --force.
    let out = parkbridge(&args, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("exists"), "{}", text(&out));

    // Into a folder that does not exist: the folder is named, and nothing is written.
    let nowhere = out_dir.path().join("no-such-folder").join("b.db");
    let nowhere_arg = nowhere.to_string_lossy().into_owned();
    let out = parkbridge(
        &["backup", "--data-dir", &data_arg, "--out", &nowhere_arg],
        &[],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("no-such-folder does not exist"),
        "{}",
        text(&out)
    );

    // Refused while the server runs, which keeps serving the same database.
    let out = parkbridge(
        &["restore", "--data-dir", &data_arg, "--from", &backup_arg],
        &[],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("is running on"), "{}", text(&out));
    assert_eq!(
        sessions(&site.server.database_url()).await.len(),
        live.len()
    );
    let aside = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("parkbridge.db.replaced-")
            })
            .map(|e| e.path())
            .collect::<Vec<_>>()
    };
    assert!(aside(&data).is_empty());

    // A fresh data directory: refused without the master key, restored with it.
    let fresh = tempfile::tempdir().unwrap();
    let fresh_arg = fresh.path().display().to_string();
    let restore = ["restore", "--data-dir", &fresh_arg, "--from", &backup_arg];
    let out = parkbridge(&restore, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no master key"), "{}", text(&out));
    std::fs::copy(data.join("master.key"), fresh.path().join("master.key")).unwrap();
    let out = parkbridge(&restore, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("no database to replace"),
        "{}",
        text(&out)
    );

    let pyun_url = format!("PARKBRIDGE_PYUN_BASE_URL={}", site.running.base_url);
    let restored = TestServer::start_in(fresh, &[&pyun_url]).expect("the restored instance starts");
    let restored_sessions = sessions(&restored.database_url()).await;
    assert_eq!(
        restored_sessions, copy,
        "the restored instance holds the backup's stays"
    );
    let admin = restored.signed_in("root", coupon_site::ADMIN_PW).await;
    let id = copy[0].0;
    assert_eq!(copy[0].4, "closed");
    let (status, stay) = send(
        &admin,
        Method::GET,
        &restored.url(&format!("/api/v1/sessions/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{stay}");
    let (status, original) = send(
        &site.admin,
        Method::GET,
        &site.server.url(&format!("/api/v1/sessions/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&stay["session"], &stay["figure"]),
        (&original["session"], &original["figure"])
    );
    assert_eq!(
        records(&admin, &restored).await,
        records(&site.admin, &site.server).await
    );
    // The credential's sealed secret opens: a grant signs and the sandbox accepts it.
    let key = restored.api_key("charger-2", "coupons", Some(coupon_site::PARK));
    let (status, record) = send(&bearer_client(&key), Method::POST, &restored.url("/api/v1/coupons/grants"),
        Some(json!({"park": coupon_site::PARK, "coupon": coupon_site::PRODUCT, "plate": "粤B12345", "grant_id": "after-restore"}))).await;
    assert_eq!(
        (status.as_u16(), record["state"].as_str()),
        (200, Some("delivered")),
        "{record}"
    );
    drop(restored);

    // Restoring over the original, once stopped: the database it replaces is kept aside whole.
    let mut server = site.server;
    assert!(server.terminate().success());
    let out = parkbridge(
        &["restore", "--data-dir", &data_arg, "--from", &backup_arg],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let kept = aside(&data);
    assert_eq!(kept.len(), 1, "{kept:?}");
    // P云's call log of the replaced database goes aside with it; the server starts a new one.
    let calls_kept: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("parkbridge-calls.db.replaced-"))
        .collect();
    assert_eq!(calls_kept.len(), 1, "{calls_kept:?}");
    assert!(!data.join("parkbridge-calls.db").exists());
    assert!(text(&out).contains(&calls_kept[0]), "{}", text(&out));
    assert!(
        text(&out).contains(&kept[0].display().to_string()),
        "{}",
        text(&out)
    );
    assert_eq!(
        sessions(&sqlite_url(&kept[0])).await,
        live,
        "the replaced database is kept whole"
    );
    assert_eq!(sessions(&server.database_url()).await, copy);
}

#[tokio::test]
async fn a_file_that_is_not_a_parkbridge_backup_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.db");
    std::fs::write(&bogus, b"not a database at all, just some bytes").unwrap();
    let data = dir.path().join("data").display().to_string();
    let out = parkbridge(
        &[
            "restore",
            "--data-dir",
            &data,
            "--from",
            &bogus.display().to_string(),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a readable SQLite database") || text(&out).contains("cannot open"),
        "{}",
        text(&out)
    );
    let other = dir.path().join("other.db");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&sqlite_url(&other)).await.unwrap();
    sqlx::query("CREATE TABLE t (x INTEGER)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = parkbridge(
        &[
            "restore",
            "--data-dir",
            &data,
            "--from",
            &other.display().to_string(),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a ParkBridge database"),
        "{}",
        text(&out)
    );
    assert!(!Path::new(&data).join("parkbridge.db").exists());
}

#[tokio::test]
async fn postgres_sites_are_given_a_pg_dump_command_that_works() {
    let server = TestServer::start_on(Backend::Postgres);
    server.add_user("root", "admin", "pg-admin-password-1");
    let out_dir = tempfile::tempdir().unwrap();
    let dump = out_dir.path().join("parkbridge.dump");
    let mut args = vec![
        "backup".to_owned(),
        "--out".to_owned(),
        dump.display().to_string(),
    ];
    args.extend(server.db_args().iter().cloned());
    let out = parkbridge(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(!out.status.success());
    let said = text(&out);
    let command = said
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("pg_dump "))
        .unwrap_or_else(|| panic!("no pg_dump command in:\n{said}"));
    assert!(command.contains(&server.database_url()), "{command}");
    assert!(said.contains("master key"), "{said}");
    let ran = Command::new("sh").args(["-c", command]).output().unwrap();
    assert!(ran.status.success(), "{command}: {}", text(&ran));
    assert!(std::fs::metadata(&dump).unwrap().len() > 0);

    // And the pg_restore line puts it back into an empty database a server then runs on.
    let target = PgDatabase::create();
    let restore_line = said
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("pg_restore "))
        .unwrap()
        .replace(&server.database_url(), &target.url());
    let ran = Command::new("sh")
        .args(["-c", &restore_line])
        .output()
        .unwrap();
    assert!(ran.status.success(), "{restore_line}: {}", text(&ran));
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&target.url()).await.unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username = 'root'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
    pool.close().await;

    let mut args = vec![
        "restore".to_owned(),
        "--from".to_owned(),
        dump.display().to_string(),
    ];
    args.extend(server.db_args().iter().cloned());
    let out = parkbridge(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_restore"), "{}", text(&out));
}
