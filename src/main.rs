fn main() -> std::process::ExitCode {
    // `rkeepalived -T ...` / `--genhash`, or invoked as `genhash`.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some((args, am_genhash)) = rkeepalived_check::genhash::genhash_invocation(&argv) {
        return std::process::ExitCode::from(rkeepalived_check::genhash::main(args, am_genhash));
    }
    rkeepalived::daemon::main_with(rkeepalived::cli::Cli::from_process())
}
