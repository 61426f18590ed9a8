//! The Galera test cluster: three MariaDB nodes (started by `scripts/services` on
//! 127.0.0.1:3311-3313, or `MIGRATOR_TEST_GALERA_URLS`), a fresh database per test, created
//! on node 1 (DDL replicates to every node) and reached through each node.

use std::time::{Duration, SystemTime};

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

/// The three nodes' URLs (no database): `MIGRATOR_TEST_GALERA_URLS`, comma-separated, or
/// the cluster `scripts/services` starts.
pub fn node_urls() -> Vec<String> {
    let urls = std::env::var("MIGRATOR_TEST_GALERA_URLS").unwrap_or_else(|_| {
        "mysql://root@127.0.0.1:3311,mysql://root@127.0.0.1:3312,mysql://root@127.0.0.1:3313".to_owned()
    });
    let urls: Vec<String> = urls.split(',').map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).collect();
    assert_eq!(urls.len(), 3, "MIGRATOR_TEST_GALERA_URLS must name three nodes, comma-separated: {urls:?}");
    urls
}

async fn connect(url: &str) -> MySqlConnection {
    match MySqlConnection::connect_with(&url.parse::<MySqlConnectOptions>().unwrap()).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "the Galera node at {url} is not reachable ({e}). Start the cluster with ./scripts/services (or \
             ./scripts/services galera; or set MIGRATOR_TEST_GALERA_URLS to three nodes' URLs); these tests never skip"
        ),
    }
}

/// One test's database on the cluster.
#[derive(Debug)]
pub struct Cluster {
    /// The database.
    pub database: String,
    /// Each node's URL into the database.
    pub urls: Vec<String>,
    /// A pool per node into the database.
    pub pools: Vec<MySqlPool>,
}

impl Cluster {
    /// A fresh database for `test`, after checking that every node is a synced member of a
    /// three-node cluster.
    pub async fn fresh(test: &str) -> Cluster {
        let nodes = node_urls();
        for url in &nodes {
            let mut conn = connect(url).await;
            let (size, state): (String, String) = sqlx::query_as(
                "SELECT (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = \
                 'wsrep_cluster_size'), (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE \
                 VARIABLE_NAME = 'wsrep_local_state_comment')",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{url} is not a Galera node ({e}): start the cluster with ./scripts/services"));
            assert_eq!(
                (size.as_str(), state.as_str()),
                ("3", "Synced"),
                "{url} is not a synced node of a 3-node cluster: restart it with ./scripts/services"
            );
            let _ = conn.close().await;
        }
        let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let mut database = format!("gt_{seconds}_{}_{test}", std::process::id());
        database.truncate(64);
        let mut admin = connect(&nodes[0]).await;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE `{database}` CHARACTER SET utf8mb4")))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        let urls: Vec<String> = nodes.iter().map(|u| format!("{u}/{database}")).collect();
        let mut pools = Vec::new();
        for url in &urls {
            pools.push(Self::pool(url).await);
        }
        Cluster { database, urls, pools }
    }

    /// A new pool on the node at `url`.
    pub async fn pool(url: &str) -> MySqlPool {
        // The database may take a moment to appear on the other nodes (DDL is applied in order).
        let mut last = None;
        for _ in 0..100 {
            match MySqlPoolOptions::new()
                .max_connections(4)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(url.parse::<MySqlConnectOptions>().unwrap())
                .await
            {
                Ok(pool) => return pool,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("cannot connect to {url}: {last:?}; start the cluster with ./scripts/services")
    }

    /// A number read on node `node` (0-based), causally after every write in the cluster.
    pub async fn scalar(&self, node: usize, sql: &str) -> i64 {
        let mut conn = self.pools[node].acquire().await.unwrap();
        sqlx::raw_sql("SET SESSION wsrep_sync_wait = 1").execute(&mut *conn).await.unwrap();
        let value: i64 = sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(&mut *conn).await.unwrap();
        sqlx::raw_sql("SET SESSION wsrep_sync_wait = 0").execute(&mut *conn).await.unwrap();
        value
    }

    /// Drops the database (on node 1; it replicates).
    pub async fn cleanup(self) {
        for pool in &self.pools {
            pool.close().await;
        }
        let mut admin = connect(&node_urls()[0]).await;
        let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{}`", self.database)))
            .execute(&mut admin)
            .await;
    }
}
