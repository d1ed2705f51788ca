fn main() -> std::process::ExitCode {
    rkeepalived::daemon::main_with(rkeepalived::cli::Cli::from_process())
}
