//! `migrator squash --to V`: every migration up to V becomes one, built from the schema (and
//! rows) they leave in a scratch area, checked in a second scratch area, then written.
//!
//! The scratch areas are never the application's database: temporary files for SQLite, and
//! two databases that the command creates on the PostgreSQL or MySQL server
//! `--scratch-url` names and drops again, whatever happens.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use migrator_core::driver::{Driver, Dump, DumpOptions, Inspect, SchemaDump};
use migrator_core::plan::{SquashCandidate, plan_squash};
use migrator_core::source::{Layout, LoadedMigration, load_dir_with_layout};
use migrator_core::squash::{Squashed, squash_script};
use migrator_core::{Dialect, Migration, MigrationSet, Migrator, Phases, Script, ScriptKind, SqlMigration, Version};

use crate::output::clean_line;
use crate::url::{Backend, DatabaseUrl};
use crate::usage::Usage;

/// What `squash` was asked to do.
pub(crate) struct SquashArgs<'a> {
    pub(crate) source: &'a Path,
    pub(crate) layout: Option<Layout>,
    pub(crate) to: i64,
    pub(crate) name: &'a str,
    pub(crate) dialect: Dialect,
    pub(crate) scratch: Option<&'a DatabaseUrl>,
    pub(crate) dry_run: bool,
}

/// What was written, for the summary.
struct Built {
    text: String,
    dump: SchemaDump,
}

pub(crate) async fn run(args: &SquashArgs<'_>) -> anyhow::Result<()> {
    let display = args.source.display().to_string();
    let loaded = load_dir_with_layout(args.source, &display, args.dialect, args.layout, &Default::default())
        .map_err(|errors| migrator_core::Error::Load { errors })?;
    if loaded.layout != Layout::Migrator {
        return Err(Usage(format!(
            "{display} is in {}'s layout; squash writes migrator's (`{{version}}_{{name}}.up.sql`), which would mix \
             two layouts in one directory: convert the directory to migrator's layout first, or keep the history",
            loaded.layout.tool()
        ))
        .into());
    }
    let to = Version::try_from(args.to)?;
    let candidates: Vec<SquashCandidate<'_>> = loaded
        .migrations
        .iter()
        .map(|m| SquashCandidate {
            version: meta(m).version(),
            origin: m.migration.up_script().path(),
            is_squash: !m.migration.up_script().directives().squashes.is_empty(),
        })
        .collect();
    let versions = plan_squash(&candidates, to)?;
    let squashed: Vec<&LoadedMigration> =
        loaded.migrations.iter().filter(|m| versions.contains(&meta(m).version())).collect();
    let file = args.source.join(format!("{to}_{}.up.sql", args.name));
    let shown = format!("{}/{to}_{}.up.sql", display.trim_end_matches('/'), args.name);
    let built = match (args.dialect, args.scratch) {
        (Dialect::Sqlite, _) => sqlite(args, &squashed, &shown).await?,
        (dialect, None) => {
            return Err(Usage(format!(
                "squash builds the schema in two scratch areas: give --scratch-url, a {} server where it may create \
                 and drop them (never the application's database)",
                dialect.name()
            ))
            .into());
        }
        (_, Some(url)) => server(args, url, &squashed, &shown).await?,
    };
    let entries: Vec<String> = squashed.iter().map(|m| format!("{} {}", meta(m).version(), meta(m).name())).collect();
    if args.dry_run {
        print!("{}", built.text);
        eprintln!(
            "dry run: nothing was written; {shown} would stand for {} migration(s) ({}), with {} statement(s) and {} \
             row(s)",
            squashed.len(),
            entries.join(", "),
            built.dump.statements.len(),
            built.dump.rows
        );
        return Ok(());
    }
    if file.exists() {
        anyhow::bail!("{shown} exists already: choose another --name, or move that file away");
    }
    std::fs::write(&file, &built.text).map_err(|e| anyhow::anyhow!("cannot write {shown}: {e}"))?;
    let mut removed = Vec::new();
    for m in &squashed {
        for path in std::iter::once(&m.up_file).chain(m.down_file.as_ref()) {
            if *path == file {
                continue;
            }
            std::fs::remove_file(path).map_err(|e| {
                anyhow::anyhow!("wrote {shown}, but cannot remove {}: {e}; remove it by hand", path.display())
            })?;
            removed.push(path.clone());
        }
    }
    println!(
        "squashed {} migration(s) into {}: {} statement(s), {} row(s)",
        squashed.len(),
        clean_line(&shown),
        built.dump.statements.len(),
        built.dump.rows
    );
    println!("checked: a database built by it has the same schema and rows as one built by the migrations it replaces");
    println!("removed {} file(s) (version control keeps them): {}", removed.len(), names(&removed));
    println!(
        "databases that applied them keep their history: migrator reads their rows as this migration, checking each \
         checksum"
    );
    Ok(())
}

