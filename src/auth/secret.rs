//! The JWT signing secret: from `JWT_SECRET`, or generated once and kept in a
//! 0600 file beside the SQLite database so restarts keep tokens valid.

use std::{io::Write, path::Path};

use anyhow::{Context, bail};
use base64::Engine;
use rand::RngCore;

use crate::config::{Config, Environment};

/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Finds or makes the signing secret, following the rules of DESIGN.md.
pub fn resolve(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        if secret.len() >= MIN_SECRET_BYTES {
            return Ok(secret.as_bytes().to_vec());
        }
        if config.environment == Environment::Production {
            bail!("JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production");
        }
        tracing::warn!("JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes; using a generated secret instead");
    } else if config.environment == Environment::Production {
        bail!("JWT_SECRET is required when SWITCHBOARD_ENV=production");
    }
    match config.sqlite_path() {
        Some(database) => {
            let file = secret_file_beside(&database);
            let secret = load_or_create(&file)?;
            tracing::warn!(file = %file.display(), "JWT_SECRET is not set; using the generated secret kept in this file");
            Ok(secret)
        }
        None => {
            tracing::warn!(
                "JWT_SECRET is not set; using a random secret for this process only (tokens end at restart)"
            );
            Ok(random_secret())
        }
    }
}

fn secret_file_beside(database: &Path) -> std::path::PathBuf {
    let name = database
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "switchboard.db".to_owned());
    database.with_file_name(format!("{name}.jwt-secret"))
}

fn random_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn load_or_create(file: &Path) -> anyhow::Result<Vec<u8>> {
    let engine = base64::engine::general_purpose::STANDARD;
    if let Ok(text) = std::fs::read_to_string(file) {
        let secret = engine
            .decode(text.trim())
            .with_context(|| format!("reading the JWT secret in {}", file.display()))?;
        if secret.len() >= MIN_SECRET_BYTES {
            return Ok(secret);
        }
    }
    let secret = random_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut handle = options
        .open(file)
        .with_context(|| format!("creating the JWT secret file {}", file.display()))?;
    handle
        .write_all(engine.encode(&secret).as_bytes())
        .with_context(|| format!("writing the JWT secret file {}", file.display()))?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(secret: Option<&str>, environment: Environment, database_url: &str) -> Config {
        let mut config = Config::for_database(database_url).unwrap();
        config.jwt_secret = secret.map(str::to_owned);
        config.environment = environment;
        config
    }

    #[test]
    fn production_refuses_a_missing_or_short_secret() {
        let url = "postgres://localhost/db";

        assert!(resolve(&config(None, Environment::Production, url)).is_err());
        assert!(resolve(&config(Some("too short"), Environment::Production, url)).is_err());
        let long = "x".repeat(MIN_SECRET_BYTES);
        assert_eq!(
            resolve(&config(Some(&long), Environment::Production, url)).unwrap(),
            long.as_bytes()
        );
    }

    #[test]
    fn development_keeps_a_generated_secret_beside_the_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());

        let first = resolve(&config(None, Environment::Development, &url)).unwrap();
        let again = resolve(&config(None, Environment::Development, &url)).unwrap();

        assert_eq!(first, again, "restarts keep tokens valid");
        assert!(dir.path().join("app.db.jwt-secret").exists());
    }

    #[test]
    fn a_generated_secret_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.jwt-secret");

        let first = load_or_create(&file).unwrap();
        let second = load_or_create(&file).unwrap();

        assert_eq!(first, second);
        assert!(first.len() >= MIN_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
