//! The command line as a newcomer meets it: `doelpoort demo` prints curl lines that work when pasted; usage
//! errors exit 2, runtime failures exit 1, each with one sentence on stderr.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn doelpoort() -> Command {
    Command::new(env!("CARGO_BIN_EXE_doelpoort"))
}

/// Starts `demo` on a free port, returns the child and the printed lines up to the closing one.
fn start_demo(dir: &std::path::Path) -> (std::process::Child, Vec<String>) {
    start_demo_in(dir, std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// As [`start_demo`], run from `cwd` (outside a checkout the demo writes the sample covenant into DIR/policies).
fn start_demo_in(dir: &std::path::Path, cwd: &std::path::Path) -> (std::process::Child, Vec<String>) {
    start_demo_on(dir, cwd, "127.0.0.1:0")
}

/// As [`start_demo_in`], listening on `listen`.
fn start_demo_on(dir: &std::path::Path, cwd: &std::path::Path, listen: &str) -> (std::process::Child, Vec<String>) {
    let mut child = doelpoort()
        .current_dir(cwd)
        .args(["demo", "--dir"])
        .arg(dir)
        .args(["--listen", listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines() {
        let line = line.unwrap();
        let done = line.starts_with("Stop with Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

fn stop(mut child: std::process::Child) -> Option<i32> {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    None
}

#[test]
fn the_demo_prints_curl_lines_that_work_when_pasted_and_reuses_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (child, lines) = start_demo(dir.path());
    let pasted: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| l.starts_with("curl ") || l.starts_with("TOKEN=") || l.starts_with("ADMIN="))
        .collect();
    assert_eq!(pasted.len(), 5, "{lines:#?}");
    let script = format!("set -e\n{}\n", pasted.join("\necho\n"));
    let out = Command::new("bash").arg("-c").arg(&script).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(r#"{"status":"ok"}"#), "{stdout}");
    assert!(stdout.contains(r#""sub":"agent-0042""#), "{stdout}");
    assert!(
        stdout.contains(r#""oin":"00000099000000000008""#),
        "the admin list names the wijkteam: {stdout}"
    );

    // The walkthrough's variables, loaded from another folder, reach the same gateway.
    let env = dir.path().join("demo.env");
    assert!(lines.iter().any(|l| l.contains("demo.env")), "{lines:#?}");
    let walk = format!(
        ". '{}'\ncurl -sf --cacert $D/ca/ca.pem --cert $D/orgs/politie/cert.pem --key $D/orgs/politie/key.pem $URL/healthz\n\
         $B token --dir $D --org politie --sub agent-0042 --roles professional >/dev/null",
        env.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&walk)
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#"{"status":"ok"}"#));
    assert_eq!(stop(child), Some(0), "SIGTERM shuts the demo down cleanly");

    let ca_before = std::fs::read(dir.path().join("ca/ca.pem")).unwrap();
    let key_before = std::fs::read(dir.path().join("orgs/politie/token-key.pem")).unwrap();
    let (child, lines) = start_demo(dir.path());
    assert!(lines.iter().any(|l| l.contains("/v1/whoami")));
    assert_eq!(stop(child), Some(0));
    assert_eq!(
        std::fs::read(dir.path().join("ca/ca.pem")).unwrap(),
        ca_before,
        "the CA is reused"
    );
    assert_eq!(
        std::fs::read(dir.path().join("orgs/politie/token-key.pem")).unwrap(),
        key_before
    );
    for file in [
        "doelpoort.toml",
        "doelpoort.db",
        "server/cert.pem",
        "server/key.pem",
        "orgs/wijkteam/oin",
    ] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}

#[test]
fn sighup_puts_a_new_covenant_version_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _) = start_demo_in(dir.path(), dir.path());
    let covenant = dir.path().join("policies/covenant.toml");
    let text = std::fs::read_to_string(&covenant).unwrap();
    std::fs::write(&covenant, text.replace("version = \"2026.1\"", "version = \"2027.1\"")).unwrap();
    let _ = Command::new("kill").args(["-HUP", &child.id().to_string()]).status();
    let config = dir.path().join("doelpoort.toml");
    let mut reloads = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !reloads.contains("covenant.reload") {
        std::thread::sleep(Duration::from_millis(200));
        let out = doelpoort()
            .args(["audit", "export", "--kind", "admin", "--format", "jsonl", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        reloads = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    let record = reloads
        .lines()
        .find(|l| l.contains("covenant.reload"))
        .unwrap_or_default();
    assert!(record.contains(r#""target":"2027.1""#), "{reloads}");
    assert!(record.contains(r#""actor_sub":"signal:SIGHUP""#), "{record}");
    assert_eq!(stop(child), Some(0), "the gateway kept running after the reload");
}

#[test]
fn serve_refuses_to_start_without_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = doelpoort()
        .args(["serve", "--config"])
        .arg(dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("doelpoort: cannot read the configuration file"),
        "{err}"
    );

    let config = dir.path().join("doelpoort.toml");
    std::fs::write(
        &config,
        r#"listen = "127.0.0.1:0"
metrics_listen = "127.0.0.1:0"
database_url = "sqlite://gw.db"
host_oin = "00000099000000000001"
covenant_dir = "../../nonexistent"
[tls]
cert_file = "server.pem"
key_file = "server-key.pem"
client_ca_files = ["ca.pem"]
"#,
    )
    .unwrap();
    let out = doelpoort().args(["serve", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("doelpoort: cannot read the covenant file"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let text = std::fs::read_to_string(&config).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(&config, text.replace("../../nonexistent", &format!("{root}/policies"))).unwrap();
    let out = doelpoort().args(["serve", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("doelpoort: cannot read server certificate"), "{err}");
}

#[test]
fn usage_errors_exit_with_two() {
    let out = doelpoort().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let out = doelpoort()
        .args(["token", "--dir"])
        .arg(dir.path())
        .args([
            "--org",
            "politie",
            "--sub",
            "a",
            "--roles",
            "professional",
            "--ttl",
            "7200",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ttl must be between 1 and 3600"));
}

/// A loopback port that is free, with the demo's metrics port beside it (+1021), both below the range the system
/// hands out to the other tests' listeners (which bind port 0).
fn free_port() -> u16 {
    let start = 20_000 + u16::from_be_bytes(crate::helpers::rand_bytes::<2>()) % 9_000;
    (start..30_000)
        .find(|p| {
            let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
            free(*p) && free(p + 1021)
        })
        .unwrap()
}

/// Regression: the demo's metrics port was fixed at 9464, so a second demo aborted, and a re-run with another
/// `--listen` kept the old address in DIR/doelpoort.toml. The metrics port follows `--listen`, and the stored
/// configuration follows a re-run.
#[test]
fn two_demos_run_side_by_side_and_a_new_listen_address_is_stored() {
    let cwd = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (pa, pb) = (free_port(), free_port());
    let (first, lines_a) = start_demo_on(a.path(), cwd, &format!("127.0.0.1:{pa}"));
    let (second, lines_b) = start_demo_on(b.path(), cwd, &format!("127.0.0.1:{pb}"));
    assert!(
        lines_a.iter().any(|l| l.contains(&format!("127.0.0.1:{}", pa + 1021))),
        "{lines_a:#?}"
    );
    assert!(
        lines_b.iter().any(|l| l.contains(&format!("127.0.0.1:{}", pb + 1021))),
        "{lines_b:#?}"
    );
    assert_eq!(stop(second), Some(0), "the second demo served beside the first");
    assert_eq!(stop(first), Some(0));

    let moved = free_port();
    let (again, _) = start_demo_on(a.path(), cwd, &format!("127.0.0.1:{moved}"));
    assert_eq!(stop(again), Some(0));
    let stored = std::fs::read_to_string(a.path().join("doelpoort.toml")).unwrap();
    assert!(stored.contains(&format!("listen = \"127.0.0.1:{moved}\"")), "{stored}");
    assert!(
        stored.contains(&format!("metrics_listen = \"127.0.0.1:{}\"", moved + 1021)),
        "{stored}"
    );
}

/// Regression: the demo's token and checkpoint keys were PKCS#8 v2, which OpenSSL 3.0 (`openssl pkey`) and
/// Python's `cryptography` refuse. A demo key reads in OpenSSL, and OpenSSL derives the public key the JWKS names.
#[test]
fn the_demos_keys_read_in_openssl() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl is not installed here; skipping");
        return;
    }
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let key = doelpoort::crypto::pki::TokenKeyPair::generate().unwrap();
    let path = dir.path().join("token-key.pem");
    std::fs::write(&path, &key.private_pem).unwrap();
    let out = openssl(&["pkey", "-in", path.to_str().unwrap(), "-pubout", "-outform", "DER"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key.public_jwk["x"].as_str().unwrap())
        .unwrap();
    assert!(out.stdout.ends_with(&x), "OpenSSL derives the public key of the JWKS");
}

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl").args(args).output().unwrap()
}
