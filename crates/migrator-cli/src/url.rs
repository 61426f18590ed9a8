//! Database URLs: which backend a scheme names, and how a URL is shown without its password.

use migrator_core::Dialect;

use crate::Usage;

/// The database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Postgres,
    MySql,
    Sqlite,
}

impl Backend {
    pub(crate) fn dialect(self) -> Dialect {
        match self {
            Backend::Postgres => Dialect::Postgres,
            Backend::MySql => Dialect::MySql,
            Backend::Sqlite => Dialect::Sqlite,
        }
    }
}

/// A database URL as given, with what it selects and how it may be shown.
#[derive(Clone)]
pub(crate) struct DatabaseUrl {
    backend: Backend,
    /// The URL sqlx reads (`mariadb://` becomes `mysql://`).
    raw: String,
    /// The password, to scrub from any text that might quote it.
    secret: Option<String>,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl DatabaseUrl {
    /// Reads a URL; its scheme picks the backend.
    pub(crate) fn parse(url: &str) -> Result<DatabaseUrl, Usage> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(Usage(format!(
                "`{}` is not a database URL: write postgres://user@host/db, mysql://user@host/db or sqlite://file.db",
                redact(url)
            )));
        };
        let backend = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Backend::Postgres,
            "mysql" | "mariadb" => Backend::MySql,
            "sqlite" => Backend::Sqlite,
            other => {
                return Err(Usage(format!(
                    "unsupported database URL scheme `{other}:` in {}: use postgres://, postgresql://, mysql://, \
                     mariadb:// or sqlite://",
                    redact(url)
                )));
            }
        };
        let raw = match backend {
            Backend::MySql => format!("mysql:{rest}"),
            _ => url.to_owned(),
        };
        Ok(DatabaseUrl { backend, secret: password(&raw), raw })
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL to hand to sqlx; never print it.
    pub(crate) fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with its password replaced by `***`.
    pub(crate) fn redacted(&self) -> String {
        redact(&self.raw)
    }

    /// `text` with any occurrence of the URL's password replaced by `***` (driver messages may
    /// quote parts of the URL).
    pub(crate) fn scrub(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) if !secret.is_empty() => text.replace(secret.as_str(), "***"),
            _ => text.to_owned(),
        }
    }
}

/// The backend the scheme of the `DATABASE_URL` environment variable names, if it is set and
/// names one (for `lint`, which has no URL option but takes its default dialect from there).
pub(crate) fn env_backend() -> Option<Backend> {
    let url = std::env::var_os("DATABASE_URL")?;
    let url = url.to_str()?.trim();
    DatabaseUrl::parse(url).ok().map(|url| url.backend())
}

/// The authority of a URL (`user:password@host:port`), as a byte range.
fn authority(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let len = url.get(start..)?.find(['/', '?', '#']).unwrap_or(url.len() - start);
    Some(start..start + len)
}

/// The password of a URL: in the authority (`user:password@`) or as a `password=` parameter.
fn password(url: &str) -> Option<String> {
    if let Some(range) = authority(url)
        && let Some(userinfo) = url.get(range).and_then(|a| a.rsplit_once('@')).map(|(userinfo, _)| userinfo)
        && let Some((_, password)) = userinfo.split_once(':')
    {
        return Some(password.to_owned());
    }
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.eq_ignore_ascii_case("password").then(|| value.to_owned())
    })
}

/// `url` with the password of its authority and any `password=` parameter replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(range) = authority(url)
        && let Some(authority) = url.get(range.clone())
        && let Some((userinfo, host)) = authority.rsplit_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        out =
            format!("{}{user}:***@{host}{}", url.get(..range.start).unwrap_or(""), url.get(range.end..).unwrap_or(""));
    }
    if let Some((base, query)) = out.clone().split_once('?') {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}?{}", pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_pick_the_backend() {
        for (url, backend) in [
            ("postgres://u@h/db", Backend::Postgres),
            ("postgresql://u@h/db", Backend::Postgres),
            ("POSTGRES://u@h/db", Backend::Postgres),
            ("mysql://u@h/db", Backend::MySql),
            ("mariadb://u@h/db", Backend::MySql),
            ("sqlite://app.db", Backend::Sqlite),
            ("sqlite::memory:", Backend::Sqlite),
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().backend(), backend, "{url}");
        }
        assert_eq!(DatabaseUrl::parse("mariadb://u@h/db").unwrap().expose(), "mysql://u@h/db");
        let e = DatabaseUrl::parse("oracle://scott:tiger@h/db").unwrap_err().to_string();
        assert!(e.contains("unsupported database URL scheme `oracle:`") && !e.contains("tiger"), "{e}");
        assert!(DatabaseUrl::parse("just-a-file.db").unwrap_err().to_string().contains("not a database URL"));
    }

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/prod"), "postgres://app:***@db:5432/prod");
        assert_eq!(redact("postgres://app:p@ss@db/prod"), "postgres://app:***@db/prod");
        assert_eq!(
            redact("postgres://app@db/prod?password=s3cret&sslmode=require"),
            "postgres://app@db/prod?password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://app@db/prod"), "postgres://app@db/prod");
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        let url = DatabaseUrl::parse("mysql://root:hunter2@127.0.0.1/app").unwrap();
        assert_eq!(url.redacted(), "mysql://root:***@127.0.0.1/app");
        assert_eq!(url.scrub("access denied for root:hunter2"), "access denied for root:***");
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}
