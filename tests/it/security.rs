//! SQL cannot reach server files outside the data folder: each escape is
//! tried (absolute paths, `..`, a symbolic link, the model folder, COPY to a
//! file) and must fail with 42501 without reading or writing anything.

use std::path::Path;

use datafusion::arrow::record_batch::RecordBatch;
use ecomsql::{Engine, Output, SqlState};
use futures::TryStreamExt;

use crate::common::{TestServer, demo_data_dir};

/// A data folder with one real table, a symbolic link pointing out of it,
/// and a secret file beside it.
fn sandbox() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).expect("data folder");
    std::fs::copy(
        demo_data_dir().join("users.parquet"),
        data.join("users.parquet"),
    )
    .expect("copy users");
    std::fs::write(root.path().join("secret.csv"), "line\nTOP SECRET\n").expect("secret");
    std::os::unix::fs::symlink(root.path(), data.join("outside")).expect("symlink");
    std::fs::create_dir_all(root.path().join("out")).expect("out folder");
    root
}

async fn open(root: &Path) -> Engine {
    Engine::builder(root.join("data"))
        .build()
        .await
        .expect("engine builds")
}

/// Run a statement to the end: its rows, or its error.
async fn run(engine: &Engine, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    match engine.execute(sql).await? {
        Output::Rows(stream) => stream.try_collect().await,
        Output::Command(_) => Ok(Vec::new()),
    }
}

