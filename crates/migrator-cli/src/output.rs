//! What the command prints: colors (only on a terminal, never with `NO_COLOR`), one line per
//! migration as it completes, a progress bar on stderr for long runs, timestamps.
//!
//! The per-migration lines come from the runner's own `tracing` events (the `migration` span
//! and the INFO event with `duration_ms` that ends each step), so the CLI shows progress
//! live while driving exactly the library's run, with no second run loop.

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::url::Secrets;

/// The secrets of the URLs this process was given, set once at startup.
static SECRETS: OnceLock<Secrets> = OnceLock::new();

/// Keeps `secrets` out of everything printed from now on (set once, at startup).
pub(crate) fn protect(secrets: Secrets) {
    let _ = SECRETS.set(secrets);
}

/// `text` with URL-shaped tokens masked and the secrets of the URLs this process was given
/// scrubbed.
pub(crate) fn scrub(text: &str) -> String {
    match SECRETS.get() {
        Some(secrets) => secrets.scrub(text),
        None => crate::url::mask_text(text),
    }
}

/// A message for the terminal: secrets scrubbed, control characters escaped, the newlines
/// that lay it out kept.
pub(crate) fn clean(text: &str) -> String {
    crate::text::escape_keeping_lines(&scrub(text))
}

/// A value on one line (a name, a note, a table cell): secrets scrubbed, every control
/// character escaped, newlines included.
pub(crate) fn clean_line(text: &str) -> String {
    crate::text::escape_controls(&scrub(text))
}