fn meta(m: &LoadedMigration) -> &migrator_core::MigrationMeta {
    Migration::<()>::meta(&m.migration)
}

fn names(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| clean_line(&p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the squash in area `a` and checks it in area `b` (both empty).
async fn build<D>(
    a: D,
    b: D,
    args: &SquashArgs<'_>,
    squashed: &[&LoadedMigration],
    shown: &str,
) -> anyhow::Result<Built>
where
    D: Driver + Dump + Inspect + Clone + 'static,
    D::Conn: 'static,
{
    let mut set = MigrationSet::<D::Conn>::new();
    for m in squashed {
        set = set.with(reloaded(m, args.dialect)?)?;
    }
    let to = Version::try_from(args.to)?;
    let original = Migrator::<D>::builder(a.clone(), set).ignore_foreign_history(true).build()?;
    original.run_with(Phases::All, Some(to.get())).await?;
    let dump = a.dump(&DumpOptions::default()).await?;
    let list: Vec<Squashed<'_>> = squashed
        .iter()
        .map(|m| Squashed { version: meta(m).version(), name: meta(m).name(), checksum: meta(m).checksum() })
        .collect();
    let text = squash_script(&list, &dump, args.dialect, shown)?;
    let script = Script::parse(ScriptKind::Up, shown.to_owned(), text.clone(), args.dialect)
        .map_err(|errors| migrator_core::Error::Load { errors })?;
    let squash = SqlMigration::new(to, args.name.to_owned(), script, None)?;
    let rebuilt = Migrator::<D>::builder(b.clone(), MigrationSet::<D::Conn>::new().with(squash)?)
        .ignore_foreign_history(true)
        .build()?;
    rebuilt.run_with(Phases::All, None).await?;
    let again = b.dump(&DumpOptions::default()).await?;
    let differences: Vec<String> =
        a.snapshot().await?.diff(&b.snapshot().await?).iter().map(ToString::to_string).collect();
    if !differences.is_empty() || again.statements != dump.statements {
        let first = dump.statements.iter().zip(&again.statements).position(|(x, y)| x != y);
        anyhow::bail!(
            "the squash does not rebuild what the migrations built, so nothing was written: {}{}. Keep the migrations, \
             or write the squash by hand",
            if differences.is_empty() {
                "the schemas agree but the dumps differ".to_owned()
            } else {
                differences.join("; ")
            },
            match first {
                Some(at) => format!(
                    " (first differing statement: {})",
                    clean_line(dump.statements.get(at).map(String::as_str).unwrap_or(""))
                ),
                None => String::new(),
            }
        );
    }
    Ok(Built { text, dump })
}

/// A loaded migration again, as a new value (a set takes its migrations by value).
fn reloaded(m: &LoadedMigration, dialect: Dialect) -> anyhow::Result<SqlMigration> {
    let parse = |script: &Script, kind| {
        Script::parse(kind, script.path().to_owned(), script.text().to_owned(), dialect)
            .map_err(|errors| migrator_core::Error::Load { errors })
    };
    let up = parse(m.migration.up_script(), ScriptKind::Up)?;
    let down = m.migration.down_script().map(|d| parse(d, ScriptKind::Down)).transpose()?;
    Ok(SqlMigration::new(meta(m).version(), meta(m).name().to_owned(), up, down)?)
}

/// Two temporary SQLite files.
async fn sqlite(args: &SquashArgs<'_>, squashed: &[&LoadedMigration], shown: &str) -> anyhow::Result<Built> {
    let dir = ScratchDir::new()?;
    let open = |file: &str| {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.0.join(file)).create_if_missing(true);
        sqlx::sqlite::SqlitePoolOptions::new().max_connections(2).connect_with(options)
    };
    let (a, b) = (open("a.db").await?, open("b.db").await?);
    let built =
        build(migrator_sqlite::SqliteDriver::from(&a), migrator_sqlite::SqliteDriver::from(&b), args, squashed, shown)
            .await;
    a.close().await;
    b.close().await;
    built
}

/// A temporary directory, removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> anyhow::Result<Self> {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let path = std::env::temp_dir().join(format!("migrator-squash-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path)
            .map_err(|e| anyhow::anyhow!("cannot create a scratch directory {}: {e}", path.display()))?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two scratch databases on the server `url` names (databases, not schemas: a PostgreSQL
/// extension lives in one schema of a database), dropped afterwards whatever happened.
async fn server(
    args: &SquashArgs<'_>,
    url: &DatabaseUrl,
    squashed: &[&LoadedMigration],
    shown: &str,
) -> anyhow::Result<Built> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_micros());
    let suffix = format!("{}_{}", std::process::id(), stamp.unwrap_or(0));
    let names = [format!("_migrator_squash_{suffix}_a"), format!("_migrator_squash_{suffix}_b")];
    let invalid =
        |e: sqlx::Error| Usage(format!("invalid --scratch-url {}: {}", url.redacted(), url.scrub(&e.to_string())));
    match (url.backend(), args.dialect) {
        (Backend::Postgres, Dialect::Postgres) => {
            let options = sqlx::postgres::PgConnectOptions::from_str(url.expose()).map_err(invalid)?;
            let open = |name: &str| {
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect_lazy_with(options.clone().database(name))
            };
            let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_lazy_with(options.clone());
            let sql = |verb: &str, name: &str| format!("{verb} \"{name}\"");
            scratch(url, &admin, &names, sql, open, async |a, b| {
                build(migrator_postgres::PgDriver::from(a), migrator_postgres::PgDriver::from(b), args, squashed, shown)
                    .await
            })
            .await
        }
        (Backend::MySql, Dialect::MySql) => {
            let options = sqlx::mysql::MySqlConnectOptions::from_str(url.expose()).map_err(invalid)?;
            let open = |name: &str| {
                sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(2)
                    .connect_lazy_with(options.clone().database(name))
            };
            let admin = sqlx::mysql::MySqlPoolOptions::new().max_connections(1).connect_lazy_with(options.clone());
            let sql = |verb: &str, name: &str| format!("{verb} `{name}`");
            scratch(url, &admin, &names, sql, open, async |a, b| {
                build(migrator_mysql::MySqlDriver::from(a), migrator_mysql::MySqlDriver::from(b), args, squashed, shown)
                    .await
            })
            .await
        }
        (backend, dialect) => Err(Usage(format!(
            "--scratch-url is a {} server, but the migrations are {}: give a server of their kind",
            backend.dialect().name(),
            dialect.name()
        ))
        .into()),
    }
}

