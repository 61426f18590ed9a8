//! Database URLs: which backend a scheme names, how a URL is shown without its password, and
//! how any text the CLI prints is cleaned of passwords.
//!
//! Masking follows the URL's structure (parsed with the `url` crate), never a text search for
//! the password: the password of the userinfo, the values of password-like query parameters
//! (`password=`, `pass=`, `pwd=`, `sslpassword=`, …) and, in a URL that does not parse, every
//! character between the scheme's `//` and the last `@` that follows a `:`. A URL with no such
//! structure is not shown at all. Driver messages that may quote parts of the URL are cleaned
//! twice over: URL-shaped tokens are masked by their structure, then the password's forms (as
//! typed, percent-decoded, percent-encoded) are replaced where they stand as whole words, and
//! only when the password is distinctive enough that replacing it garbles nothing (`pos` must
//! not turn `postgres` into `***tgres`).

use migrator_core::Dialect;
use url::Url;

use crate::usage::Usage;

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

    fn of_scheme(scheme: &str) -> Option<Backend> {
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            "sqlite" => Some(Backend::Sqlite),
            _ => None,
        }
    }
}

/// What to write instead of a secret.
const MASK: &str = "***";

/// The longest URL shown in a message (longer ones are cut, after masking).
const SHOWN_MAX: usize = 160;

/// How to write the characters that break a URL's structure when they are in a password.
const ENCODE_HINT: &str = "if the password has special characters, percent-encode them: `#` as %23, `@` as %40, `/` as \
                           %2F, `?` as %3F, `:` as %3A, `%` as %25";

const EXAMPLES: &str = "postgres://user@host/db, mysql://user@host/db or sqlite://app.db";

/// A database URL as given, with what it selects and how it may be shown.
#[derive(Clone)]
pub(crate) struct DatabaseUrl {
    backend: Backend,
    /// The URL sqlx reads (`mariadb://` becomes `mysql://`).
    raw: String,
    /// The URL with its secrets masked.
    shown: String,
    /// The secrets, to scrub from any text that might quote them.
    secrets: Secrets,
    /// Query parameters sqlx does not read (it ignores them).
    unknown: Vec<String>,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.shown)
    }
}

