//! `migrator-bench`: migrator against `sqlx::migrate::Migrator` and refinery's `Runner`, on
//! PostgreSQL and MariaDB, timed and counted on the wire.
//!
//! For each backend and each N, the same N small migrations are written once, in each tool's
//! file naming, and loaded at runtime by each tool. Each repeat runs every tool (in a rotating
//! order, so that machine noise hits all of them alike) on a database of its own, created
//! fresh for the run and dropped after it:
//!
//! - **apply**: all N migrations on the fresh database;
//! - **check**: the startup check, a second run when everything is applied (a new connection,
//!   a new migrator, as in a new process);
//! - **lower bound**: the same SQL sent as one script in one transaction, in one message.
//!
//! Connections are opened before the clock starts and migrations are loaded before it too:
//! the clock covers the tool's run call only. Round trips are counted by the conformance
//! suite's TCP proxy (`migrator_conformance::proxy`), reset after the connection is open.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml -- [--backend postgres|mysql|all] [--repeats R] [--sizes 1,100,1000]
//! ```

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod backfill;
mod concurrent;
mod tenants;

use migrator_conformance::proxy::Proxy;
use migrator_core::{Dialect, MigrationSet};
use migrator_mysql::MySqlDriver;
use migrator_postgres::PgDriver;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions, MySqlSslMode};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, Pool};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Postgres,
    MySql,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::MySql => "MariaDB",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Migrator,
    /// migrator with grouped apply (PostgreSQL only: refused on MariaDB).
    MigratorGrouped,
    Sqlx,
    Refinery,
    LowerBound,
}

const TOOLS: [Tool; 5] = [Tool::Migrator, Tool::MigratorGrouped, Tool::Sqlx, Tool::Refinery, Tool::LowerBound];

/// The tools measured on `backend`.
fn tools(backend: Backend) -> Vec<Tool> {
    TOOLS.into_iter().filter(|tool| *tool != Tool::MigratorGrouped || backend == Backend::Postgres).collect()
}

impl Tool {
    fn label(self) -> &'static str {
        match self {
            Tool::Migrator => "migrator",
            Tool::MigratorGrouped => "migrator grouped",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::LowerBound => "lower bound",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Tool::Migrator => "mig",
            Tool::MigratorGrouped => "grp",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "ref",
            Tool::LowerBound => "low",
        }
    }
}

/// One run of one tool: the apply, and (except for the lower bound) the startup check.
#[derive(Debug, Clone, Copy)]
struct Sample {
    apply: Duration,
    apply_trips: u64,
    check: Option<(Duration, u64)>,
    /// The startup check again, on the connection the first check warmed.
    warm: Option<(Duration, u64)>,
}

