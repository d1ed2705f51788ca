//! The daemon's view of the configuration crate: loading with diagnostics,
//! the dump for `-d`, and the few global_defs the supervisor itself uses.
//! Kept in one place so the rest of the daemon does not depend on the
//! model's exact shape.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rkeepalived_config::{Config, LoadOptions};

use crate::cli::Role;

/// A validated configuration plus the warnings found while loading it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// Rendered `file:line:col: message` lines.
    pub warnings: Vec<String>,
    /// How many of `warnings` are errors for `-t` (keepalived's
    /// `report_config_error()` with a fix-up: the daemon runs without the
    /// offending script, `-t` fails). Today: refused scripts.
    pub test_errors: usize,
    /// Keywords parsed but not acted on (`Loaded::not_acted_on`).
    pub not_acted_on: Vec<String>,
    /// What the next reload can skip re-parsing (only when asked for:
    /// [`load_config_reusing`]; see rkeepalived_config::reparse).
    pub reparse: Option<std::sync::Arc<rkeepalived_config::ReparseCache>>,
    /// How much of this load came from the previous one's cache.
    pub reparse_stats: rkeepalived_config::ReparseStats,
}

/// Loading failed; every diagnostic is rendered `file:line:col: message`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .diagnostics.join("\n"))]
pub struct ConfigLoadError {
    pub diagnostics: Vec<String>,
}

/// The processes `-P` / `-C` run, whose blocks are read (keepalived's
/// processes skip the other one's blocks unread); both for `-t`.
pub fn processes(cli: &crate::cli::Cli) -> rkeepalived_config::Processes {
    if cli.config_test.is_some() || cli.config_test_strict || cli.all {
        return rkeepalived_config::Processes::ALL;
    }
    rkeepalived_config::Processes {
        vrrp: !cli.check_only || cli.vrrp_only,
        checker: !cli.vrrp_only || cli.check_only,
    }
}

/// `-e`/`--all-config`, for every load of this process (start, `-t`,
/// reloads), as keepalived's `include_check_set()` is.
static ALL_CONFIG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_all_config(on: bool) {
    ALL_CONFIG.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a failed load failed only because `-e` refused a skipped
/// include (keepalived then exits with KEEPALIVED_EXIT_NO_CONFIG, 6).
pub fn is_all_config_failure(e: &ConfigLoadError) -> bool {
    !e.diagnostics.is_empty()
        && e.diagnostics
            .iter()
            .all(|d| d.ends_with(rkeepalived_config::ALL_CONFIG_SUFFIX))
}

pub fn load_config(
    path: &Path,
    config_id: Option<&str>,
    procs: rkeepalived_config::Processes,
) -> Result<LoadedConfig, ConfigLoadError> {
    let opts = LoadOptions {
        config_id: config_id.map(str::to_owned),
    };
    let all_config = ALL_CONFIG.load(std::sync::atomic::Ordering::Relaxed);
    let loaded = rkeepalived_config::load_checked(path, &opts, procs, all_config);
    finish_load(loaded, None, Default::default())
}

/// [`load_config`] for the daemon's start and reloads: keeps a re-parse
/// cache in the result, and uses `old` (the running configuration's) to
/// skip the `virtual_server` blocks that did not change.
pub fn load_config_reusing(
    path: &Path,
    config_id: Option<&str>,
    procs: rkeepalived_config::Processes,
    old: Option<&rkeepalived_config::ReparseCache>,
) -> Result<LoadedConfig, ConfigLoadError> {
    let opts = LoadOptions {
        config_id: config_id.map(str::to_owned),
    };
    let all_config = ALL_CONFIG.load(std::sync::atomic::Ordering::Relaxed);
    let started = std::time::Instant::now();
    let (loaded, cache, stats) =
        rkeepalived_config::load_reusing(path, &opts, procs, all_config, old);
    let read = started.elapsed();
    let out = finish_load(loaded, cache.map(std::sync::Arc::new), stats);
    // The phases of `reload: parsed in` (issue #17 item 1).
    tracing::debug!(
        "config: read, parsed and validated in {:.1} ms, scripts checked in {:.1} ms",
        read.as_secs_f64() * 1000.0,
        (started.elapsed() - read).as_secs_f64() * 1000.0
    );
    out
}

fn finish_load(
    loaded: Result<rkeepalived_config::Loaded, rkeepalived_config::ConfigError>,
    reparse: Option<std::sync::Arc<rkeepalived_config::ReparseCache>>,
    reparse_stats: rkeepalived_config::ReparseStats,
) -> Result<LoadedConfig, ConfigLoadError> {
    match loaded {
        Ok(loaded) => {
            let mut config = loaded.config;
            let mut warnings: Vec<String> = loaded
                .warnings
                .iter()
                .map(|w| {
                    format!(
                        "{}:{}:{}: warning: {}",
                        w.file.display(),
                        w.line,
                        w.col,
                        w.message
                    )
                })
                .collect();
            // Every script the children will run, checked once here (start,
            // -t, reload): refused ones are removed before the handoff.
            // A reload's unchanged virtual servers known to have no script
            // are not walked again (the re-parse cache knows).
            let findings = match reparse.as_deref() {
                Some(cache) => {
                    rkeepalived_script::config::secure_config_skipping(&mut config, &|vs| {
                        cache.script_free(vs)
                    })
                }
                None => rkeepalived_script::config::secure_config(&mut config),
            };
            let test_errors = findings
                .iter()
                .filter(|f| f.severity == rkeepalived_script::config::Severity::Error)
                .count();
            warnings.extend(findings.iter().map(|f| f.to_string()));
            Ok(LoadedConfig {
                config,
                warnings,
                test_errors,
                not_acted_on: loaded.not_acted_on,
                reparse,
                reparse_stats,
            })
        }
        Err(e) => Err(ConfigLoadError {
            diagnostics: e.diagnostics().iter().map(|d| d.to_string()).collect(),
        }),
    }
}

/// `-d/--dump-conf` output.
/// Canonical keepalived.conf text (parses back to the same `Config`).
pub fn dump_config(cfg: &Config) -> String {
    rkeepalived_config::print(cfg)
}

/// Whether the configuration gives `role` anything to do (keepalived only
/// starts the children that have work, unless `--all`).
pub fn role_has_work(cfg: &Config, role: Role) -> bool {
    match role {
        // keepalived's VRRP process also owns static addresses/routes/rules.
        Role::Vrrp => {
            !cfg.vrrp_instances.is_empty()
                || !cfg.static_ipaddresses.is_empty()
                || !cfg.static_routes.is_empty()
                || !cfg.static_rules.is_empty()
        }
        Role::Checker => !cfg.virtual_servers.is_empty(),
        // core/main.c running_bfd(): `have_bfd_config`.
        Role::Bfd => !cfg.bfd_instances.is_empty(),
    }
}

/// global_defs `metrics_listen ADDR:PORT`.
pub fn metrics_listen(cfg: &Config) -> Option<SocketAddr> {
    cfg.global_defs.metrics_listen
}

/// global_defs `metrics_listen`, `metrics_serve_status`, `metrics_web_config`.
pub fn metrics_endpoint(cfg: &Config) -> crate::metrics_http::EndpointSettings {
    let g = &cfg.global_defs;
    crate::metrics_http::EndpointSettings {
        addr: g.metrics_listen,
        serve_status: g.metrics_serve_status,
        web_config: g.metrics_web_config.clone(),
    }
}

/// global_defs `status_socket PATH`.
pub fn status_socket(cfg: &Config) -> Option<PathBuf> {
    cfg.global_defs.status_socket.clone()
}
