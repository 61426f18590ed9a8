//! Running the `migrator` binary against a fresh database of each backend.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrator_conformance::Backend;
use migrator_conformance::mysql::My;
use migrator_conformance::postgres::Pg;
use migrator_conformance::sqlite::Lite;

/// What a run of the binary printed, and its exit code.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing the output otherwise.
    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Run {
        assert_eq!(self.code, expected, "exit code; stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// The versions of the `applied <version> <name> (<phase>) in …` lines.
    pub(crate) fn applied(&self) -> Vec<i64> {
        self.stdout
            .lines()
            .filter_map(|line| line.strip_prefix("applied "))
            .filter(|rest| rest.contains(" in ") && rest.contains('('))
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .collect()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// A project directory with a `migrations` folder, where the binary runs.
pub(crate) struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub(crate) fn new() -> Project {
        let project = Project { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir(project.migrations()).unwrap();
        project
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Writes a file of the migrations folder.
    pub(crate) fn write(&self, file: &str, text: &str) -> &Project {
        std::fs::write(self.migrations().join(file), text).unwrap();
        self
    }

    pub(crate) fn remove(&self, file: &str) -> &Project {
        std::fs::remove_file(self.migrations().join(file)).unwrap();
        self
    }

    /// The binary, in this directory, with no environment that could change its behaviour.
    pub(crate) fn command(&self, url: Option<&str>, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_migrator"));
        command
            .current_dir(self.path())
            .env_remove("DATABASE_URL")
            .env_remove("MIGRATOR_SOURCE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = url {
            command.env("DATABASE_URL", url);
        }
        command
    }

    pub(crate) fn run(&self, url: Option<&str>, args: &[&str]) -> Run {
        Run::from(self.command(url, args).output().unwrap())
    }

    /// [`Project::run`] with extra environment variables.
    pub(crate) fn run_with_env(&self, url: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(url, args);
        command.envs(env.iter().copied());
        Run::from(command.output().unwrap())
    }

    pub(crate) fn spawn(&self, url: Option<&str>, args: &[&str]) -> Child {
        self.command(url, args).spawn().unwrap()
    }
}

pub(crate) fn wait(child: Child) -> Run {
    Run::from(child.wait_with_output().unwrap())
}

/// Starts `processes` runs of `up` at once on `url`; each must exit 0. Returns the versions
/// they applied, all together, sorted.
pub(crate) fn up_at_once(project: &Project, url: &str, processes: usize) -> Vec<i64> {
    let children: Vec<Child> =
        (0..processes).map(|_| project.spawn(Some(url), &["up", "--lock-wait", "5min"])).collect();
    let mut applied = Vec::new();
    for child in children {
        let run = wait(child);
        run.code(0);
        applied.extend(run.applied());
    }
    applied.sort_unstable();
    applied
}

/// Sends a signal to a child process.
pub(crate) fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status().unwrap();
    assert!(status.success(), "kill -{name} failed");
}

/// `base` (a server URL) pointing at `database`.
pub(crate) fn with_database(base: &str, database: &str) -> String {
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let (head, query) = base.split_once('?').map_or((base, None), |(h, q)| (h, Some(q)));
    let head = match head.get(authority_start..).and_then(|rest| rest.find('/')) {
        Some(slash) => head.get(..authority_start + slash).unwrap_or(head),
        None => head,
    };
    match query {
        Some(query) => format!("{head}/{database}?{query}"),
        None => format!("{head}/{database}"),
    }
}

/// A test backend the binary can reach by URL.
#[async_trait]
pub(crate) trait CliBackend: Backend {
    /// A fresh database of its own.
    async fn create(test: &str) -> Self;
    /// Its URL.
    fn url(&self) -> String;
    /// SQL that takes about `duration`, runnable by the binary's own connections.
    fn slow_sql(duration: Duration) -> String;
}

#[async_trait]
impl CliBackend for Pg {
    async fn create(test: &str) -> Self {
        Pg::fresh_database(test).await
    }

    fn url(&self) -> String {
        with_database(&migrator_conformance::postgres::server_url(), self.database.as_deref().unwrap())
    }

    fn slow_sql(duration: Duration) -> String {
        Pg::sleep_sql(duration)
    }
}

#[async_trait]
impl CliBackend for My {
    async fn create(test: &str) -> Self {
        My::fresh(test).await
    }

    fn url(&self) -> String {
        with_database(&migrator_conformance::mysql::server_url(), &self.database)
    }

    fn slow_sql(duration: Duration) -> String {
        My::sleep_sql(duration)
    }
}

/// Iterations of a recursive CTE per millisecond on this machine, measured once.
fn cte_per_ms() -> u64 {
    static SPEED: OnceLock<u64> = OnceLock::new();
    *SPEED.get_or_init(|| {
        // A thread of its own: the caller may be inside a runtime.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
                let mut best = u64::MAX;
                for _ in 0..3 {
                    let started = Instant::now();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(cte(2_000_000))).execute(&pool).await.unwrap();
                    best = best.min(started.elapsed().as_millis().max(1) as u64);
                }
                (2_000_000 / best).max(1)
            })
        })
        .join()
        .unwrap()
    })
}

fn cte(iterations: u64) -> String {
    format!(
        "WITH RECURSIVE spin(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM spin WHERE n < {iterations}) \
         SELECT count(*) FROM spin"
    )
}

#[async_trait]
impl CliBackend for Lite {
    async fn create(test: &str) -> Self {
        Lite::fresh(test).await
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    /// The binary's connections have no sleeping collation: a recursive CTE calibrated on
    /// this machine (at its fastest, so the statement takes at least about `duration`).
    fn slow_sql(duration: Duration) -> String {
        cte(cte_per_ms() * duration.as_millis() as u64)
    }
}

/// A small deterministic generator (splitmix64): seeded kills and trials replay from their
/// seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next number of the sequence.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A number from the environment variable `name`, or `default` when it is not set; a value
/// that is not a number fails the test, naming it.
pub(crate) fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}