#[derive(Debug)]
struct Args {
    backends: Vec<Backend>,
    repeats: Option<usize>,
    sizes: Vec<usize>,
    pg: String,
    mysql: String,
    /// Added to every round trip by the proxy, as across a network.
    latency: std::time::Duration,
    /// Numbers of runners started together (the concurrent table); empty: that table is
    /// not measured.
    runners: Vec<usize>,
    /// How many migrations the concurrent runners apply.
    concurrent_migrations: usize,
    /// Only the concurrent table.
    concurrent_only: bool,
    /// Rows of the backfill table (PostgreSQL); `None`: not measured.
    backfill_rows: Option<i64>,
    /// Rows per batch of the backfill.
    backfill_batch: u64,
    /// Only the backfill table.
    backfill_only: bool,
    /// PostgreSQL schemas for the tenants benchmark (0: not measured).
    tenants: usize,
    /// Migrations per tenant.
    tenant_migrations: usize,
    /// New tenants created, grouped and not.
    tenants_created: usize,
    /// Only the tenants benchmark.
    tenants_only: bool,
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        backends: vec![Backend::Postgres, Backend::MySql],
        repeats: None,
        sizes: vec![1, 100, 1000],
        pg: std::env::var("BENCH_PG").unwrap_or_else(|_| "127.0.0.1:5432".to_owned()),
        mysql: std::env::var("BENCH_MYSQL").unwrap_or_else(|_| "127.0.0.1:3306".to_owned()),
        latency: std::time::Duration::ZERO,
        runners: vec![8, 16],
        concurrent_migrations: 50,
        concurrent_only: false,
        backfill_rows: None,
        backfill_batch: 10_000,
        backfill_only: false,
        tenants: 0,
        tenant_migrations: 20,
        tenants_created: 50,
        tenants_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--backend" => {
                args.backends = match value()?.as_str() {
                    "postgres" | "pg" => vec![Backend::Postgres],
                    "mysql" | "mariadb" => vec![Backend::MySql],
                    "all" => vec![Backend::Postgres, Backend::MySql],
                    other => return Err(format!("unknown backend `{other}`: postgres, mysql or all").into()),
                }
            }
            "--repeats" => args.repeats = Some(value()?.parse()?),
            "--latency-ms" => args.latency = std::time::Duration::from_secs_f64(value()?.parse::<f64>()? / 1000.0),
            "--sizes" => {
                args.sizes = value()?.split(',').map(|s| s.trim().parse()).collect::<Result<_, _>>()?;
            }
            "--runners" => {
                let list = value()?;
                args.runners = if list == "none" {
                    Vec::new()
                } else {
                    list.split(',').map(|s| s.trim().parse()).collect::<Result<_, _>>()?
                };
            }
            "--concurrent-migrations" => args.concurrent_migrations = value()?.parse()?,
            "--concurrent-only" => args.concurrent_only = true,
            "--backfill-rows" => args.backfill_rows = Some(value()?.parse()?),
            "--backfill-batch" => args.backfill_batch = value()?.parse()?,
            "--backfill-only" => args.backfill_only = true,
            "--tenants" => args.tenants = value()?.parse()?,
            "--tenant-migrations" => args.tenant_migrations = value()?.parse()?,
            "--tenants-created" => args.tenants_created = value()?.parse()?,
            "--tenants-only" => args.tenants_only = true,
            "--help" | "-h" => {
                println!(
                    "migrator-bench [--backend postgres|mysql|all] [--repeats R] [--sizes 1,100,1000] [--latency-ms L]\n\
                     \x20              [--runners 8,16|none] [--concurrent-migrations M] [--concurrent-only]\n\
                     \x20              [--backfill-rows ROWS] [--backfill-batch B] [--backfill-only]\n\
                     --latency-ms adds L ms to every round trip (the proxy delays each answer), as across a network\n\
                     --runners: K runners of each tool start together on a fresh database (M migrations, default 50)\n\
                     --tenants N [--tenant-migrations M] [--tenants-created C] [--tenants-only]: N PostgreSQL schemas\n\
                     \x20 of M migrations (default 20) migrated by Tenants at parallelism 1, 2, 4, 8 and by a loop, the\n\
                     \x20 all-tenants check against per-schema checks, C tenants created grouped and not (default 50)\n\
                     servers: BENCH_PG (default 127.0.0.1:5432, user postgres, trust), \
                     BENCH_MYSQL (default 127.0.0.1:3306, user root, no password)"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    if args.sizes.contains(&0) || args.runners.contains(&0) || args.concurrent_migrations == 0 {
        return Err("sizes, runners and migrations must be positive".into());
    }
    Ok(args)
}

/// The N migration files, in each tool's naming, and the lower bound's script.
struct Files {
    _dir: tempfile::TempDir,
    migrator: PathBuf,
    sqlx: PathBuf,
    refinery: PathBuf,
    script: String,
    /// How many migrations.
    n: usize,
}

fn migration_sql(version: usize) -> String {
    format!(
        "CREATE TABLE t_{version:05} (id BIGINT PRIMARY KEY, v TEXT);\nINSERT INTO t_{version:05} VALUES (1, 'x');\n"
    )
}

fn generate(n: usize) -> Res<Files> {
    let dir = tempfile::tempdir()?;
    let (migrator, sqlx, refinery) =
        (dir.path().join("migrator"), dir.path().join("sqlx"), dir.path().join("refinery"));
    for d in [&migrator, &sqlx, &refinery] {
        std::fs::create_dir(d)?;
    }
    let mut script = String::from("BEGIN;\n");
    for v in 1..=n {
        let sql = migration_sql(v);
        std::fs::write(migrator.join(format!("{v}_create_t_{v:05}.up.sql")), &sql)?;
        std::fs::write(sqlx.join(format!("{v}_create_t_{v:05}.sql")), &sql)?;
        std::fs::write(refinery.join(format!("V{v}__create_t_{v:05}.sql")), &sql)?;
        script.push_str(&sql);
    }
    script.push_str("COMMIT;\n");
    Ok(Files { _dir: dir, migrator, sqlx, refinery, script, n })
}

/// Opens one idle connection in a sqlx pool and waits until the pool has it back (its
/// release runs on a task of its own), so that the measured run finds it idle.
async fn warm<DB: sqlx::Database>(pool: &Pool<DB>) -> Res<()> {
    drop(pool.acquire().await?);
    let started = Instant::now();
    while pool.num_idle() == 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    settle().await;
    Ok(())
}

/// Lets background traffic (pool releases, connection tasks) finish before counting.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

/// sqlx's sample on a backend's bench (`self`): the apply on a new connection, the startup
/// check on another new connection, then again on that warm connection. A macro: sqlx's
/// `Migrator::run` is generic over connection types the two backends spell differently.
macro_rules! sqlx_sample {
    ($self:ident, $proxy:ident, $files:ident, $db:ident, $n:ident) => {{
        let (proxy, files, db, n, tool) = ($proxy, $files, $db, $n, Tool::Sqlx);
        let migrator = sqlx::migrate::Migrator::new(files.sqlx.as_path()).await?;
        let mut conn = $self.options(db).connect().await?;
        settle().await;
        let (apply, apply_trips, ()) = measure(proxy, async { Ok(migrator.run(&mut conn).await?) }).await?;
        conn.close().await?;
        let migrator = sqlx::migrate::Migrator::new(files.sqlx.as_path()).await?;
        let mut conn = $self.options(db).connect().await?;
        settle().await;
        let (check, check_trips, ()) = measure(proxy, async { Ok(migrator.run(&mut conn).await?) }).await?;
        let migrator = sqlx::migrate::Migrator::new(files.sqlx.as_path()).await?;
        settle().await;
        let (time, trips, ()) = measure(proxy, async { Ok(migrator.run(&mut conn).await?) }).await?;
        let warm = (time, trips);
        conn.close().await?;
        let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&mut $self.options(db).connect().await?)
            .await?;
        expect_applied(tool, usize::try_from(applied)?, n)?;
        Ok(Sample { apply, apply_trips, check: Some((check, check_trips)), warm: Some(warm) })
    }};
}

