//! The stale-binary check of debug builds: the embedded migrations against their directory.

use tracing::warn;

use crate::driver::Driver;
use crate::migration::{Body, Migration};
use crate::plan;
use crate::plan::stale::Fingerprint;

use super::migrator::Migrator;

impl<D: Driver> Migrator<D>
where
    D::Conn: 'static,
{
    /// The stale-binary warning, when the set was embedded in a debug build and its source
    /// directory now holds other migrations; found once per migrator and logged then.
    pub(super) fn stale_warning(&self) -> Option<plan::Warning> {
        let stale = self.stale.get_or_init(|| {
            let (dir, written, dialect) = self.set.embedded_from()?;
            let path = std::path::Path::new(dir);
            // A binary run away from its sources (copied elsewhere) has nothing to compare.
            if !path.is_dir() {
                return None;
            }
            let scan = crate::source::scan::scan_layout(path, written, dialect, self.set.embedded_layout());
            let (loaded, problems) = (scan.migrations, scan.problems);
            // The path below the directory: diesel's scripts are all `up.sql`.
            let prefix = format!("{}/", written.trim_end_matches('/'));
            let file = |path: &str| {
                path.strip_prefix(&prefix).unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path)).to_owned()
            };
            let embedded: Vec<Fingerprint> = self
                .set
                .iter()
                .filter_map(|m| match m.up().body {
                    Body::Sql(script) => Some(Fingerprint {
                        version: m.meta().version(),
                        file: file(script.path()),
                        checksum: m.meta().checksum().as_str().to_owned(),
                        down_checksum: m.meta().down_checksum().map(|c| c.as_str().to_owned()),
                    }),
                    Body::Rust(_) => None,
                })
                .collect();
            let on_disk: Vec<Fingerprint> = loaded
                .iter()
                .map(|l| {
                    let meta = Migration::<D::Conn>::meta(&l.migration);
                    Fingerprint {
                        version: meta.version(),
                        file: file(l.migration.up_script().path()),
                        checksum: meta.checksum().as_str().to_owned(),
                        down_checksum: meta.down_checksum().map(|c| c.as_str().to_owned()),
                    }
                })
                .collect();
            let unloadable: Vec<String> = problems.iter().map(|p| file(&p.error.path)).collect();
            let stale = plan::stale::compare(written, &embedded, &on_disk, &unloadable);
            if let Some(stale) = &stale {
                warn!("{stale}");
            }
            stale
        });
        stale.clone().map(plan::Warning::StaleBinary)
    }
}
