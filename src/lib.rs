//! ecomsql: SQL analytics and machine learning for e-commerce data, served
//! over the Postgres wire protocol.
//!
//! The public API is small: build an [`Engine`] over a data folder, run
//! statements with [`Engine::execute`], or serve it with [`Server`].

pub mod catalog;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod error;
pub mod functions;
mod linalg;
pub mod models;
mod optimizer;
pub mod sentiment;
pub mod server;
pub mod statements;

pub use engine::{Engine, EngineBuilder, Notices, Output};
pub use error::{SqlError, SqlState};
pub use server::{Server, ServerOptions};