/// migrator's sample on `pool`: the apply, then the startup check as a new process does it
/// (a new migrator, its migrations loaded anew, from `new`), then once more on the warm
/// connection.
async fn migrator_sample<D, DB>(
    proxy: &Proxy,
    pool: &Pool<DB>,
    n: usize,
    new: impl Fn() -> Res<migrator_core::Migrator<D>>,
) -> Res<Sample>
where
    D: migrator_core::driver::Driver + 'static,
    D::Conn: 'static,
    DB: sqlx::Database,
{
    let mut runs = [(Duration::ZERO, 0); 3];
    for (run, expected) in runs.iter_mut().zip([n, 0, 0]) {
        let migrator = new()?;
        warm(pool).await?;
        let (time, trips, report) = measure(proxy, async { Ok(migrator.run().await?) }).await?;
        expect_applied(Tool::Migrator, report.applied().count(), expected)?;
        *run = (time, trips);
    }
    let [(apply, apply_trips), check, warm] = runs;
    Ok(Sample { apply, apply_trips, check: Some(check), warm: Some(warm) })
}

/// Times `run` and counts its round trips, from a reset proxy.
async fn measure<T>(proxy: &Proxy, run: impl Future<Output = Res<T>>) -> Res<(Duration, u64, T)> {
    proxy.reset();
    let started = Instant::now();
    let out = run.await?;
    let elapsed = started.elapsed();
    Ok((elapsed, proxy.round_trips(), out))
}

