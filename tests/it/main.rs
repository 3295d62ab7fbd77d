//! ecomsql's integration tests: one test binary (one link of DataFusion),
//! one module per area.

mod common;

mod cli;
mod demo_data;
mod faults;
mod forecast;
mod fuzz;
mod limits;
mod load;
mod models;
mod recommend;
mod registration;
mod security;
mod sentiment;
mod server;
mod slt;
mod sql_files;
mod wire;
