//! The tenants benchmark (issue 15), PostgreSQL: N schemas of one database, each given the
//! same migrations (20 by default), in one run:
//!
//! - **migrate**: `Tenants::run` with parallelism 1, 2, 4, 8 (each on freshly created empty
//!   schemas), against a loop calling `Migrator::run` per schema (a pool per schema, as
//!   `Tenants` opens one, one after the other);
//! - **check**: every tenant current; the all-tenants check (`Tenants::check`, and a whole
//!   `Tenants::run` that finds them current) against a loop of per-schema startup checks
//!   (`Migrator::run` on each current schema: on one warm pool with the history table
//!   qualified by the schema, and with a new pool per schema as a new process has);
//! - **create**: new tenants created one after the other with `Tenants::create` (CREATE
//!   SCHEMA, then the set grouped in one transaction) against CREATE SCHEMA then an ungrouped
//!   `Migrator::run`.
//!
//! Every connection goes through the proxy, so round trips include connection setup where a
//! variant opens connections.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use migrator_core::{Dialect, Error as MigratorError, MigrationSet, Tenants};
use migrator_postgres::{Migrator, PgDriver};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor};

use crate::{Files, PgBench, Res, ms, warm};

const DB: &str = "bench_tenants";

fn name(i: usize) -> String {
    format!("tenant_{i:05}")
}

fn quote(schema: &str) -> String {
    format!("\"{}\"", schema.replace('"', "\"\""))
}

/// The bench database, dropped and created again with `count` empty schemas.
async fn fresh(bench: &mut PgBench, count: usize) -> Res<()> {
    bench.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))).await?;
    bench.admin.execute(AssertSqlSafe(format!("CREATE DATABASE {DB}"))).await?;
    if count > 0 {
        let mut conn = bench.server.clone().database(DB).connect().await?;
        conn.execute(AssertSqlSafe(format!(
            "DO $$ BEGIN FOR i IN 0..{} LOOP EXECUTE format('CREATE SCHEMA tenant_%s', lpad(i::text, 5, '0')); END LOOP; END $$",
            count - 1
        )))
        .await?;
    }
    Ok(())
}

fn set(files: &Files) -> Result<MigrationSet<sqlx::PgConnection>, MigratorError> {
    MigrationSet::from_dir(&files.migrator, Dialect::Postgres)
}

/// A small lazy pool whose `search_path` is the schema, as the CLI opens per tenant.
fn tenant_pool(options: &PgConnectOptions, schema: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .test_before_acquire(false)
        .connect_lazy_with(options.clone().options([("search_path", quote(schema))]))
}

/// The tenant's migrator: its own pool, its history table in its schema.
fn tenant_migrator(options: &PgConnectOptions, files: &Files, schema: &str) -> Result<Migrator, MigratorError> {
    Migrator::builder(PgDriver::from(tenant_pool(options, schema)), set(files)?).schema(schema).build()
}

/// One measurement: the time, the round trips, what it did.
struct Row {
    what: String,
    time: Duration,
    trips: u64,
}

async fn timed<T>(bench: &PgBench, run: impl Future<Output = Res<T>>) -> Res<(Duration, u64, T)> {
    bench.proxy.reset();
    let started = Instant::now();
    let out = run.await?;
    Ok((started.elapsed(), bench.proxy.round_trips(), out))
}

fn tenants_of<'a>(
    options: &'a PgConnectOptions,
    files: &'a Files,
    names: &[String],
    checker: &PgPool,
    parallel: usize,
) -> Res<Tenants<impl Fn(String) -> std::future::Ready<Result<Migrator, MigratorError>> + 'a, PgDriver>> {
    let checker = Migrator::builder(PgDriver::from(checker), set(files)?).build()?;
    Ok(Tenants::new(names.iter().cloned(), move |schema: String| {
        std::future::ready(tenant_migrator(options, files, &schema))
    })
    .parallel(parallel)
    .check_on(checker))
}

