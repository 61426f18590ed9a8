//! The settings files of other layouts: diesel's `metadata.toml` and Flyway's script
//! configuration (`V1__x.sql.conf`). migrator reads from them whether a migration runs in a
//! transaction.

/// A problem with a settings file: its line and message.
pub(crate) type ConfigProblem = (usize, String);

/// The lines of `text`, numbered from 1, without terminators (a leading BOM dropped).
fn numbered(text: &str) -> impl Iterator<Item = (usize, &str)> {
    crate::directive::lines(text).enumerate().map(|(at, line)| (at + 1, line))
}

/// `run_in_transaction` in diesel's `metadata.toml` (true when absent). Only the top-level
/// key is read, as diesel reads it; its other keys are custom fields and are not used.
pub(crate) fn diesel_run_in_transaction(text: &str) -> Result<bool, ConfigProblem> {
    let mut found: Option<(usize, bool)> = None;
    for (number, line) in numbered(text) {
        let line = line.trim();
        if line.starts_with('[') {
            // A table: its keys are not the top level's.
            break;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if key.trim().trim_matches('"') != "run_in_transaction" {
            continue;
        }
        let value = value.split('#').next().unwrap_or_default().trim();
        let value = match value {
            "true" => true,
            "false" => false,
            other => {
                let shown: String = other.chars().take(40).map(crate::split::printable).collect();
                return Err((number, format!("`run_in_transaction` is `true` or `false`, not `{shown}`")));
            }
        };
        if let Some((first, _)) = found {
            return Err((number, format!("`run_in_transaction` is given twice (first on line {first}): keep one")));
        }
        found = Some((number, value));
    }
    Ok(found.is_none_or(|(_, value)| value))
}

/// `executeInTransaction` in a Flyway script configuration (true when absent). `encoding` may
/// name UTF-8 (migrator reads every file as UTF-8); any other key is refused, since migrator
/// would not do what it says.
pub(crate) fn flyway_execute_in_transaction(text: &str) -> Result<bool, ConfigProblem> {
    let mut transaction = true;
    for (number, line) in numbered(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let at = line.find(['=', ':']).unwrap_or(line.len());
        let (key, value) = (line.get(..at).unwrap_or(line).trim(), line.get(at + 1..).unwrap_or("").trim());
        let shown = |text: &str| -> String { text.chars().take(40).map(crate::split::printable).collect() };
        match key {
            "executeInTransaction" => {
                transaction = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err((
                            number,
                            format!("`executeInTransaction` is `true` or `false`, not `{}`", shown(value)),
                        ));
                    }
                }
            }
            "encoding" if matches!(value.to_ascii_lowercase().as_str(), "utf-8" | "utf8") => {}
            "encoding" => {
                return Err((
                    number,
                    format!(
                        "migrator reads migrations as UTF-8, not `{}`: save the script as UTF-8 and remove this line",
                        shown(value)
                    ),
                ));
            }
            other => {
                return Err((
                    number,
                    format!(
                        "`{}` is not read by migrator, which would run the script regardless: it reads \
                         `executeInTransaction` and `encoding` only",
                        shown(other)
                    ),
                ));
            }
        }
    }
    Ok(transaction)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn diesel_metadata() {
        assert!(diesel_run_in_transaction("").unwrap());
        assert!(!diesel_run_in_transaction("# note\nrun_in_transaction = false # for CONCURRENTLY\n").unwrap());
        assert!(
            diesel_run_in_transaction("run_in_transaction = true\n[custom]\nrun_in_transaction = false\n").unwrap()
        );
        assert!(diesel_run_in_transaction("owner = \"team\"\n").unwrap());
        assert_eq!(diesel_run_in_transaction("\nrun_in_transaction = no\n").unwrap_err().0, 2);
        assert!(
            diesel_run_in_transaction("run_in_transaction=false\nrun_in_transaction=false\n")
                .unwrap_err()
                .1
                .contains("twice")
        );
    }

    #[test]
    fn flyway_script_configuration() {
        assert!(!flyway_execute_in_transaction("executeInTransaction=false\n").unwrap());
        assert!(flyway_execute_in_transaction("# c\nencoding = UTF-8\nexecuteInTransaction: TRUE\n").unwrap());
        assert!(flyway_execute_in_transaction("encoding=ISO-8859-1\n").unwrap_err().1.contains("UTF-8"));
        assert!(
            flyway_execute_in_transaction("shouldExecute=false\n")
                .unwrap_err()
                .1
                .contains("`shouldExecute` is not read")
        );
        assert_eq!(flyway_execute_in_transaction("\nexecuteInTransaction=maybe\n").unwrap_err().0, 2);
    }
}