impl DatabaseUrl {
    /// Reads a URL; its scheme picks the backend. Errors never quote a secret of the URL.
    pub(crate) fn parse(text: &str) -> Result<DatabaseUrl, Usage> {
        let text = text.trim();
        if text.chars().any(char::is_control) {
            return Err(Usage(
                "the database URL contains a control character (a newline, tab, escape or NUL): it is not shown, in \
                 case it holds a password; remove the character (percent-encode it if it belongs to the password)"
                    .to_owned(),
            ));
        }
        let Some((scheme, rest)) = split_scheme(text) else {
            return Err(no_scheme());
        };
        let Some(backend) = Backend::of_scheme(scheme) else {
            if !rest.starts_with("//") {
                // `user:password@host/db` reads as the scheme `user`: say nothing of it.
                return Err(no_scheme());
            }
            return Err(Usage(format!(
                "unsupported database URL scheme `{}:` (the URL is not shown, in case it holds a password): use \
                 postgres://, postgresql://, mysql://, mariadb:// or sqlite://",
                shorten(scheme, 32)
            )));
        };
        let raw = match backend {
            Backend::MySql => format!("mysql:{rest}"),
            _ => text.to_owned(),
        };
        let mut secrets = Secrets::default();
        if let Some(password) = typed_password(text) {
            secrets.add(password);
        }
        if backend == Backend::Sqlite {
            let body = rest.strip_prefix("//").unwrap_or(rest);
            if body.split('/').next().is_some_and(|head| head.contains('@')) {
                return Err(Usage(format!(
                    "SQLite URLs take no user or password, but {} has a userinfo (`user:password@`): write \
                     sqlite://path/to/app.db (for a file whose name has an `@`, sqlite://./name)",
                    conservative(text)
                )));
            }
        }
        let url = match Url::parse(text) {
            Ok(url) => url,
            Err(_) if backend == Backend::Sqlite => {
                // sqlx reads SQLite URLs as paths, which need not parse as URLs (`sqlite:C:\db`):
                // only the query can hold a secret.
                secrets.add_query(text.split_once('?').map(|(_, query)| query).unwrap_or_default());
                let shown = shorten(&mask_query_text(text), SHOWN_MAX);
                return Ok(DatabaseUrl { backend, raw, shown, secrets, unknown: Vec::new() });
            }
            Err(e) => return Err(Usage(format!("invalid database URL {}: {e}; {ENCODE_HINT}", conservative(text)))),
        };
        if backend != Backend::Sqlite {
            if url.cannot_be_a_base() || !rest.starts_with("//") {
                return Err(Usage(format!(
                    "the database URL {scheme}:… has no `//` after its scheme (not shown, in case it holds a \
                     password): write {EXAMPLES}"
                )));
            }
            // A `#`, `/` or `?` left unencoded in a password ends the host early, and the rest of
            // the password lands in the fragment, path or query.
            let broken =
                url.fragment().is_some() || url.path().contains('@') || url.query().is_some_and(|q| q.contains('@'));
            if broken {
                return Err(Usage(format!(
                    "invalid database URL {}: it has a `#`, or an `@` after the host, so the password cannot be told \
                     from the host; {ENCODE_HINT}",
                    conservative(text)
                )));
            }
        }
        secrets.add_url(&url);
        let shown = shorten(&masked(&url), SHOWN_MAX);
        let unknown = unknown_parameters(backend, &url)?;
        Ok(DatabaseUrl { backend, raw, shown, secrets, unknown })
    }

    /// The query parameters sqlx does not read, as names fit to print.
    pub(crate) fn unknown_parameters(&self) -> &[String] {
        &self.unknown
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL to hand to sqlx; never print it.
    pub(crate) fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with its password and password-like parameters replaced by `***`.
    pub(crate) fn redacted(&self) -> &str {
        &self.shown
    }

    /// The secrets of this URL.
    pub(crate) fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// `text` cleaned of this URL's secrets (driver messages may quote parts of the URL).
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.secrets.scrub(text)
    }
}

/// The query parameters sqlx 0.9 reads from a PostgreSQL URL (besides `options[NAME]`).
const POSTGRES_PARAMETERS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// The query parameters sqlx 0.9 reads from a MySQL URL.
const MYSQL_PARAMETERS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslca",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "charset",
    "collation",
    "statement-cache-capacity",
    "socket",
    "timezone",
    "time-zone",
];

/// The parameters of `url` that sqlx would ignore without a word. One that looks like TLS
/// (`ssl_mode`, `tls`) is refused: ignoring it connects without TLS. The others are returned,
/// for a warning; a name that is not an identifier is not shown (it may be a stray secret).
fn unknown_parameters(backend: Backend, url: &Url) -> Result<Vec<String>, Usage> {
    let known = match backend {
        Backend::Postgres => POSTGRES_PARAMETERS,
        Backend::MySql => MYSQL_PARAMETERS,
        // sqlx refuses unknown SQLite parameters itself.
        Backend::Sqlite => return Ok(Vec::new()),
    };
    let mut unknown = Vec::new();
    for (key, _) in url.query_pairs() {
        if known.contains(&key.as_ref()) || (backend == Backend::Postgres && key.starts_with("options[")) {
            continue;
        }
        let printable =
            !key.is_empty() && key.len() <= 40 && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c));
        let name = if printable { format!("`{key}`") } else { "a parameter whose name is not shown".to_owned() };
        let lower = key.to_ascii_lowercase();
        if lower.contains("ssl") || lower.contains("tls") {
            let hint = match backend {
                Backend::MySql => "ssl-mode=REQUIRED (or VERIFY_CA, VERIFY_IDENTITY), ssl-ca, ssl-cert, ssl-key",
                _ => "sslmode=require (or verify-ca, verify-full), sslrootcert, sslcert, sslkey",
            };
            return Err(Usage(format!(
                "the database URL has {name}, which the driver does not know and would ignore, connecting without \
                 the TLS you asked for: write TLS options as {hint}"
            )));
        }
        if !unknown.contains(&name) {
            unknown.push(name);
        }
    }
    Ok(unknown)
}