fn expect_applied(tool: Tool, applied: usize, n: usize) -> Res<()> {
    if applied == n {
        Ok(())
    } else {
        Err(format!("{}: applied {applied} migrations, expected {n}", tool.label()).into())
    }
}

// ---------------------------------------------------------------- PostgreSQL

struct PgBench {
    admin: PgConnection,
    server: PgConnectOptions,
    proxy: Proxy,
}

impl PgBench {
    async fn new(upstream: &str, latency: std::time::Duration) -> Res<Self> {
        let (host, port) = split_host_port(upstream)?;
        let server = PgConnectOptions::new()
            .host(&host)
            .port(port)
            .username("postgres")
            .ssl_mode(PgSslMode::Disable)
            .disable_statement_logging();
        let admin = server.clone().database("postgres").connect().await?;
        let proxy = Proxy::start_with_latency(upstream, latency).await;
        Ok(PgBench { admin, server, proxy })
    }

    /// Through the proxy, to database `db`.
    fn options(&self, db: &str) -> PgConnectOptions {
        self.server.clone().port(self.proxy.port()).database(db)
    }

    async fn run(&mut self, tool: Tool, n: usize, files: &Files, db: &str) -> Res<Sample> {
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).await?;
        self.admin.execute(AssertSqlSafe(format!("CREATE DATABASE {db}"))).await?;
        let sample = self.run_on(tool, n, files, db).await;
        settle().await;
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).await?;
        sample
    }

    async fn run_on(&self, tool: Tool, n: usize, files: &Files, db: &str) -> Res<Sample> {
        let proxy = &self.proxy;
        match tool {
            Tool::Migrator | Tool::MigratorGrouped => {
                let pool: PgPool =
                    PgPoolOptions::new().test_before_acquire(false).connect_with(self.options(db)).await?;
                let new = || {
                    let set = MigrationSet::from_dir(&files.migrator, Dialect::Postgres)?;
                    let builder = migrator_postgres::Migrator::builder(PgDriver::from(&pool), set);
                    Ok(builder.grouped(tool == Tool::MigratorGrouped).build()?)
                };
                let sample = migrator_sample(proxy, &pool, n, new).await;
                pool.close().await;
                sample
            }
            Tool::Sqlx => sqlx_sample!(self, proxy, files, db, n),
            Tool::Refinery => {
                let config = self.tokio_postgres_config(db);
                let migrations = refinery::load_sql_migrations(&files.refinery)?;
                let runner = refinery::Runner::new(&migrations);
                let (mut client, connection) = config.connect(tokio_postgres::NoTls).await?;
                let task = tokio::spawn(connection);
                settle().await;
                let (apply, apply_trips, report) =
                    measure(proxy, async { Ok(runner.run_async(&mut client).await?) }).await?;
                expect_applied(tool, report.applied_migrations().len(), n)?;
                drop(client);
                task.await??;
                let migrations = refinery::load_sql_migrations(&files.refinery)?;
                let runner = refinery::Runner::new(&migrations);
                let (mut client, connection) = config.connect(tokio_postgres::NoTls).await?;
                let task = tokio::spawn(connection);
                settle().await;
                let (check, check_trips, report) =
                    measure(proxy, async { Ok(runner.run_async(&mut client).await?) }).await?;
                expect_applied(tool, report.applied_migrations().len(), 0)?;
                let migrations = refinery::load_sql_migrations(&files.refinery)?;
                let runner = refinery::Runner::new(&migrations);
                settle().await;
                let (time, trips, report) = measure(proxy, async { Ok(runner.run_async(&mut client).await?) }).await?;
                expect_applied(tool, report.applied_migrations().len(), 0)?;
                let warm = (time, trips);
                drop(client);
                task.await??;
                Ok(Sample { apply, apply_trips, check: Some((check, check_trips)), warm: Some(warm) })
            }
            Tool::LowerBound => {
                let mut conn = self.options(db).connect().await?;
                settle().await;
                let script = files.script.clone();
                let (apply, apply_trips, _) =
                    measure(proxy, async { Ok(sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut conn).await?) })
                        .await?;
                conn.close().await?;
                Ok(Sample { apply, apply_trips, check: None, warm: None })
            }
        }
    }

    fn tokio_postgres_config(&self, db: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config.host(self.server.get_host()).port(self.proxy.port()).user("postgres").dbname(db);
        config
    }
}

