//! Many runners started together, as replicas of an application deploying at once: the wall
//! time from their start until the last one returned, for K migrator runners, K runners of
//! sqlx's `Migrator` (each on a connection of its own), and one migrator runner alone.
//!
//! Every runner has its own pool or connection, opened before the clock starts, and talks to
//! the server directly (not through the counting proxy). After each race the history is
//! checked: every migration applied exactly once.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use migrator_core::{Dialect, MigrationSet};
use migrator_mysql::MySqlDriver;
use migrator_postgres::PgDriver;
use sqlx::mysql::{MySqlConnection, MySqlPoolOptions};
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor};

use crate::{Backend, Files, MySqlBench, PgBench, Res, median, ms};

/// What races.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Racer {
    /// K migrator runners.
    Migrator,
    /// K sqlx runners.
    Sqlx,
    /// One migrator runner: the time a deploy needs without contention.
    MigratorAlone,
}

pub(crate) const RACERS: [Racer; 3] = [Racer::Migrator, Racer::Sqlx, Racer::MigratorAlone];

impl Racer {
    fn short(self) -> &'static str {
        match self {
            Racer::Migrator => "mig",
            Racer::Sqlx => "sqlx",
            Racer::MigratorAlone => "one",
        }
    }

    fn label(self, k: usize) -> String {
        match self {
            Racer::Migrator => format!("{k} migrator runners"),
            Racer::Sqlx => format!("{k} sqlx runners"),
            Racer::MigratorAlone => "1 migrator runner".to_owned(),
        }
    }

    fn runners(self, k: usize) -> usize {
        if self == Racer::MigratorAlone { 1 } else { k }
    }
}

/// A runner, connected and ready: its future runs the migrations and answers how many it
/// applied (sqlx does not say: 0, checked from its table afterwards).
///
/// Not `Send` (sqlx's `Migrator::run` future is not, for a borrowed connection): the runners
/// are polled together on one task, which is what a race of I/O-bound clients needs.
type Runner = Pin<Box<dyn Future<Output = Res<usize>>>>;

/// Starts every runner at once; the wall time until the last one returned, and how many
/// migrations they said they applied in all.
async fn race(runners: Vec<Runner>) -> Res<(Duration, usize)> {
    let started = Instant::now();
    let mut running: Vec<Option<Runner>> = runners.into_iter().map(Some).collect();
    let mut results: Vec<Res<usize>> = Vec::new();
    std::future::poll_fn(|cx| {
        for slot in &mut running {
            if let Some(runner) = slot
                && let Poll::Ready(result) = runner.as_mut().poll(cx)
            {
                results.push(result);
                *slot = None;
            }
        }
        if running.iter().all(Option::is_none) { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    let mut applied = 0;
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(n) => applied += n,
            Err(e) => errors.push(e.to_string()),
        }
    }
    let elapsed = started.elapsed();
    if let Some(first) = errors.first() {
        return Err(format!("{} runner(s) failed, the first: {first}", errors.len()).into());
    }
    Ok((elapsed, applied))
}

impl PgBench {
    async fn runners(&self, racer: Racer, k: usize, files: &Files, db: &str) -> Res<Vec<Runner>> {
        let options = self.server.clone().database(db);
        let mut runners: Vec<Runner> = Vec::new();
        for _ in 0..racer.runners(k) {
            match racer {
                Racer::Migrator | Racer::MigratorAlone => {
                    let pool = PgPoolOptions::new().max_connections(4).connect_with(options.clone()).await?;
                    let set = MigrationSet::from_dir(&files.migrator, Dialect::Postgres)?;
                    let migrator = migrator_postgres::Migrator::new(PgDriver::from(&pool), set)?;
                    runners.push(Box::pin(async move {
                        let report = migrator.run().await?;
                        pool.close().await;
                        Ok(report.applied().count())
                    }));
                }
                Racer::Sqlx => {
                    let mut conn: PgConnection = options.connect().await?;
                    let migrator = sqlx::migrate::Migrator::new(files.sqlx.as_path()).await?;
                    runners.push(Box::pin(async move {
                        migrator.run(&mut conn).await?;
                        Ok(0)
                    }));
                }
            }
        }
        Ok(runners)
    }

    async fn race(&mut self, racer: Racer, k: usize, files: &Files, db: &str) -> Res<Duration> {
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).await?;
        self.admin.execute(AssertSqlSafe(format!("CREATE DATABASE {db}"))).await?;
        let runners = self.runners(racer, k, files, db).await?;
        crate::settle().await;
        let (took, applied) = race(runners).await?;
        let mut conn: PgConnection = self.server.clone().database(db).connect().await?;
        let recorded: i64 = sqlx::query_scalar(AssertSqlSafe(recorded_sql(racer))).fetch_one(&mut conn).await?;
        let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename LIKE 't\\_%'")
            .fetch_one(&mut conn)
            .await?;
        drop(conn);
        check(racer, files.n, recorded, tables, applied)?;
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).await?;
        Ok(took)
    }
}

impl MySqlBench {
    async fn runners(&self, racer: Racer, k: usize, files: &Files, db: &str) -> Res<Vec<Runner>> {
        let options = self.server.clone().database(db);
        let mut runners: Vec<Runner> = Vec::new();
        for _ in 0..racer.runners(k) {
            match racer {
                Racer::Migrator | Racer::MigratorAlone => {
                    let pool = MySqlPoolOptions::new().max_connections(4).connect_with(options.clone()).await?;
                    let set = MigrationSet::from_dir(&files.migrator, Dialect::MySql)?;
                    let migrator = migrator_mysql::Migrator::new(MySqlDriver::from(&pool), set)?;
                    runners.push(Box::pin(async move {
                        let report = migrator.run().await?;
                        pool.close().await;
                        Ok(report.applied().count())
                    }));
                }
                Racer::Sqlx => {
                    let mut conn: MySqlConnection = options.connect().await?;
                    let migrator = sqlx::migrate::Migrator::new(files.sqlx.as_path()).await?;
                    runners.push(Box::pin(async move {
                        migrator.run(&mut conn).await?;
                        Ok(0)
                    }));
                }
            }
        }
        Ok(runners)
    }