fn no_scheme() -> Usage {
    Usage(format!(
        "the database URL does not start with a scheme such as postgres:// (it is not shown, in case it holds a \
         password): write {EXAMPLES}"
    ))
}

/// The backend the scheme of the `DATABASE_URL` environment variable names, if it is set and
/// names one (for `lint`, which has no URL option but takes its default dialect from there).
pub(crate) fn env_backend() -> Option<Backend> {
    let url = std::env::var_os("DATABASE_URL")?;
    let (scheme, _) = split_scheme(url.to_str()?.trim())?;
    Backend::of_scheme(scheme)
}

/// `scheme` and the rest, when `text` starts with a syntactically valid scheme and `:`.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some((scheme, rest))
}

/// At most `max` characters of `text`, cut with `…`.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}

/// Whether a query parameter (percent-decoded) names a secret.
fn sensitive_key(key: &str) -> bool {
    let key: String = key.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    ["password", "passwd", "secret", "token", "credential", "apikey", "privatekey"].iter().any(|k| key.contains(k))
        || ["pass", "pwd", "pw", "key", "auth"].contains(&key.as_str())
}

/// The password as typed in `text`: between the first `:` after `//` and the last `@`. The
/// last `@` at all, not the last before the path: an unencoded `/`, `?` or `#` in the password
/// would otherwise cut it short (a valid URL has no `@` after its host, and those without are
/// refused).
fn typed_password(text: &str) -> Option<&str> {
    let after = text.find("//").map(|i| i + 2)?;
    let rest = text.get(after..)?;
    let userinfo = rest.get(..rest.rfind('@')?)?;
    userinfo.split_once(':').map(|(_, password)| password)
}

/// `text` (a URL that may not parse) masked without trusting its structure: everything between
/// the scheme's `//` and the last `@` that follows a `:`, and the values of password-like query
/// parameters. Without a `//` and an `@`, only the scheme is shown.
fn conservative(text: &str) -> String {
    let Some((scheme, rest)) = split_scheme(text) else { return "(not shown)".to_owned() };
    let scheme = shorten(scheme, 32);
    let Some(body) = rest.strip_prefix("//") else { return format!("{scheme}:…") };
    let Some(at) = body.rfind('@') else {
        return format!("{scheme}://…");
    };
    let (userinfo, after) = (body.get(..at).unwrap_or_default(), body.get(at + 1..).unwrap_or_default());
    let userinfo = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:{MASK}"),
        None => userinfo.to_owned(),
    };
    shorten(&format!("{scheme}://{userinfo}@{}", mask_query_text(after)), SHOWN_MAX)
}

/// `text` with the values of password-like `key=value` query parameters masked (by text: for
/// URLs that do not parse).
fn mask_query_text(text: &str) -> String {
    let Some((base, query)) = text.split_once('?') else { return text.to_owned() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if sensitive_key(&percent_decode(key)) => format!("{key}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

/// The URL with its password and the values of password-like parameters masked.
fn masked(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some(MASK));
    }
    if let Some(query) = url.query() {
        let query = mask_query_text(&format!("?{query}"));
        url.set_query(Some(query.trim_start_matches('?')));
    }
    if url.fragment().is_some() {
        url.set_fragment(Some(MASK));
    }
    url.to_string()
}

/// Percent-decodes (`+` stays); invalid escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or_default());
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes every byte but ASCII letters, digits and `-._~`, with upper- or lowercase hex.
fn percent_encode(text: &str, upper: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if upper {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// The secrets of the URLs the CLI was given, in the forms text may quote them in.
#[derive(Clone, Default)]
pub(crate) struct Secrets {
    /// Every form (as typed, percent-decoded, percent-encoded, control characters escaped).
    forms: Vec<String>,
    /// Words of the URL that are not secret (user, host, database, scheme): a password equal
    /// to one of them cannot be replaced wherever it stands without garbling the text.
    public: Vec<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} forms)", self.forms.len())
    }
}

