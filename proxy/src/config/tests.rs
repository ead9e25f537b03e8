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

const PROVIDERS: &str = r#"
[keys]
provider = "bao"
default_key = "objects"
cache_ttl_secs = 60

[keys.providers.bao]
kind = "vault"
address = "http://127.0.0.1:8200"
auth = { method = "approle", role_id = "r", secret_id_env = "CLOAK_TEST_SECRET_ID" }

[keys.providers.kms]
kind = "awskms"
region = "eu-west-1"
endpoint = "http://127.0.0.1:5000"
kek = { enabled = false }

[keys.providers.local]
kind = "keyring"
path = "/tmp/ring.toml"

[[keys.rules]]
bucket = "photos"
prefix = "raw/"
provider = "kms"
key = "alias/photos"

[[keys.rules]]
bucket = "photos"
key = "photos"
"#;

fn with_providers(keys: &str) -> Result<Config, ConfigError> {
    let head = GOOD.split("[keys]").next().unwrap();
    parse(&format!("{head}{keys}"))
}

#[test]
fn named_providers_and_rules_parse_with_defaults() {
    let c = with_providers(PROVIDERS).unwrap();
    let all = c.keys.all_providers();
    assert_eq!(all.len(), 3);
    let ProviderConfig::Vault(v) = &all["bao"] else {
        panic!("bao is a vault provider")
    };
    assert_eq!(
        (v.mount.as_str(), v.timeout_secs, v.attempts),
        ("transit", 5, 4)
    );
    assert!(all["bao"].kek_enabled());
    assert!(!all["kms"].kek_enabled());
    assert!(!all["local"].kek_enabled());
    assert_eq!(c.keys.rule_provider(&c.keys.rules[1]), "bao");
}

#[test]
fn the_simple_keyring_form_defines_the_keyring_provider() {
    let c = parse(GOOD).unwrap();
    let all = c.keys.all_providers();
    assert!(matches!(
        all.get(SIMPLE_KEYRING),
        Some(ProviderConfig::Keyring(_))
    ));
    assert_eq!(c.keys.provider, SIMPLE_KEYRING);
}

#[test]
fn provider_errors_name_the_field() {
    let cases = [
        (
            PROVIDERS.replace("provider = \"bao\"", "provider = \"nope\""),
            "keys.provider.provider",
        ),
        (
            PROVIDERS.replace("http://127.0.0.1:8200", "vault:8200"),
            "keys.providers.bao.address",
        ),
        (
            PROVIDERS.replace(", secret_id_env = \"CLOAK_TEST_SECRET_ID\"", ""),
            "keys.providers.bao.auth.secret_id",
        ),
        (
            PROVIDERS.replace("key = \"photos\"", "key = \"../sys\""),
            "keys.rules[1].key",
        ),
        (
            PROVIDERS.replace("provider = \"kms\"", "provider = \"kmz\""),
            "keys.rules[0].provider",
        ),
        (
            PROVIDERS.replace("[keys.providers.local]", "[keys.providers.\"lo cal\"]"),
            "keys.providers.lo cal",
        ),
        (
            PROVIDERS.replace("kek = { enabled = false }", "kek = { max_uses = 0 }"),
            "keys.providers.kms.kek.max_uses",
        ),
        (
            PROVIDERS.replace("region = \"eu-west-1\"", "access_key_id = \"AK\""),
            "keys.providers.kms.secret_access_key",
        ),
        (
            PROVIDERS.replace("kind = \"keyring\"", "kind = \"hsm\""),
            "hsm",
        ),
        (
            PROVIDERS.replace("path = \"/tmp/ring.toml\"", "path = \"/tmp/r\"\npaht = 1"),
            "paht",
        ),
    ];
    for (text, field) in cases {
        let err = with_providers(&text).unwrap_err().to_string();
        assert!(err.contains(field), "{field}: {err}");
    }
    let none = with_providers("[keys]\nprovider = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(none.contains("no key provider"), "{none}");
}