/// Runs the benchmark; returns its Markdown.
pub(crate) async fn measure(bench: &mut PgBench, count: usize, files: &Files, created: usize) -> Res<String> {
    let names: Vec<String> = (0..count).map(name).collect();
    let options = bench.server.clone().port(bench.proxy.port()).database(DB);
    let mut rows: Vec<Row> = Vec::new();
    let n = files.n;

    // Migrate: Tenants::run at each parallelism, then the loop.
    let mut migrate = Vec::new();
    for parallel in [1, 2, 4, 8] {
        fresh(bench, count).await?;
        let checker: PgPool = PgPoolOptions::new().test_before_acquire(false).connect_with(options.clone()).await?;
        warm(&checker).await?;
        let tenants = tenants_of(&options, files, &names, &checker, parallel)?;
        let (time, trips, report) = timed(bench, async { Ok(tenants.run().await) }).await?;
        if !report.is_success() || report.tenants.iter().any(|t| t.applied().len() != n) {
            return Err(format!("Tenants::run, parallel {parallel}: {report}").into());
        }
        eprintln!(
            "tenants: migrate {count} schemas, parallel {parallel}: {:.1} s, {trips} round trips",
            time.as_secs_f64()
        );
        migrate.push((parallel, time, trips));
        rows.push(Row { what: format!("`Tenants::run`, parallel {parallel}"), time, trips });
        checker.close().await;
    }
    fresh(bench, count).await?;
    let (loop_time, loop_trips, ()) = timed(bench, async {
        for schema in &names {
            let migrator = tenant_migrator(&options, files, schema)?;
            let report = migrator.run().await?;
            if report.applied().count() != n {
                return Err(format!("{schema}: applied {}", report.applied().count()).into());
            }
            migrator.driver().pool().close().await;
        }
        Ok(())
    })
    .await?;
    eprintln!(
        "tenants: loop of run() over {count} schemas: {:.1} s, {loop_trips} round trips",
        loop_time.as_secs_f64()
    );
    rows.push(Row { what: "loop: `Migrator::run` per schema".to_owned(), time: loop_time, trips: loop_trips });

    // Check: every tenant is current now.
    let checker: PgPool = PgPoolOptions::new().test_before_acquire(false).connect_with(options.clone()).await?;
    let mut checks = Vec::new();
    for _ in 0..3 {
        warm(&checker).await?;
        let tenants = tenants_of(&options, files, &names, &checker, 8)?;
        let (check, check_trips, found) = timed(bench, async { Ok(tenants.check().await?) }).await?;
        if !found.iter().all(|(_, c)| c.is_current()) {
            return Err("the all-tenants check found a tenant not current".into());
        }
        warm(&checker).await?;
        let (rerun, rerun_trips, report) = timed(bench, async { Ok(tenants.run().await) }).await?;
        if report.in_state(migrator_core::TenantState::Current).count() != count {
            return Err(format!("re-run: {report}").into());
        }
        warm(&checker).await?;
        let (shared, shared_trips, ()) = timed(bench, async {
            for schema in &names {
                let migrator = Migrator::builder(PgDriver::from(&checker), set(files)?).schema(schema).build()?;
                if !migrator.run().await?.is_noop() {
                    return Err(format!("{schema} was not current").into());
                }
            }
            Ok(())
        })
        .await?;
        checks.push([(check, check_trips), (rerun, rerun_trips), (shared, shared_trips)]);
    }
    let (own, own_trips, ()) = timed(bench, async {
        for schema in &names {
            let migrator = tenant_migrator(&options, files, schema)?;
            if !migrator.run().await?.is_noop() {
                return Err(format!("{schema} was not current").into());
            }
            migrator.driver().pool().close().await;
        }
        Ok(())
    })
    .await?;
    let median = |k: usize| {
        let mut times: Vec<Duration> = checks.iter().map(|c| c[k].0).collect();
        times.sort();
        (times[times.len() / 2], checks[0][k].1)
    };
    let (check, check_trips) = median(0);
    let (rerun, rerun_trips) = median(1);
    let (shared, shared_trips) = median(2);
    eprintln!(
        "tenants: check {:.1} ms ({check_trips} rt), re-run {:.1} ms ({rerun_trips} rt), loop on one pool {:.1} ms \
         ({shared_trips} rt), loop with a pool each {:.1} ms ({own_trips} rt)",
        ms(check),
        ms(rerun),
        ms(shared),
        ms(own)
    );
    checker.close().await;

    // Create: new tenants one after the other, grouped (Tenants::create) and not.
    let new_names: Vec<String> = (0..created).map(|i| format!("new_{i:04}")).collect();
    let ungrouped_names: Vec<String> = (0..created).map(|i| format!("plain_{i:04}")).collect();
    let checker: PgPool = PgPoolOptions::new().test_before_acquire(false).connect_with(options.clone()).await?;
    let (mut grouped_total, mut plain_total) = (Duration::ZERO, Duration::ZERO);
    let (mut grouped_trips, mut plain_trips) = (0, 0);
    for (new, plain) in new_names.iter().zip(&ungrouped_names) {
        warm(&checker).await?;
        let tenants = tenants_of(&options, files, std::slice::from_ref(new), &checker, 1)?;
        let (time, trips, report) = timed(bench, async { Ok(tenants.create(new).await?) }).await?;
        if report.applied().count() != n {
            return Err(format!("create {new}: applied {}", report.applied().count()).into());
        }
        grouped_total += time;
        grouped_trips += trips;
        warm(&checker).await?;
        let (time, trips, ()) = timed(bench, async {
            checker.execute(AssertSqlSafe(format!("CREATE SCHEMA {}", quote(plain)))).await?;
            let migrator = tenant_migrator(&options, files, plain)?;
            if migrator.run().await?.applied().count() != n {
                return Err(format!("{plain}: not all applied").into());
            }
            migrator.driver().pool().close().await;
            Ok(())
        })
        .await?;
        plain_total += time;
        plain_trips += trips;
    }
    checker.close().await;
    let per = |total: Duration| total / u32::try_from(created.max(1)).unwrap_or(1);
    let per_trips = |trips: u64| trips / u64::try_from(created.max(1)).unwrap_or(1);
    eprintln!(
        "tenants: create grouped {:.1} ms ({} rt), ungrouped {:.1} ms ({} rt) per tenant",
        ms(per(grouped_total)),
        per_trips(grouped_trips),
        ms(per(plain_total)),
        per_trips(plain_trips)
    );
    bench.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))).await?;

    // The tables.
    let mut out = String::new();
    let _ = writeln!(out, "\n### Tenants: {count} PostgreSQL schemas of {n} migrations\n");
    let _ = writeln!(out, "| Migrate {count} empty schemas | Time | Round trips | Loop / this |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for row in &rows {
        let _ = writeln!(
            out,
            "| {} | {:.1} s | {} | {:.2}x |",
            row.what,
            row.time.as_secs_f64(),
            row.trips,
            loop_time.as_secs_f64() / row.time.as_secs_f64()
        );
    }
    let _ = writeln!(
        out,
        "\n| Startup check, {count} current schemas | Time | Round trips | Ratio to the all-tenants check |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for (what, time, trips) in [
        ("`Tenants::check` (one query)", check, check_trips),
        ("`Tenants::run` finding every tenant current", rerun, rerun_trips),
        ("loop: `Migrator::run` per schema, one warm pool", shared, shared_trips),
        ("loop: `Migrator::run` per schema, a new pool each", own, own_trips),
    ] {
        let _ = writeln!(out, "| {what} | {:.1} ms | {trips} | {:.1}x |", ms(time), ms(time) / ms(check));
    }
    let _ = writeln!(out, "\n| Create a tenant ({created} created, mean) | Time | Round trips |");
    let _ = writeln!(out, "|---|---:|---:|");
    let _ = writeln!(
        out,
        "| `Tenants::create` (CREATE SCHEMA, the set grouped in one transaction) | {:.1} ms | {} |",
        ms(per(grouped_total)),
        per_trips(grouped_trips)
    );
    let _ = writeln!(
        out,
        "| CREATE SCHEMA, then `Migrator::run` ungrouped | {:.1} ms | {} |",
        ms(per(plain_total)),
        per_trips(plain_trips)
    );
    let _ = writeln!(
        out,
        "\nCheck times are medians of 3 (the loop with a pool each: one run). Migrate: one run per row, \
         parallelism {:?}.",
        migrate.iter().map(|m| m.0).collect::<Vec<_>>()
    );
    Ok(out)
}
