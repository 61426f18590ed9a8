//! Adopting other tools' histories (`tests/src/adopt.rs`) on every backend: sqlx, diesel,
//! refinery, golang-migrate, goose and Flyway all write their history on PostgreSQL,
//! MySQL/MariaDB and SQLite, so each tool runs on each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod postgres {
    migrator_conformance::adopt_tests!(migrator_conformance::postgres::Pg:
        adopt_from_sqlx,
        adopt_from_refinery,
        adopt_from_diesel,
        adopt_from_golang_migrate,
        adopt_from_goose,
        adopt_from_flyway,
        adoptions_race_each_other_and_up,
        adopting_at_startup,
        a_first_run_beside_another_history_is_refused,
    );
}

mod mysql {
    migrator_conformance::adopt_tests!(migrator_conformance::mysql::My:
        adopt_from_sqlx,
        adopt_from_refinery,
        adopt_from_diesel,
        adopt_from_golang_migrate,
        adopt_from_goose,
        adopt_from_flyway,
        adoptions_race_each_other_and_up,
        adopting_at_startup,
        a_first_run_beside_another_history_is_refused,
    );
}

mod sqlite {
    migrator_conformance::adopt_tests!(migrator_conformance::sqlite::Lite:
        adopt_from_sqlx,
        adopt_from_refinery,
        adopt_from_diesel,
        adopt_from_golang_migrate,
        adopt_from_goose,
        adopt_from_flyway,
        adoptions_race_each_other_and_up,
        adopting_at_startup,
        a_first_run_beside_another_history_is_refused,
    );
}
