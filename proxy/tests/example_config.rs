//! The commented example configuration at the repository root must stay a valid config: it is
//! what a newcomer copies first.

use std::path::Path;

use cloak_proxy::config::Config;

#[test]
fn example_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cloak.example.toml");

    let config = Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));

    assert_eq!(config.clients.len(), 2);
    assert_eq!(config.server.listen.port(), 9090);
}