    async fn race(&mut self, racer: Racer, k: usize, files: &Files, db: &str) -> Res<Duration> {
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).await?;
        self.admin.execute(AssertSqlSafe(format!("CREATE DATABASE {db}"))).await?;
        let runners = self.runners(racer, k, files, db).await?;
        crate::settle().await;
        let (took, applied) = race(runners).await?;
        let mut conn: MySqlConnection = self.server.clone().database(db).connect().await?;
        let recorded: i64 = sqlx::query_scalar(AssertSqlSafe(recorded_sql(racer))).fetch_one(&mut conn).await?;
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 't\\_%'",
        )
        .fetch_one(&mut conn)
        .await?;
        drop(conn);
        check(racer, files.n, recorded, tables, applied)?;
        self.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).await?;
        Ok(took)
    }
}

/// Counts the history rows of applied migrations (migrator's layout row, version 0, is none).
fn recorded_sql(racer: Racer) -> &'static str {
    if racer == Racer::Sqlx {
        "SELECT count(*) FROM _sqlx_migrations WHERE success"
    } else {
        "SELECT count(*) FROM _migrator_history WHERE version > 0 AND state = 'applied'"
    }
}

/// Every migration applied exactly once: one history row and one table each, and (for
/// migrator, which says) one runner's report naming it.
fn check(racer: Racer, n: usize, recorded: i64, tables: i64, applied: usize) -> Res<()> {
    let n = i64::try_from(n)?;
    let said = if racer == Racer::Sqlx { n } else { i64::try_from(applied)? };
    if recorded == n && tables == n && said == n {
        Ok(())
    } else {
        Err(format!("expected {n} migrations applied once: {recorded} history rows, {tables} tables, {said} reported")
            .into())
    }
}

/// Races each racer `repeats` times for each number of runners, and prints the table.
pub(crate) async fn measure(
    backend: Backend,
    pg: Option<&mut PgBench>,
    my: Option<&mut MySqlBench>,
    runners: &[usize],
    repeats: usize,
    files: &Files,
    out: &mut Table,
) -> Res<()> {
    let (mut pg, mut my) = (pg, my);
    for &k in runners {
        // Per racer, per repeat: the wall time, or the error (a race that lost or doubled a
        // migration, or a failed runner, is reported, not timed).
        let mut times: Vec<Vec<Option<f64>>> = vec![Vec::new(); RACERS.len()];
        let mut failures: Vec<Option<String>> = vec![None; RACERS.len()];
        for repeat in 0..repeats {
            for i in 0..RACERS.len() {
                let index = (i + repeat) % RACERS.len();
                let racer = RACERS[index];
                let db = format!("bench_race_{}_{k}_{repeat}", racer.short());
                let took = match backend {
                    Backend::Postgres => pg.as_deref_mut().ok_or("no PostgreSQL")?.race(racer, k, files, &db).await,
                    Backend::MySql => my.as_deref_mut().ok_or("no MariaDB")?.race(racer, k, files, &db).await,
                };
                let what = format!("{} {} ({} migrations) repeat {repeat}", backend.label(), racer.label(k), files.n);
                match took {
                    Ok(took) => {
                        eprintln!("{what}: {:.1} ms", ms(took));
                        times[index].push(Some(ms(took)));
                    }
                    Err(e) => {
                        eprintln!("{what}: FAILED: {e}");
                        failures[index].get_or_insert_with(|| e.to_string());
                        times[index].push(None);
                    }
                }
            }
        }
        let cell = |index: usize| {
            let ok: Vec<f64> = times[index].iter().flatten().copied().collect();
            if ok.len() == times[index].len() {
                format!("{:.1}", median(ok))
            } else {
                format!("failed in {} of {} repeats", times[index].len() - ok.len(), times[index].len())
            }
        };
        let per_repeat = |a: usize, b: usize| {
            let ratios: Vec<f64> = times[a].iter().zip(&times[b]).filter_map(|(x, y)| Some((*x)? / (*y)?)).collect();
            if ratios.is_empty() { "-".to_owned() } else { format!("{:.2}", median(ratios)) }
        };
        let _ = std::fmt::Write::write_fmt(
            &mut out.rows,
            format_args!(
                "| {} | {k} | {} | {} | {} | {} | {} | {} |\n",
                backend.label(),
                files.n,
                cell(0),
                cell(1),
                cell(2),
                per_repeat(0, 1),
                per_repeat(0, 2),
            ),
        );
        for (racer, failure) in RACERS.iter().zip(failures) {
            if let Some(failure) = failure {
                out.notes.push(format!("{} {}: {failure}", backend.label(), racer.label(k)));
            }
        }
    }
    Ok(())
}

/// The concurrent table: its rows, and the first failure of each racer that failed.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) rows: String,
    pub(crate) notes: Vec<String>,
}

/// The concurrent table's header.
pub(crate) const HEADER: &str = "| backend | runners K | migrations | K migrator ms | K sqlx ms | 1 migrator ms \
                                 | K migrator / K sqlx | K migrator / 1 migrator |\n\
                                 |---|---:|---:|---:|---:|---:|---:|---:|\n";