impl Secrets {
    /// Adds a secret in the forms it may be quoted in.
    pub(crate) fn add(&mut self, secret: &str) {
        let decoded = percent_decode(secret);
        let mut forms = vec![
            secret.to_owned(),
            decoded.clone(),
            percent_encode(&decoded, true),
            percent_encode(&decoded, false),
            crate::text::escape_controls(&decoded),
            decoded.escape_debug().to_string(),
        ];
        forms.retain(|form| !form.is_empty());
        for form in forms {
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        // Longest first, so that a form inside another is replaced after it.
        self.forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    }

    fn add_url(&mut self, url: &Url) {
        if let Some(password) = url.password() {
            self.add(password);
        }
        self.add_query(url.query().unwrap_or_default());
        for word in [url.scheme(), url.username(), url.host_str().unwrap_or_default(), url.path()] {
            let word = percent_decode(word).to_ascii_lowercase();
            if !word.is_empty() {
                self.public.push(word);
            }
        }
    }

    fn add_query(&mut self, query: &str) {
        for pair in query.split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && sensitive_key(&percent_decode(key))
            {
                self.add(&value.replace('+', " "));
                self.add(value);
            }
        }
    }

    /// Adds the secrets of `other`.
    pub(crate) fn extend(&mut self, other: &Secrets) {
        for form in &other.forms {
            if !self.forms.contains(form) {
                self.forms.push(form.clone());
            }
        }
        self.forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        self.public.extend(other.public.iter().cloned());
    }

    /// A password that can be replaced wherever it stands as a word: long enough, not only
    /// letters (a word of the message) or only digits (a number of the message), and not a
    /// public part of the URL.
    fn distinctive(&self, form: &str) -> bool {
        let chars = form.chars().count();
        let letters = form.chars().all(char::is_alphabetic);
        let digits = form.chars().all(|c| c.is_ascii_digit());
        let lower = form.to_lowercase();
        chars >= 6
            && !digits
            && (!letters || chars >= 16)
            && !self.public.iter().any(|word| word.contains(&lower))
            && !COMMON.iter().any(|word| word.contains(lower.as_str()))
    }

    /// `text` with URL-shaped tokens masked by their structure, password-like `key=value`
    /// pairs masked, and the distinctive forms of the secrets replaced where they stand as
    /// whole words (or, for a form that starts or ends with a symbol, wherever they stand).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = mask_text(text);
        for form in &self.forms {
            if self.distinctive(form) {
                text = replace_words(&text, form);
            } else {
                // Too short or too common to replace everywhere: only where a URL would have it.
                text = text.replace(&format!(":{form}@"), &format!(":{MASK}@"));
            }
        }
        text
    }
}

/// Words of the CLI's and the drivers' messages that a password may equal.
const COMMON: &[&str] = &[
    "postgresql",
    "postgres",
    "mariadb",
    "mysql",
    "sqlite",
    "localhost",
    "password",
    "migration",
    "migrations",
    "database",
    "connection",
    "sha256:",
    "utf8mb4",
    "sqlstate",
];

