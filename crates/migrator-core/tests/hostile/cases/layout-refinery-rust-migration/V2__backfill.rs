fn migration() -> String { String::new() }
