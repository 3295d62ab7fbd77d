//! ecomsql's integration tests: one test binary (one link of DataFusion),
//! one module per area.

mod common;

mod cli;
mod demo_data;
mod forecast;
mod models;
mod recommend;
mod registration;
mod sentiment;
mod server;
mod slt;
mod sql_files;
mod wire;