async fn refused(engine: &Engine, sql: &str) {
    let e = match engine.execute(sql).await {
        Ok(Output::Command(tag)) => panic!("{sql}: allowed ({tag})"),
        Ok(Output::Rows(stream)) => match stream.try_collect::<Vec<_>>().await {
            Ok(batches) => panic!("{sql}: allowed, returned {batches:?}"),
            Err(e) => e,
        },
        Err(e) => e,
    };
    let e = ecomsql::error::classify(&e);
    assert_eq!(e.state, SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {e:?}");
    assert!(!e.message.contains("TOP SECRET"), "{sql}: {e:?}");
}

#[tokio::test]
async fn files_outside_the_data_folder_cannot_be_read() {
    let root = sandbox();
    let engine = open(root.path()).await;
    let secret = root.path().join("secret.csv");
    let data = root.path().join("data");
    std::fs::write(data.join("_users"), "ops admin SCRAM-SHA-256$...").expect("users file");
    let escapes = [
        format!("{}/_users", data.display()),
        secret.display().to_string(),
        format!("{}/../secret.csv", data.display()),
        format!("{}/outside/secret.csv", data.display()),
        "/etc/passwd".to_string(),
        "/etc/".to_string(),
    ];
    for (i, location) in escapes.iter().enumerate() {
        // With a declared schema DataFusion does not look at the files when
        // the table is created, so the refusal comes at the first read.
        let create = format!(
            "CREATE EXTERNAL TABLE escape{i} (line VARCHAR) STORED AS CSV LOCATION '{location}' OPTIONS ('format.has_header' 'true')"
        );
        if engine.execute(&create).await.is_ok() {
            refused(&engine, &format!("SELECT * FROM escape{i}")).await;
        } else {
            refused(&engine, &create).await;
        }
        // Without one it has to read, and is refused at once.
        refused(
            &engine,
            &format!("CREATE EXTERNAL TABLE inferred{i} STORED AS CSV LOCATION '{location}'"),
        )
        .await;
    }
    // The real table still reads, and so does a new table inside the folder.
    let inside = format!(
        "CREATE EXTERNAL TABLE again STORED AS PARQUET LOCATION '{}/users.parquet'",
        data.display()
    );
    engine.execute(&inside).await.expect("inside the folder");
    let batches = run(&engine, "SELECT count(*) FROM again")
        .await
        .expect("rows");
    let count = datafusion::arrow::array::AsArray::as_primitive::<
        datafusion::arrow::datatypes::Int64Type,
    >(batches[0].column(0))
    .value(0);
    assert_eq!(count, 5000);
}

#[tokio::test]
async fn files_outside_the_data_folder_and_models_cannot_be_written() {
    let root = sandbox();
    let engine = open(root.path()).await;
    let data = root.path().join("data");
    let out = root.path().join("out");
    for (name, location) in [
        ("o1", format!("{}/", out.display())),
        ("o2", format!("{}/outside/out/", data.display())),
        ("o3", format!("{}/_models/", data.display())),
    ] {
        engine
            .execute(&format!(
                "CREATE EXTERNAL TABLE {name} (a BIGINT) STORED AS CSV LOCATION '{location}'"
            ))
            .await
            .expect("declared");
        refused(&engine, &format!("INSERT INTO {name} VALUES (1)")).await;
    }
    assert_eq!(
        std::fs::read_dir(&out).expect("out").count(),
        0,
        "a file was written"
    );
    assert!(
        !data.join("_models").exists(),
        "the model folder was written"
    );
    // COPY to a server file is refused by the statement itself.
    for sql in [
        format!("COPY (SELECT 1) TO '{}/x.csv'", out.display()),
        format!("COPY users TO '{}/x.parquet'", data.display()),
    ] {
        refused(&engine, &sql).await;
    }
}

#[tokio::test]
async fn refusals_reach_the_client_as_42501_and_the_session_goes_on() {
    let root = sandbox();
    let engine = std::sync::Arc::new(open(root.path()).await);
    let server = TestServer::start(engine).await;
    let client = server.connect().await;
    let sql = format!(
        "CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{}'",
        root.path().join("secret.csv").display()
    );
    // datafusion-postgres's Postgres dialect does not parse CREATE EXTERNAL
    // TABLE at all (42601); either way nothing is read.
    let e = client.simple_query(&sql).await.expect_err("refused");
    let state = e.as_db_error().map(|d| d.code().clone());
    assert!(
        state == Some(tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
            || state == Some(tokio_postgres::error::SqlState::SYNTAX_ERROR),
        "{e:?}"
    );
    assert!(!format!("{e:?}").contains("TOP SECRET"));
    let copy = format!(
        "COPY (SELECT 1) TO '{}'",
        root.path().join("x.csv").display()
    );
    let e = client.simple_query(&copy).await.expect_err("refused");
    assert_eq!(
        e.as_db_error().map(|d| d.code()),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{e:?}"
    );
    let row = client
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .expect("session works");
    assert_eq!(row.get::<_, i64>(0), 5000);
}

mod authentication {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use ecomsql::ServerOptions;
    use ecomsql::server::auth::{Role, Users, UsersSource};
    use ecomsql::server::{AuthConfig, AuthMethod};
    use tokio_postgres::error::SqlState;

    use crate::common::{TestServer, demo_data_dir, engine};

    struct Setup {
        server: TestServer,
        users_file: std::path::PathBuf,
        _dir: tempfile::TempDir,
    }

    async fn setup(method: AuthMethod, require_tls: bool) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let users_file = dir.path().join("users");
        let mut users = Users::default();
        users
            .set("analyst", "reader pw", Role::ReadOnly)
            .expect("user");
        users
            .set_with("ops", "admin pw", Role::Admin, true)
            .expect("user");
        users.save(&users_file).expect("save");
        let auth = AuthConfig {
            method,
            users: Some(Arc::new(
                UsersSource::open(users_file.clone()).expect("users"),
            )),
            require_tls,
            failure_delay: Duration::from_millis(300),
        };
        let models = dir.path().join("models");
        let server = TestServer::start_with(
            engine(&demo_data_dir(), &models).await,
            ServerOptions {
                auth,
                ..ServerOptions::default()
            },
        )
        .await;
        Setup {
            server,
            users_file,
            _dir: dir,
        }
    }

    async fn login(
        port: u16,
        user: &str,
        password: &str,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let config = format!(
            "host=127.0.0.1 port={port} user='{user}' password='{password}' dbname=shop connect_timeout=10"
        );
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }

    fn code(e: &tokio_postgres::Error) -> Option<&SqlState> {
        e.as_db_error().map(|d| d.code())
    }

    const CREATE: &str = "CREATE OR REPLACE MODEL m OPTIONS (model_type = 'logistic_regression', \
        label = 'purchased_next_7d') AS SELECT views_30d, purchased_next_7d FROM user_features";

    #[tokio::test]
    async fn scram_logs_in_and_roles_are_enforced() {
        let s = setup(AuthMethod::Scram, false).await;
        let reader = login(s.server.port, "analyst", "reader pw")
            .await
            .expect("scram login");
        let row = reader
            .query_one("SELECT count(*) FROM users", &[])
            .await
            .expect("read");
        assert_eq!(row.get::<_, i64>(0), 5000);
        for write in [
            CREATE,
            "DROP MODEL IF EXISTS m",
            "CREATE TABLE t AS SELECT 1",
        ] {
            let e = reader.simple_query(write).await.expect_err(write);
            assert_eq!(
                code(&e),
                Some(&SqlState::INSUFFICIENT_PRIVILEGE),
                "{write}: {e:?}"
            );
            // The extended protocol is checked too (at Parse).
            let e = reader.prepare(write).await.expect_err(write);
            assert_eq!(
                code(&e),
                Some(&SqlState::INSUFFICIENT_PRIVILEGE),
                "{write}: {e:?}"
            );
        }
        let admin = login(s.server.port, "ops", "admin pw")
            .await
            .expect("admin login");
        admin.simple_query(CREATE).await.expect("admin trains");
        // The reader uses the model the admin made.
        let row = reader
            .query_one("SELECT predict_purchase('m', 3.0)", &[])
            .await
            .expect("model use is a read");
        let p: f64 = row.get(0);
        assert!(p > 0.0 && p < 1.0, "{p}");
        let rows = reader.simple_query("SHOW MODELS").await.expect("show");
        assert_eq!(crate::common::simple_rows(&rows).len(), 1);
    }

    #[tokio::test]
    async fn wrong_passwords_and_unknown_users_look_the_same() {
        let s = setup(AuthMethod::Scram, false).await;
        let mut messages = Vec::new();
        for (user, password) in [("analyst", "nope"), ("nobody", "nope"), ("analyst", "")] {
            let started = Instant::now();
            let e = login(s.server.port, user, password)
                .await
                .expect_err("refused");
            assert!(started.elapsed() >= Duration::from_millis(300), "no delay");
            assert_eq!(code(&e), Some(&SqlState::INVALID_PASSWORD), "{e:?}");
            let db = e.as_db_error().expect("server error");
            assert_eq!(db.severity(), "FATAL");
            messages.push(db.message().replace(user, "USER"));
        }
        assert_eq!(messages[0], messages[1], "the message tells users apart");
        assert_eq!(
            messages[0],
            "password authentication failed for user \"USER\""
        );
        // The server keeps serving.
        login(s.server.port, "analyst", "reader pw")
            .await
            .expect("login after failures");
    }

    #[tokio::test]
    async fn cleartext_password_method_and_users_file_reload() {
        let s = setup(AuthMethod::Password, false).await;
        login(s.server.port, "ops", "admin pw")
            .await
            .expect("password login");
        let e = login(s.server.port, "newcomer", "fresh pw")
            .await
            .expect_err("unknown yet");
        assert_eq!(code(&e), Some(&SqlState::INVALID_PASSWORD));
        // `ecomsql user add` while the server runs: seen on the next login.
        let mut users = Users::load(&s.users_file).expect("load");
        users
            .set("newcomer", "fresh pw", Role::ReadOnly)
            .expect("user");
        // A different mtime even on coarse-grained file systems.
        tokio::time::sleep(Duration::from_millis(20)).await;
        users.save(&s.users_file).expect("save");
        login(s.server.port, "newcomer", "fresh pw")
            .await
            .expect("reloaded");
    }

    #[tokio::test]
    async fn md5_logs_in_only_users_with_an_md5_verifier() {
        let s = setup(AuthMethod::Md5, false).await;
        let admin = login(s.server.port, "ops", "admin pw")
            .await
            .expect("md5 login");
        admin.simple_query("SELECT 1").await.expect("query");
        for (user, password) in [("ops", "wrong"), ("analyst", "reader pw"), ("ghost", "x")] {
            let e = login(s.server.port, user, password).await.expect_err(user);
            assert_eq!(code(&e), Some(&SqlState::INVALID_PASSWORD), "{user}: {e:?}");
        }
    }

    #[tokio::test]
    async fn require_tls_refuses_plaintext() {
        let s = setup(AuthMethod::Scram, true).await;
        let e = login(s.server.port, "ops", "admin pw")
            .await
            .expect_err("refused");
        assert_eq!(
            code(&e),
            Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
            "{e:?}"
        );
    }

    #[test]
    fn bad_tls_files_fail_start_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").expect("write");
        for (cert, key) in [(&junk, &junk), (&dir.path().join("missing.pem"), &junk)] {
            assert!(ecomsql::server::tls::acceptor(cert, key).is_err());
        }
    }
}
