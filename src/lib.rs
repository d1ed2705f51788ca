//! rkeepalived: the daemon operators install. A supervisor process
//! (`supervisor`) re-execs itself once per role (`role`: VRRP, checker, BFD),
//! hands each child the validated configuration over a socketpair (`ipc`),
//! respawns crashed children, and maps keepalived's signals to reloads,
//! dumps and a clean stop. The engines live in the workspace crates
//! `rkeepalived-config`, `-vrrp`, `-check`, `-ipvs`.

pub mod bfd_child;
pub mod cli;
pub mod config_source;
pub mod config_stream;
pub mod daemon;
pub mod dump;
pub mod engines;
pub mod instance;
pub mod ipc;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod metrics_http;
pub mod namespace;
pub mod notify;
pub mod pidfile;
pub mod process_names;
pub mod process_options;
pub mod recovery;
pub mod recovery_ipvs;
pub mod reload_delta;
pub mod reload_identity;
pub mod reload_loader;
pub mod role;
pub mod runtime_paths;
pub mod snmp_agent;
pub mod startup_identity;
pub mod startup_scripts;
pub mod status;
pub mod supervisor;
#[allow(unsafe_code)] // the only unsafe: fork, setns, raw fds (SAFETY notes inside)
pub mod sys;
pub mod web_config;