// ---------------------------------------------------------------- MariaDB

struct MySqlBench {
    admin: MySqlConnection,
    server: MySqlConnectOptions,
    host: String,
    proxy: Proxy,
}

impl MySqlBench {
    async fn new(upstream: &str, latency: std::time::Duration) -> Res<Self> {
        let (host, port) = split_host_port(upstream)?;
        let server = MySqlConnectOptions::new()
            .host(&host)
            .port(port)
            .username("root")
            .ssl_mode(MySqlSslMode::Disabled)
            .disable_statement_logging();
        let admin = server.clone().connect().await?;
        let proxy = Proxy::start_with_latency(upstream, latency).await;
        Ok(MySqlBench { admin, server, host, proxy })
    }

    fn options(&self, db: &str) -> MySqlConnectOptions {
        self.server.clone().port(self.proxy.port()).database(db)
    }

    async fn run(&mut self, tool: Tool, n: usize, files: &Files, db: &str) -> Res<Sample> {
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).await?;
        self.admin.execute(AssertSqlSafe(format!("CREATE DATABASE {db}"))).await?;
        let sample = self.run_on(tool, n, files, db).await;
        settle().await;
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).await?;
        sample
    }

    async fn run_on(&self, tool: Tool, n: usize, files: &Files, db: &str) -> Res<Sample> {
        let proxy = &self.proxy;
        match tool {
            Tool::MigratorGrouped => Err("grouped apply is refused on MariaDB".into()),
            Tool::Migrator => {
                let pool: MySqlPool =
                    MySqlPoolOptions::new().test_before_acquire(false).connect_with(self.options(db)).await?;
                let new = || {
                    let set = MigrationSet::from_dir(&files.migrator, Dialect::MySql)?;
                    Ok(migrator_mysql::Migrator::new(MySqlDriver::from(&pool), set)?)
                };
                let sample = migrator_sample(proxy, &pool, n, new).await;
                pool.close().await;
                sample
            }
            Tool::Sqlx => sqlx_sample!(self, proxy, files, db, n),
            Tool::Refinery => {
                let opts = mysql_async::OptsBuilder::default()
                    .ip_or_hostname(self.host.clone())
                    .tcp_port(self.proxy.port())
                    .user(Some("root"))
                    .db_name(Some(db))
                    // Stay on TCP, through the proxy: by default mysql_async moves to the
                    // server's Unix socket when the host is local.
                    .prefer_socket(false);
                let migrations = refinery::load_sql_migrations(&files.refinery)?;
                let runner = refinery::Runner::new(&migrations);
                let mut pool = mysql_async::Pool::new(opts.clone());
                drop(pool.get_conn().await?);
                settle().await;
                let (apply, apply_trips, report) =
                    measure(proxy, async { Ok(runner.run_async(&mut pool).await?) }).await?;
                expect_applied(tool, report.applied_migrations().len(), n)?;
                pool.disconnect().await?;
                let migrations = refinery::load_sql_migrations(&files.refinery)?;
                let runner = refinery::Runner::new(&migrations);
                let mut pool = mysql_async::Pool::new(opts);
                drop(pool.get_conn().await?);
                settle().await;
                let (check, check_trips, report) =
                    measure(proxy, async { Ok(runner.run_async(&mut pool).await?) }).await?;
                expect_applied(tool, report.applied_migrations().len(), 0)?;
                let migrations = refinery::load_sql_migrations(&files.refinery)?;
                let runner = refinery::Runner::new(&migrations);
                settle().await;
                let (time, trips, report) = measure(proxy, async { Ok(runner.run_async(&mut pool).await?) }).await?;
                expect_applied(tool, report.applied_migrations().len(), 0)?;
                let warm = (time, trips);
                pool.disconnect().await?;
                Ok(Sample { apply, apply_trips, check: Some((check, check_trips)), warm: Some(warm) })
            }
            Tool::LowerBound => {
                let mut conn = self.options(db).connect().await?;
                settle().await;
                let script = files.script.replacen("BEGIN;", "START TRANSACTION;", 1);
                let (apply, apply_trips, _) =
                    measure(proxy, async { Ok(sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut conn).await?) })
                        .await?;
                conn.close().await?;
                Ok(Sample { apply, apply_trips, check: None, warm: None })
            }
        }
    }
}