/// `value` as pretty JSON, with secrets scrubbed and the control characters serde leaves as
/// they are (DEL and the C1 range, such as U+009B, a one-character CSI for some terminals)
/// written as `\u` escapes. Those characters can only be inside JSON strings, where the
/// escape means the same character.
pub(crate) fn json(value: &impl serde::Serialize) -> serde_json::Result<String> {
    let text = scrub(&serde_json::to_string_pretty(value)?);
    if !text.chars().any(char::is_control) {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            // serde_json escapes C0 itself; a newline here is its layout.
            c if c.is_control() && u32::from(c) >= 0x7f => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Stderr for the `RUST_LOG` log, scrubbed: libraries log what they please (sqlx logs an
/// unknown URL parameter with its value).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // tracing-subscriber writes each event with one `write_all`: one call, one event.
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(clean(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}

/// Whether to color a stream: a terminal, and `NO_COLOR` unset or empty.
fn colors_for(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// ANSI colors, or none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    enabled: bool,
}

impl Style {
    pub(crate) fn stdout() -> Style {
        Style { enabled: colors_for(std::io::stdout().is_terminal()) }
    }

    pub(crate) fn stderr() -> Style {
        Style { enabled: colors_for(std::io::stderr().is_terminal()) }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.enabled { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    pub(crate) fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(crate) fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// Live progress of a run: the lines printed as migrations complete, and the bar.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
    style: Style,
    terminal: bool,
    /// Runs in scratch areas (`squash`) are not the run the user asked about: no lines.
    muted: std::sync::atomic::AtomicBool,
    /// The bar counts tenants ([`Progress::tenants`]).
    tenant_mode: std::sync::atomic::AtomicBool,
    /// Tenants failed so far.
    tenants_failed: std::sync::atomic::AtomicU64,
}

/// What a tenant event of the runner says, for the tenants bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TenantEvent {
    /// The all-tenants check found this many current.
    Current(u64),
    /// A tenant ran to the end.
    Done,
    /// A tenant failed.
    Failed,
}

/// The runner's tenant events: the all-tenants check (INFO with `current`), a tenant's end
/// (INFO with `tenant`) or failure (WARN with `tenant`).
fn tenant_event(level: Level, fields: &Fields) -> Option<TenantEvent> {
    match (level, fields.get("current"), fields.get("tenant")) {
        (Level::INFO, Some(current), _) => current.parse().ok().map(TenantEvent::Current),
        (Level::INFO, None, Some(_)) => Some(TenantEvent::Done),
        (Level::WARN, _, Some(_)) => Some(TenantEvent::Failed),
        _ => None,
    }
}

impl Progress {
    /// A hidden bar; [`Progress::reveal`] shows it (on a terminal) once the run is long.
    pub(crate) fn new() -> Arc<Progress> {
        Arc::new(Progress {
            bar: ProgressBar::hidden(),
            style: Style::stdout(),
            terminal: std::io::stderr().is_terminal(),
            muted: std::sync::atomic::AtomicBool::new(false),
            tenant_mode: std::sync::atomic::AtomicBool::new(false),
            tenants_failed: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Prints nothing more about migrations (their runs are in scratch areas).
    pub(crate) fn mute(&self) {
        self.muted.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_muted(&self) -> bool {
        self.muted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts `total` steps (when the plan is known).
    pub(crate) fn set_total(&self, total: u64) {
        self.bar.set_length(total);
        let style = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        self.bar.set_style(style);
    }

    /// Counts tenants instead of migrations: `total` tenants, done and failed, time left.
    pub(crate) fn tenants(&self, total: u64) {
        self.tenant_mode.store(true, std::sync::atomic::Ordering::Relaxed);
        self.bar.set_length(total);
        let style =
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} tenants{msg} ({elapsed}, {eta} left)")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        self.bar.set_style(style);
    }

    fn tenant_event(&self, event: TenantEvent) {
        match event {
            TenantEvent::Current(n) => self.bar.inc(n),
            TenantEvent::Done => self.bar.inc(1),
            TenantEvent::Failed => {
                let failed = self.tenants_failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                self.bar.set_message(format!(", {failed} failed"));
                self.bar.inc(1);
            }
        }
    }

    /// Shows the bar on stderr if it is a terminal.
    pub(crate) fn reveal(&self) {
        if self.terminal && !self.bar.is_finished() {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn started(&self, verb: &str, version: &str, name: &str) {
        self.bar.set_message(clean_line(&format!("{verb} {version} {name}")));
    }

    /// Prints a line on stdout without garbling the bar.
    pub(crate) fn println(&self, line: &str) {
        self.bar.suspend(|| println!("{line}"));
    }

    /// Prints a line on stderr without garbling the bar.
    pub(crate) fn eprintln(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// A backfill's batch committed: rows done of the total, the rate and the time left.
    fn backfill(&self, fields: &Fields) {
        let number = |name: &str| fields.get(name).and_then(|v| v.parse::<f64>().ok()).unwrap_or_default();
        let left = match fields.get("eta_ms").and_then(|v| v.parse::<u64>().ok()) {
            Some(ms) if ms > 0 => format!(", {} left", migrator_core::text::human(Duration::from_millis(ms))),
            _ => String::new(),
        };
        self.bar.set_message(clean_line(&format!(
            "backfill {}: {}/{} rows, {:.0} rows/s{left}",
            fields.get("backfill").unwrap_or_default(),
            number("rows_done"),
            number("rows_total"),
            number("rate"),
        )));
    }

    fn finished(&self, verb: &str, fields: &Fields) {
        let painted = if verb == "applied" { self.style.green(verb) } else { self.style.yellow(verb) };
        let ms = fields.get("duration_ms").and_then(|ms| ms.parse::<u64>().ok()).unwrap_or_default();
        let retries = match fields.get("lock_retries").and_then(|n| n.parse::<u32>().ok()).unwrap_or_default() {
            0 => String::new(),
            1 => " after 1 retry on lock timeout".to_owned(),
            n => format!(" after {n} retries on lock timeout"),
        };
        self.println(&format!(
            "{painted} {} {} ({}) in {}{retries}",
            clean_line(fields.get("version").unwrap_or_default()),
            clean_line(fields.get("name").unwrap_or_default()),
            clean_line(fields.get("phase").unwrap_or_default()),
            migrator_core::text::human(Duration::from_millis(ms))
        ));
        self.bar.inc(1);
    }
}

/// Field values of a span or event, as text.
#[derive(Debug, Default)]
struct Fields(Vec<(&'static str, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name(), format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name(), value.to_owned()));
    }
}

/// Turns the runner's events into progress: a migration starting (its span) and ending (its
/// INFO event with `duration_ms`), and waiting for another process's lock.
pub(crate) struct ProgressLayer {
    pub(crate) progress: Arc<Progress>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for ProgressLayer {
    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, _id: &tracing::span::Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() != "migration"
            || !attrs.metadata().target().starts_with("migrator")
            || self.progress.is_muted()
        {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let verb = if fields.get("direction") == Some("down") { "reverting" } else { "applying" };
        self.progress.started(verb, fields.get("version").unwrap_or_default(), fields.get("name").unwrap_or_default());
    }

    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !meta.target().starts_with("migrator") {
            return;
        }
        if self.progress.tenant_mode.load(std::sync::atomic::Ordering::Relaxed) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            if let Some(tenant) = tenant_event(*meta.level(), &fields) {
                self.progress.tenant_event(tenant);
            }
            return;
        }
        if self.progress.is_muted() {
            return;
        }
        let mut fields = Fields::default();
        if *meta.level() == Level::WARN {
            // A lock-timeout retry, an INVALID index dropped: said as they happen.
            event.record(&mut fields);
            if fields.get("attempt").is_some() || fields.get("index").is_some() {
                let message = fields.get("message").unwrap_or_default();
                self.progress.eprintln(&format!("{} {}", Style::stderr().yellow("warning:"), clean(message)));
            }
            return;
        }
        if *meta.level() != Level::INFO {
            return;
        }
        event.record(&mut fields);
        let message = fields.get("message").unwrap_or_default();
        if meta.target() == "migrator::backfill" {
            // A batch moves the bar's text; the start (resuming or not) and the end are said.
            if fields.get("batch_rows").is_some() {
                self.progress.backfill(&fields);
            } else {
                self.progress.eprintln(&clean(message));
            }
        } else if fields.get("duration_ms").is_some() && fields.get("version").is_some() {
            let verb = if message.starts_with("reverted") { "reverted" } else { "applied" };
            self.progress.finished(verb, &fields);
        } else if fields.get("lock").is_some() && message.starts_with("waiting") {
            self.progress.eprintln(&clean(&format!("{message}…")));
        }
    }
}

/// The civil date and time (UTC) of `t`: year, month, day, hour, minute, second, millisecond.
fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let small = |v: i64| u32::try_from(v).unwrap_or_default();
    (
        year,
        small(month),
        small(day),
        small(of_day / 3_600),
        small(of_day % 3_600 / 60),
        small(of_day % 60),
        since.subsec_millis(),
    )
}

/// RFC 3339 in UTC with milliseconds: `2026-11-20T09:30:00.123Z`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, ms) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// For tables: `2026-11-20 09:30:00` (UTC).
pub(crate) fn short_time(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, _) = civil(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// A timestamp version: `20261120093000` (UTC).
pub(crate) fn version_stamp(t: SystemTime) -> i64 {
    let (y, mo, d, h, mi, s, _) = civil(t);
    let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}");
    text.parse().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_events_move_the_tenants_bar() {
        let fields =
            |pairs: &[(&'static str, &str)]| Fields(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect());
        // (level, fields) -> event
        let cases: [(Level, Fields, Option<TenantEvent>); 6] = [
            (Level::INFO, fields(&[("current", "998"), ("tenants", "1000")]), Some(TenantEvent::Current(998))),
            (Level::INFO, fields(&[("tenant", "t1"), ("applied", "20")]), Some(TenantEvent::Done)),
            (Level::WARN, fields(&[("tenant", "t7"), ("error", "boom")]), Some(TenantEvent::Failed)),
            // A migration of a tenant, a lock-timeout retry: not a tenant's end.
            (Level::INFO, fields(&[("version", "3"), ("duration_ms", "4")]), None),
            (Level::WARN, fields(&[("attempt", "2")]), None),
            (Level::DEBUG, fields(&[("tenant", "t1")]), None),
        ];
        for (level, fields, event) in cases {
            assert_eq!(tenant_event(level, &fields), event, "{level} {fields:?}");
        }
    }

    #[test]
    fn times_are_utc_calendar_dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_253_400_123);
        assert_eq!(rfc3339(t), "2026-11-21T09:30:00.123Z");
        assert_eq!(short_time(t), "2026-11-21 09:30:00");
        assert_eq!(version_stamp(t), 20261121093000);
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(short_time(leap), "2000-02-29 00:00:00");
    }

    #[test]
    fn no_color_without_a_terminal() {
        assert!(!colors_for(false));
        assert_eq!(Style { enabled: false }.green("applied"), "applied");
        assert_eq!(Style { enabled: true }.green("applied"), "\x1b[32mapplied\x1b[0m");
    }
}
