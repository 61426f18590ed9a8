//! A batched backfill against one plain `UPDATE` of the same rows, on PostgreSQL: the time
//! each takes, and the longest stall of a concurrent writer (single-row updates in a loop on
//! the same table, on a connection of its own) during each.
//!
//! Each run gets a fresh database with a table of `rows` rows (`id bigint PRIMARY KEY, n int,
//! v int`), analyzed and checkpointed before the clock starts; the writer starts 200 ms
//! before the change and stops when it returns. The plain `UPDATE` is
//! `UPDATE items SET n = n + 1`; the backfill is `migrator_postgres::Backfill` with
//! `UPDATE items SET n = n + 1 WHERE id > :start AND id <= :end`, `batch` rows per batch, no
//! pause. Both are checked afterwards: every row's `n` is 1.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use migrator_postgres::{Backfill, backfill_conn};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, ConnectOptions, Executor};

use crate::{PgBench, Res, ms};

/// One measured change.
struct Sample {
    took: Duration,
    stall: Duration,
    writes: u64,
}

/// Single-row updates in a loop until `stop`: the longest one and how many ran.
fn writer(
    mut conn: PgConnection,
    rows: i64,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Result<(Duration, u64), sqlx::Error>> {
    tokio::spawn(async move {
        let (mut longest, mut count, mut id) = (Duration::ZERO, 0u64, 1i64);
        while !stop.load(Ordering::Relaxed) {
            id = (id * 7_919 + 13) % rows + 1;
            let started = Instant::now();
            sqlx::query("UPDATE items SET v = v + 1 WHERE id = $1").bind(id).execute(&mut conn).await?;
            longest = longest.max(started.elapsed());
            count += 1;
        }
        Ok((longest, count))
    })
}

async fn run(pg: &mut PgBench, rows: i64, batch: Option<u64>) -> Res<Sample> {
    let db = format!("bench_backfill_{}", if batch.is_some() { "batched" } else { "plain" });
    pg.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).await?;
    pg.admin.execute(AssertSqlSafe(format!("CREATE DATABASE {db}"))).await?;
    let options = pg.server.clone().database(&db);
    let mut conn = options.connect().await?;
    conn.execute(AssertSqlSafe(format!(
        "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0, v int NOT NULL DEFAULT 0); \
         INSERT INTO items (id) SELECT generate_series(1, {rows}); ANALYZE items; CHECKPOINT"
    )))
    .await?;
    let stop = Arc::new(AtomicBool::new(false));
    let writing = writer(options.connect().await?, rows, stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    match batch {
        None => {
            conn.execute("UPDATE items SET n = n + 1").await?;
        }
        Some(batch) => {
            Backfill::new("bench", "items", "id")?
                .statement("UPDATE items SET n = n + 1 WHERE id > :start AND id <= :end")?
                .batch(batch)
                .run(&mut backfill_conn(&mut conn))
                .await?;
        }
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (stall, writes) = writing.await??;
    let wrong: i64 = sqlx::query_scalar("SELECT count(*) FROM items WHERE n <> 1").fetch_one(&mut conn).await?;
    if wrong != 0 {
        return Err(format!("{db}: {wrong} rows not changed exactly once").into());
    }
    drop(conn);
    pg.admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).await?;
    Ok(Sample { took, stall, writes })
}

/// The table of both runs, with the ratios of this one run.
pub(crate) async fn measure(pg: &mut PgBench, rows: i64, batch: u64) -> Res<String> {
    let plain = run(pg, rows, None).await?;
    let batched = run(pg, rows, Some(batch)).await?;
    let mut out = String::from(
        "| PostgreSQL, rows | change | time s | rows/s | writer's longest stall ms | writer's updates |\n\
         |---:|---|---:|---:|---:|---:|\n",
    );
    for (label, s) in [("one plain `UPDATE`".to_owned(), &plain), (format!("backfill, batch {batch}"), &batched)] {
        out.push_str(&format!(
            "| {rows} | {label} | {:.2} | {:.0} | {:.1} | {} |\n",
            s.took.as_secs_f64(),
            rows as f64 / s.took.as_secs_f64(),
            ms(s.stall),
            s.writes
        ));
    }
    out.push_str(&format!(
        "\nBackfill / plain `UPDATE`: time {:.2}x, writer's longest stall {:.3}x.\n",
        batched.took.as_secs_f64() / plain.took.as_secs_f64(),
        batched.stall.as_secs_f64() / plain.stall.as_secs_f64()
    ));
    Ok(out)
}
