//! The packaged `/etc/parkbridge/parkbridge.env` (server/debian/parkbridge.env) is derived from
//! `serve`'s options: every one with its help and its default, commented out. This test renders
//! it from the clap definition and fails when the committed file differs, so a new option can
//! never be missing from what an operator reads.

use clap::CommandFactory;

use super::Cli;

/// Options whose value under systemd is not the binary's own default: the unit sets them.
const SET_BY_THE_UNIT: &[(&str, &str, &str)] = &[(
    "PARKBRIDGE_DATA_DIR",
    "/var/lib/parkbridge",
    "parkbridge.service sets it to its state directory, /var/lib/parkbridge; another directory \
     must also be made writable with `ReadWritePaths=` in a drop-in (`systemctl edit parkbridge`).",
)];

/// Read from the environment only, not from the command line.
const ENVIRONMENT_ONLY: &[(&str, &str)] = &[
    (
        "PARKBRIDGE_MASTER_KEY",
        "The master key itself (64 hex digits) instead of the key file: every instance sharing \
         one PostgreSQL database needs the same one. Keep a safe copy with the database \
         backups: without it their stored credentials cannot be opened.",
    ),
    (
        "RUST_LOG",
        "What is logged, e.g. `info` or `parkbridge=debug,info` [default: info].",
    ),
];

const HEADER: &str = "\
# /etc/parkbridge/parkbridge.env: the settings of `parkbridge serve` under systemd.
#
# parkbridge.service reads this file; after a change run `systemctl restart parkbridge`.
# Every option of `parkbridge serve --help` is listed with its default and commented out: a
# line takes effect once its leading `#` is removed. Values are literal (no quotes needed).
# Only root can read this file (mode 640): it may hold a database password or the master key.
# It is a configuration file of the package: an upgrade never overwrites it.
";

const WIDTH: usize = 96;

/// The file as the options describe it.
fn render() -> String {
    let cli = Cli::command();
    let serve = cli
        .find_subcommand("serve")
        .expect("`serve` is a subcommand");
    let mut out = String::from(HEADER);
    // The global options (`--log-format`) belong to `serve` too.
    let args = cli
        .get_arguments()
        .chain(serve.get_arguments())
        .filter(|a| a.get_env().is_some());
    for arg in args {
        let name = arg
            .get_env()
            .expect("filtered")
            .to_string_lossy()
            .into_owned();
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map_or_else(String::new, |h| h.to_string());
        let mut value = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy())
            .collect::<Vec<_>>()
            .join(",");
        let mut note = None;
        if let Some((_, v, why)) = SET_BY_THE_UNIT.iter().find(|(n, ..)| *n == name) {
            value = (*v).to_owned();
            note = Some(*why);
        }
        out.push('\n');
        comment(&mut out, &help);
        if let Some(note) = note {
            comment(&mut out, note);
        }
        out.push_str(&format!("#{name}={value}\n"));
    }
    out.push_str("\n# Read from the environment only:\n");
    for (name, help) in ENVIRONMENT_ONLY {
        out.push('\n');
        comment(&mut out, help);
        out.push_str(&format!("#{name}=\n"));
    }
    out
}

/// `text` as `# ` lines of at most `WIDTH` characters.
fn comment(out: &mut String, text: &str) {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut line = String::from("#");
    for word in words {
        if line.chars().count() + 1 + word.chars().count() > WIDTH && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    if line.len() > 1 {
        out.push_str(&line);
        out.push('\n');
    }
}

#[test]
fn the_packaged_environment_file_lists_every_serve_option_with_its_default() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("debian/parkbridge.env");
    let expected = render();
    if std::env::var_os("PARKBRIDGE_WRITE_ENV_FILE").is_some() {
        std::fs::write(&path, &expected).expect("write the environment file");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is not what `serve`'s options say; regenerate it with \
         `PARKBRIDGE_WRITE_ENV_FILE=1 cargo test -p parkbridge --lib env_file` and commit it",
        path.display()
    );
}