/// Creates the databases `names`, runs `work` on a pool into each, and drops them again,
/// whatever `work` did.
async fn scratch<DB>(
    url: &DatabaseUrl,
    admin: &sqlx::Pool<DB>,
    names: &[String; 2],
    sql: impl Fn(&str, &str) -> String,
    open: impl Fn(&str) -> sqlx::Pool<DB>,
    work: impl AsyncFnOnce(&sqlx::Pool<DB>, &sqlx::Pool<DB>) -> anyhow::Result<Built>,
) -> anyhow::Result<Built>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut created = Vec::new();
    let mut result = Ok(());
    for name in names {
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql("CREATE DATABASE", name))).execute(admin).await {
            Ok(_) => created.push(name),
            Err(e) => {
                result = Err(anyhow::anyhow!(
                    "cannot create the scratch database {name} on {}: {}",
                    url.redacted(),
                    url.scrub(&e.to_string())
                ));
                break;
            }
        }
    }
    let built = match result {
        Ok(()) => {
            let [first, second] = names;
            let (a, b) = (open(first), open(second));
            let built = work(&a, &b).await;
            a.close().await;
            b.close().await;
            built
        }
        Err(e) => Err(e),
    };
    for name in created {
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql("DROP DATABASE IF EXISTS", name))).execute(admin).await {
            eprintln!(
                "warning: could not drop the scratch database {name}: {}; drop it by hand",
                url.scrub(&e.to_string())
            );
        }
    }
    admin.close().await;
    built
}