/// Replaces `needle` in `text` with the mask, except where it is part of a longer word (a
/// letter, digit or `_` right before or after an alphanumeric edge of `needle`).
fn replace_words(text: &str, needle: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let starts_word = needle.chars().next().is_some_and(word);
    let ends_word = needle.chars().next_back().is_some_and(word);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        let (before, after) = (rest.get(..at).unwrap_or_default(), rest.get(at + needle.len()..).unwrap_or_default());
        let inside = (starts_word && before.chars().next_back().is_some_and(word))
            || (ends_word && after.chars().next().is_some_and(word));
        out.push_str(before);
        out.push_str(if inside { needle } else { MASK });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` with every URL-shaped token (`scheme://…` up to a space, a quote or a control
/// character) masked by its structure, and password-like `key=value` pairs masked.
pub(crate) fn mask_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        let head = rest.get(..sep).unwrap_or_default();
        let start = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || "+-.".contains(*c))
            .last()
            .map_or(sep, |(i, _)| i);
        let tail = rest.get(sep..).unwrap_or_default();
        let len =
            tail.find(|c: char| c.is_whitespace() || c.is_control() || "'\"`<>".contains(c)).unwrap_or(tail.len());
        let token = rest.get(start..sep + len).unwrap_or_default();
        // Punctuation that ends a sentence is not part of the URL.
        let trimmed = token.trim_end_matches(['.', ',', ';', ':', ')', ']']);
        out.push_str(&mask_pairs(rest.get(..start).unwrap_or_default()));
        out.push_str(&mask_token(trimmed));
        out.push_str(token.get(trimmed.len()..).unwrap_or_default());
        rest = rest.get(sep + len..).unwrap_or_default();
    }
    out.push_str(&mask_pairs(rest));
    out
}

/// A URL-shaped token, masked; unchanged when it has nothing to mask.
fn mask_token(token: &str) -> String {
    if split_scheme(token).is_none() {
        // `://` without a scheme before it: mask any userinfo all the same.
        return match token.rfind('@') {
            Some(at) if token.get(..at).is_some_and(|u| u.contains(':')) => {
                format!("://{MASK}@{}", token.get(at + 1..).unwrap_or_default())
            }
            _ => token.to_owned(),
        };
    }
    match Url::parse(token) {
        Ok(url) => {
            let secret_password = url.password().is_some_and(|p| p != MASK);
            let secret_query = url.query().is_some_and(|q| {
                q.split('&').any(|pair| {
                    pair.split_once('=').is_some_and(|(k, v)| v != MASK && sensitive_key(&percent_decode(k)))
                })
            });
            let suspicious = url.fragment().is_some() || url.path().contains('@');
            if suspicious {
                conservative(token)
            } else if secret_password || secret_query {
                masked(&url)
            } else {
                token.to_owned()
            }
        }
        Err(_) if token.contains('@') => conservative(token),
        Err(_) => token.to_owned(),
    }
}