fn split_host_port(addr: &str) -> Res<(String, u16)> {
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| format!("`{addr}` is not host:port"))?;
    Ok((host.to_owned(), port.parse()?))
}

// ---------------------------------------------------------------- statistics and table

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let len = values.len();
    match len {
        0 => f64::NAN,
        _ if len % 2 == 1 => values[len / 2],
        _ => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Round trips over the repeats: one number when they agree, `min-max` when they do not.
fn trips(values: impl Iterator<Item = u64>) -> String {
    let values: Vec<u64> = values.collect();
    let (min, max) = (values.iter().min().copied().unwrap_or(0), values.iter().max().copied().unwrap_or(0));
    if min == max { min.to_string() } else { format!("{min}-{max}") }
}

/// The median over repeats of the per-repeat ratio `a / b` (both measured in the same repeat).
fn ratio(a: &[Sample], b: &[Sample], pick: impl Fn(&Sample) -> Option<Duration>) -> Option<f64> {
    let ratios: Vec<f64> = a.iter().zip(b).filter_map(|(a, b)| Some(ms(pick(a)?) / ms(pick(b)?))).collect();
    (!ratios.is_empty()).then(|| median(ratios))
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"))
}

/// Picks a measurement (time and round trips) out of a sample.
type Pick = fn(&Sample) -> Option<(Duration, u64)>;

/// The table of one (backend, N): one row per tool.
fn table_rows(out: &mut String, backend: Backend, n: usize, results: &[(Tool, Vec<Sample>)]) {
    let get = |tool: Tool| results.iter().find(|(t, _)| *t == tool).map(|(_, s)| s.as_slice());
    let (Some(mig), Some(low)) = (get(Tool::Migrator), get(Tool::LowerBound)) else { return };
    let checks: [Pick; 2] = [|s| s.check, |s| s.warm];
    for (tool, samples) in results {
        let mut cells = vec![
            backend.label().to_owned(),
            n.to_string(),
            tool.label().to_owned(),
            format!("{:.1}", median(samples.iter().map(|s| ms(s.apply)).collect())),
            trips(samples.iter().map(|s| s.apply_trips)),
            fmt_ratio(ratio(samples, low, |s| Some(s.apply))),
        ];
        let peer = !matches!(tool, Tool::Migrator | Tool::LowerBound);
        let versus = |pick: &dyn Fn(&Sample) -> Option<Duration>| {
            if peer { fmt_ratio(ratio(mig, samples, pick)) } else { "-".to_owned() }
        };
        cells.push(versus(&|s| Some(s.apply)));
        for check in checks {
            if *tool == Tool::LowerBound {
                cells.extend(["-", "-", "-"].map(str::to_owned));
                continue;
            }
            cells.push(format!("{:.2}", median(samples.iter().filter_map(check).map(|(d, _)| ms(d)).collect())));
            cells.push(trips(samples.iter().filter_map(check).map(|(_, t)| t)));
            cells.push(versus(&|s| check(s).map(|(d, _)| d)));
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

const HEADER: &str = "| backend | N | tool | apply ms | apply round trips | apply / lower bound | migrator / tool (apply) \
                      | check ms | check round trips | migrator / tool (check) \
                      | warm check ms | warm check round trips | migrator / tool (warm check) |\n\
                      |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Res<()> {
    let args = parse_args()?;
    let mut pg = None;
    let mut my = None;
    for backend in &args.backends {
        match backend {
            Backend::Postgres => pg = Some(PgBench::new(&args.pg, args.latency).await?),
            Backend::MySql => my = Some(MySqlBench::new(&args.mysql, args.latency).await?),
        }
    }
    if let Some(rows) = args.backfill_rows {
        let pg = pg.as_mut().ok_or("the backfill table is measured on PostgreSQL: add --backend postgres")?;
        let table = backfill::measure(pg, rows, args.backfill_batch).await?;
        println!("\nA backfill against one plain UPDATE, one run.\n");
        print!("{table}");
        if args.backfill_only {
            return Ok(());
        }
    }
    if args.tenants > 0 {
        let files = generate(args.tenant_migrations)?;
        let bench = pg.as_mut().ok_or("the tenants benchmark needs PostgreSQL (--backend postgres or all)")?;
        print!("{}", tenants::measure(bench, args.tenants, &files, args.tenants_created).await?);
        if args.tenants_only {
            return Ok(());
        }
    }
    let mut table = String::from(HEADER);
    let mut repeats_used = Vec::new();
    for &backend in &args.backends {
        for &n in if args.concurrent_only { &[][..] } else { &args.sizes[..] } {
            let repeats = args.repeats.unwrap_or(if n <= 100 { 5 } else { 3 });
            repeats_used.push(format!("{} N={n}: {repeats}", backend.label()));
            let files = generate(n)?;
            let tools = tools(backend);
            let mut results: Vec<(Tool, Vec<Sample>)> = tools.iter().map(|&t| (t, Vec::new())).collect();
            for repeat in 0..repeats {
                // Rotate the order each repeat, so no tool always runs first or last.
                for k in 0..tools.len() {
                    let index = (k + repeat) % tools.len();
                    let tool = tools[index];
                    let db = format!("bench_{}_{n}_{repeat}", tool.short());
                    let sample = match backend {
                        Backend::Postgres => pg.as_mut().ok_or("no PostgreSQL")?.run(tool, n, &files, &db).await,
                        Backend::MySql => my.as_mut().ok_or("no MariaDB")?.run(tool, n, &files, &db).await,
                    }
                    .map_err(|e| format!("{} N={n} {} repeat {repeat}: {e}", backend.label(), tool.label()))?;
                    eprintln!(
                        "{} N={n} repeat {repeat} {}: apply {:.1} ms, {} round trips{}",
                        backend.label(),
                        tool.label(),
                        ms(sample.apply),
                        sample.apply_trips,
                        sample.check.zip(sample.warm).map_or_else(String::new, |((d, t), (w, u))| format!(
                            "; check {:.2} ms, {t} round trips; warm check {:.2} ms, {u} round trips",
                            ms(d),
                            ms(w)
                        )),
                    );
                    results[index].1.push(sample);
                }
            }
            table_rows(&mut table, backend, n, &results);
        }
    }
    if !args.concurrent_only {
        println!(
            "\nRepeats: {}. Times are medians; ratios are medians of per-repeat ratios.\n",
            repeats_used.join(", ")
        );
        print!("{table}");
    }
    if !args.runners.is_empty() {
        let files = generate(args.concurrent_migrations)?;
        let repeats = args.repeats.unwrap_or(5);
        let mut table = concurrent::Table::default();
        for &backend in &args.backends {
            concurrent::measure(backend, pg.as_mut(), my.as_mut(), &args.runners, repeats, &files, &mut table).await?;
        }
        println!(
            "\nRunners started together, {repeats} repeats; times are medians, ratios medians of per-repeat ratios.\n"
        );
        print!("{}{}", concurrent::HEADER, table.rows);
        for note in table.notes {
            println!("\n- failed: {note}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn file_names_follow_each_tool() {
        let files = generate(2).unwrap();
        assert!(files.migrator.join("2_create_t_00002.up.sql").exists());
        assert!(files.sqlx.join("2_create_t_00002.sql").exists());
        assert!(files.refinery.join("V2__create_t_00002.sql").exists());
        assert!(files.script.starts_with("BEGIN;\n") && files.script.ends_with("COMMIT;\n"));
    }
}
