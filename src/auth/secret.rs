//! The JWT signing secret: from `JWT_SECRET`, or generated once and kept in a
//! 0600 file beside the SQLite database so restarts keep tokens valid.

use std::{
    io::{ErrorKind, Write},
    path::Path,
    time::{Duration, Instant},
};

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
            let secret = load_or_create(&file, config.environment)?;
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

/// Reads the secret file, or creates it when absent. Creation is exclusive, so of
/// two first starts at once one writes and the other reads what it wrote.
fn load_or_create(file: &Path, environment: Environment) -> anyhow::Result<Vec<u8>> {
    let secret = random_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(file) {
        Ok(mut handle) => {
            handle
                .write_all(base64::engine::general_purpose::STANDARD.encode(&secret).as_bytes())
                .with_context(|| format!("writing the JWT secret file {}", file.display()))?;
            Ok(secret)
        }
        Err(error) if error.kind() == ErrorKind::AlreadyExists => load(file, environment),
        Err(error) => Err(error).with_context(|| format!("creating the JWT secret file {}", file.display())),
    }
}

/// How long to wait for another process that has created the file but not yet written it.
const WRITER_GRACE: Duration = Duration::from_secs(2);

fn load(file: &Path, environment: Environment) -> anyhow::Result<Vec<u8>> {
    check_private(file, environment)?;
    let deadline = Instant::now() + WRITER_GRACE;
    loop {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading the JWT secret file {}", file.display()))?;
        let secret = base64::engine::general_purpose::STANDARD.decode(text.trim());
        match secret {
            Ok(secret) if secret.len() >= MIN_SECRET_BYTES => return Ok(secret),
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => bail!(
                "the JWT secret file {} does not hold a secret of at least {MIN_SECRET_BYTES} bytes; \
                 delete it to generate a new one (signed-in users will have to sign in again)",
                file.display()
            ),
        }
    }
}

/// A secret others can read lets them mint tokens: refused in production.
fn check_private(file: &Path, environment: Environment) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)
            .with_context(|| format!("reading the permissions of the JWT secret file {}", file.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            if environment == Environment::Production {
                bail!(
                    "the JWT secret file {} can be read or written by other users (mode {:o}); run `chmod 600 {}`",
                    file.display(),
                    mode & 0o777,
                    file.display()
                );
            }
            tracing::warn!(file = %file.display(), "the JWT secret file can be read or written by other users; run `chmod 600` on it");
        }
    }
    #[cfg(not(unix))]
    let _ = (file, environment);
    Ok(())
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

        let first = load_or_create(&file, Environment::Development).unwrap();
        let second = load_or_create(&file, Environment::Development).unwrap();

        assert_eq!(first, second);
        assert!(first.len() >= MIN_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn two_first_starts_at_once_agree_on_one_secret() {
        let dir = tempfile::tempdir().unwrap();

        for attempt in 0..200 {
            let file = dir.path().join(format!("race-{attempt}.jwt-secret"));
            let start = std::sync::Barrier::new(2);
            let (first, second) = std::thread::scope(|scope| {
                let racer = || {
                    start.wait();
                    load_or_create(&file, Environment::Development).unwrap()
                };
                let first = scope.spawn(racer);
                let second = scope.spawn(racer);
                (first.join().unwrap(), second.join().unwrap())
            });

            assert_eq!(first, second, "attempt {attempt}");
        }
    }

    #[test]
    fn a_start_waits_for_a_secret_file_another_start_is_still_writing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.jwt-secret");
        let theirs = random_secret();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&theirs);

        let ours = std::thread::scope(|scope| {
            std::fs::File::create(&file).unwrap();
            let reader = scope.spawn(|| load_or_create(&file, Environment::Development).unwrap());
            std::thread::sleep(std::time::Duration::from_millis(200));
            std::fs::write(&file, &encoded).unwrap();
            reader.join().unwrap()
        });

        assert_eq!(ours, theirs);
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_can_read_is_refused_in_production_and_warned_about_in_development() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.jwt-secret");
        let secret = load_or_create(&file, Environment::Development).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();

        let production = load_or_create(&file, Environment::Production);
        let (development, logs) = logged(|| load_or_create(&file, Environment::Development));

        let refusal = format!("{:#}", production.unwrap_err());
        assert!(refusal.contains(&file.display().to_string()), "{refusal}");
        assert!(refusal.contains("chmod 600"), "{refusal}");
        assert_eq!(development.unwrap(), secret);
        assert!(logs.contains("by other users"), "{logs}");
    }

    /// Runs `work` with the log lines of this thread captured.
    fn logged<T>(work: impl FnOnce() -> T) -> (T, String) {
        let lines = LogLines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let result = tracing::subscriber::with_default(subscriber, work);
        let text = String::from_utf8_lossy(&lines.0.lock().unwrap()).into_owned();
        (result, text)
    }

    #[derive(Clone, Default)]
    struct LogLines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for LogLines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