/// `text` (outside URLs) with the values of password-like `key=value` pairs masked.
fn mask_pairs(text: &str) -> String {
    if !text.contains('=') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let head = rest.get(..eq).unwrap_or_default();
        let key_start = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .last()
            .map_or(eq, |(i, _)| i);
        let key = head.get(key_start..).unwrap_or_default();
        let tail = rest.get(eq + 1..).unwrap_or_default();
        let len =
            tail.find(|c: char| c.is_whitespace() || c.is_control() || "&;,'\"`)".contains(c)).unwrap_or(tail.len());
        // Punctuation that ends a sentence is not part of the value.
        let value = tail.get(..len).unwrap_or_default().trim_end_matches(['.', ':', ']']);
        out.push_str(head);
        out.push('=');
        if !key.is_empty() && sensitive_key(key) && !value.is_empty() {
            out.push_str(MASK);
        } else {
            out.push_str(value);
        }
        rest = tail.get(value.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The secrets in command-line arguments that may hold a URL (for clap's errors, which quote
/// arguments): the password of anything URL-shaped or `user:password@host`-shaped.
pub(crate) fn argument_secrets<'a>(args: impl IntoIterator<Item = &'a str>) -> Secrets {
    let mut secrets = Secrets::default();
    for arg in args {
        let value = arg.split_once('=').filter(|(name, _)| name.starts_with("--")).map_or(arg, |(_, value)| value);
        if let Ok(url) = DatabaseUrl::parse(value) {
            secrets.extend(url.secrets());
        }
        if value.contains("://") {
            if let Some(password) = typed_password(value) {
                secrets.add(password);
            }
        } else if let Some(at) = value.rfind('@')
            && let Some((_, password)) = value.get(..at).and_then(|userinfo| userinfo.split_once(':'))
        {
            secrets.add(password);
        }
        if let Some((_, query)) = value.split_once('?') {
            secrets.add_query(query);
        }
    }
    secrets
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
            ("sqlite:relative/app.db", Backend::Sqlite),
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().backend(), backend, "{url}");
        }
        assert_eq!(DatabaseUrl::parse("mariadb://u@h/db").unwrap().expose(), "mysql://u@h/db");
        let e = DatabaseUrl::parse("oracle://scott:tiger@h/db").unwrap_err().to_string();
        assert!(e.contains("unsupported database URL scheme `oracle:`") && !e.contains("tiger"), "{e}");
        assert!(DatabaseUrl::parse("just-a-file.db").unwrap_err().to_string().contains("does not start with a scheme"));
    }

    #[test]
    fn urls_are_shown_without_their_secrets() {
        for (url, shown) in [
            ("postgres://app:s3cret@db:5432/prod", "postgres://app:***@db:5432/prod"),
            ("postgres://app:p@ss@db/prod", "postgres://app:***@db/prod"),
            ("postgres://app:p%23ss@db/prod", "postgres://app:***@db/prod"),
            (
                "postgres://app@db/prod?password=s3cret&sslmode=require",
                "postgres://app@db/prod?password=***&sslmode=require",
            ),
            (
                "postgres://app@db/prod?sslmode=require&PWD=x&Pass%77ord=y",
                "postgres://app@db/prod?sslmode=require&PWD=***&Pass%77ord=***",
            ),
            ("postgres://app@db/prod", "postgres://app@db/prod"),
            ("postgres://app:@db/prod", "postgres://app@db/prod"),
            ("postgres://app:pw@[::1]:5432/prod", "postgres://app:***@[::1]:5432/prod"),
            ("mysql://root:hunter2@127.0.0.1/app", "mysql://root:***@127.0.0.1/app"),
            ("sqlite://app.db", "sqlite://app.db"),
            ("sqlite::memory:", "sqlite::memory:"),
        ] {
            let parsed = DatabaseUrl::parse(url).unwrap();
            assert_eq!(parsed.redacted(), shown, "{url}");
            assert!(!format!("{parsed:?}").contains("s3cret"));
        }
    }

    #[test]
    fn broken_urls_are_masked_conservatively() {
        for (url, shown) in [
            ("postgres://u:s3cr#t@host/db", "postgres://u:***@host/db"),
            ("postgres://u:a/b@host/db", "postgres://u:***@host/db"),
            ("postgres://u:1/b@host/db", "postgres://u:***@host/db"),
            ("postgres://u:9?b@host/db?password=x", "postgres://u:***@host/db?password=***"),
            ("postgres://u:pw@[::1/db", "postgres://u:***@[::1/db"),
            ("postgres://u:pw@host:99999/db", "postgres://u:***@host:99999/db"),
            ("sqlite://u:pw@/tmp/x.db", "sqlite://u:***@/tmp/x.db"),
        ] {
            let e = DatabaseUrl::parse(url).unwrap_err().0;
            assert!(e.contains(shown), "{url}: {e}");
        }
        for url in ["u:pw@host/db", "postgresql:u:pw@host/db", "postgres:/u:pw@host/db", "://u:pw@host/db"] {
            let e = DatabaseUrl::parse(url).unwrap_err().0;
            assert!(!e.contains("pw"), "{url}: {e}");
        }
        let e = DatabaseUrl::parse("postgres://u:s3cr#t@host/db").unwrap_err().0;
        assert!(e.contains("`#` as %23") && e.contains("`@` as %40"), "{e}");
        assert_eq!(conservative("postgres://host:5432"), "postgres://…");
        assert_eq!(conservative("no scheme:pw@x"), "(not shown)");
    }

    #[test]
    fn scrubbing_masks_urls_by_structure_and_never_garbles() {
        let url = DatabaseUrl::parse("postgres://u:pos@127.0.0.1/db").unwrap();
        assert_eq!(url.scrub("cannot connect to postgres://u:pos@h/db"), "cannot connect to postgres://u:***@h/db");
        assert_eq!(url.scrub("postgres is down; pos=1"), "postgres is down; pos=1");
        let url = DatabaseUrl::parse("postgres://u:hunter2%2Fx@127.0.0.1/db").unwrap();
        assert_eq!(url.scrub("access denied with hunter2/x."), "access denied with ***.");
        assert_eq!(url.scrub("hunter2%2Fx and hunter2%2fx"), "*** and ***");
        assert_eq!(url.scrub("xhunter2/x is another word"), "xhunter2/x is another word");
        let url = DatabaseUrl::parse("postgres://postgres:postgres@127.0.0.1/postgres").unwrap();
        assert_eq!(url.scrub("database \"postgres\" does not exist"), "database \"postgres\" does not exist");
        assert_eq!(url.scrub("see postgres://postgres:postgres@h/postgres"), "see postgres://postgres:***@h/postgres");
        let url = DatabaseUrl::parse("postgres://u@h/db?password=s3cr3t-pw").unwrap();
        assert_eq!(url.scrub("bad options: password=s3cr3t-pw sslmode=x"), "bad options: password=*** sslmode=x");
        assert_eq!(url.scrub("value: s3cr3t-pw"), "value: ***");
    }

    #[test]
    fn text_is_masked_without_knowing_the_secret() {
        assert_eq!(
            mask_text("unexpected argument 'postgres://u:pw@h/db' found"),
            "unexpected argument 'postgres://u:***@h/db' found"
        );
        assert_eq!(mask_text("see mysql://r:x@h/db."), "see mysql://r:***@h/db.");
        assert_eq!(mask_text("--database-url=postgres://u:pw@h/db"), "--database-url=postgres://u:***@h/db");
        assert_eq!(mask_text("write postgres://user@host/db, mysql://"), "write postgres://user@host/db, mysql://");
        assert_eq!(mask_text("host=h password=x dbname=d"), "host=h password=*** dbname=d");
        assert_eq!(mask_text("in postgres://h/d?password=x: bad"), "in postgres://h/d?password=***: bad");
        assert_eq!(mask_text("with password=x. Then"), "with password=***. Then");
        assert_eq!(mask_text("postgres://u:s3cr#t@host/db"), "postgres://u:***@host/db");
        assert_eq!(mask_text("at ://u:pw@h"), "at ://***@h");
    }

    #[test]
    fn argument_secrets_cover_bare_userinfo() {
        let secrets = argument_secrets(["status", "u:pw5ecret@host/db", "--database-url=postgres://a:b5ecret@h/d"]);
        let text = secrets.scrub("unexpected argument 'u:pw5ecret@host/db' and b5ecret");
        assert!(!text.contains("5ecret"), "{text}");
        let secrets = argument_secrets(["postgres://postgres@127.0.0.1/db", "mysql://root@h/db"]);
        let text = "cannot connect to postgres://postgres@127.0.0.1/db or mysql://root@h/db";
        assert_eq!(secrets.scrub(text), text);
    }

    #[test]
    fn percent_coding() {
        assert_eq!(percent_decode("p%40ss%zz%2"), "p@ss%zz%2");
        assert_eq!(percent_encode("a/b c", true), "a%2Fb%20c");
        assert_eq!(percent_encode("é", false), "%c3%a9");
    }
}
