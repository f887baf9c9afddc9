//! argon2id password hashing with OWASP's parameters (19 MiB, 2 passes, 1 lane),
//! run on threads of its own so it never stalls the runtime. A hash made with other
//! parameters still verifies, and `needs_rehash` says to replace it.

use std::sync::OnceLock;

use anyhow::Context as _;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use std::sync::{Mutex, mpsc};

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

static THREADS: OnceLock<usize> = OnceLock::new();

/// Sets how many threads hash passwords (`HASHING_THREADS`; 0: half the cores,
/// at least one). Takes effect only before the first hash; later calls change nothing.
pub fn configure(threads: usize) {
    let _ = THREADS.set(threads);
}

/// How much nicer the hashing threads are than the process: the scheduler gives
/// them about a tenth of a core that requests also want (weight 110 against
/// 1,024 at nice 0 and 10), and all of an idle one.
pub const HASHING_NICE: i32 = 10;

/// The threads that hash: a few of their own, fed in arrival order, so a flood of
/// sign-ins queues instead of taking every core and ~19 MiB per hash in flight
/// (on the blocking pool each new thread's allocator arena kept its 19 MiB), and
/// at a lower priority, so that it takes what serving requests leave.
fn hashing_queue() -> &'static mpsc::Sender<Job> {
    static QUEUE: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let threads = match THREADS.get().copied().unwrap_or(0) {
            0 => std::thread::available_parallelism()
                .map_or(1, |cores| cores.get() / 2)
                .max(1),
            threads => threads,
        };
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hashing-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match receiver.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        job();
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password-hashing thread");
            }
        }
        sender
    })
}

/// Makes the calling thread `HASHING_NICE` nicer, at most 19 (Linux schedules
/// each thread by its own nice value, and `who = 0` names the calling thread).
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: getpriority and setpriority take plain integers and touch no memory of ours.
    let result = unsafe {
        let now = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, (now + HASHING_NICE).min(19))
    };
    if result != 0 {
        tracing::warn!("could not lower the priority of a password-hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// Runs `work` on a hashing thread, skipped if the caller has gone by its turn.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        if reply.is_closed() {
            return;
        }
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        if let Ok(done) = done {
            let _ = reply.send(done);
        }
    });
    hashing_queue()
        .send(job)
        .map_err(|_| anyhow::anyhow!("the password-hashing threads have stopped"))?;
    Ok(answer.await.context("a password-hashing job failed")?)
}

/// OWASP's password storage cheat sheet: argon2id, m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    // The constants are valid parameters; `Params::DEFAULT` (the same values) is the fallback.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether a stored hash was made with other parameters (or another algorithm)
/// than today's, so it should be replaced the next time its password is known.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let number = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || number("m") != Some(MEMORY_KIB)
        || number("t") != Some(PASSES)
        || number("p") != Some(LANES)
}

/// Hashes a password with argon2id and a fresh random salt (PHC string format).
pub async fn hash(password: String) -> Result<String, AppError> {
    let hashed = on_hashing_thread(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))
    })
    .await??;
    Ok(hashed)
}

/// Checks a password against a stored hash. With no stored hash (unknown user) it
/// still does the same work against a dummy hash, so timing does not reveal usernames.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    let matched = on_hashing_thread(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        // The parameters come from the stored hash, so older hashes still verify.
        let matched = hasher().verify_password(password.as_bytes(), &parsed).is_ok();
        matched && known
    })
    .await?;
    Ok(matched)
}

/// An argon2id hash (default parameters) of a random password nobody knows, made once.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(salt.as_str().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_below_the_threads_that_serve_requests() {
        // SAFETY: getpriority takes plain integers and touches no memory of ours.
        let here = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let hashing = on_hashing_thread(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
            .await
            .unwrap();

        assert_eq!(hashing, (here + HASHING_NICE).min(19), "nice {here} here");
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hashed = hash("correct horse".into()).await.unwrap();

        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(hashed.clone())).await.unwrap());
        assert!(!verify("wrong horse".into(), Some(hashed)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_with_other_parameters_verify_and_ask_to_be_replaced() {
        let salt = SaltString::generate(&mut OsRng);
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse", &salt)
        .unwrap()
        .to_string();
        let current = hash("correct horse".into()).await.unwrap();

        assert!(verify("correct horse".into(), Some(weak.clone())).await.unwrap());
        assert!(needs_rehash(&weak));
        assert!(!needs_rehash(&current));
        assert!(needs_rehash("not a hash"));
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_users_cost_a_real_verification() {
        assert!(PasswordHash::new(dummy_hash()).is_ok());
    }
}
