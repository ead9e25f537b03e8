use std::path::Path;

use super::*;

const GOOD: &str = r#"
[server]
listen = "127.0.0.1:9090"

[upstream]
endpoint = "http://127.0.0.1:9000"
access_key_id = "up"
secret_access_key_env = "CLOAK_TEST_UPSTREAM_SECRET"

[[clients]]
access_key_id = "AKID"
secret_key_file = "/dev/null"

[keys]
keyring_path = "/tmp/keyring.toml"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("test.toml"))
}

#[test]
fn minimal_config_gets_defaults() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.upstream.region, "us-east-1");
    assert!(c.auth.allow_sigv2);
    assert_eq!(c.objects.segment_size, 65536);
    assert_eq!(c.objects.foreign, ForeignPolicy::Refuse);
    assert_eq!(c.keys.default_key, "default");
}

#[test]
fn errors_name_the_field() {
    let bad = GOOD.replace("http://127.0.0.1:9000", "ftp://x");
    assert!(parse(&bad)
        .unwrap_err()
        .to_string()
        .contains("upstream.endpoint"));

    let bad = GOOD.replace("[keys]", "[objects]\nsegment_size = 1000\n[keys]");
    assert!(parse(&bad)
        .unwrap_err()
        .to_string()
        .contains("objects.segment_size"));

    let bad = GOOD.replace("secret_key_file = \"/dev/null\"", "");
    assert!(parse(&bad)
        .unwrap_err()
        .to_string()
        .contains("clients[0].secret_key"));

    let bad = GOOD.replace("listen", "listn");
    assert!(parse(&bad).unwrap_err().to_string().contains("listn"));
}

#[test]
fn secrets_come_from_env_or_file_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    std::fs::write(&path, "hunter2\n").unwrap();
    let secret = SecretSource::File(path).read("x").unwrap();
    assert_eq!(secret.expose(), "hunter2");
    assert!(!format!("{secret:?}").contains("hunter2"));

    let missing = SecretSource::Env("CLOAK_TEST_SURELY_UNSET".into()).read("up.secret");
    assert!(missing.unwrap_err().to_string().contains("up.secret"));
}
