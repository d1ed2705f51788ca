//! Load a keepalived.conf and print its canonical form (all effective values).
//! `cargo run -p rkeepalived-config --example print_conf -- FILE [CONFIG_ID]`
fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: print_conf FILE [CONFIG_ID]");
        std::process::exit(2);
    };
    let opts = rkeepalived_config::LoadOptions {
        config_id: args.next(),
    };
    match rkeepalived_config::load(path.as_ref(), &opts) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("warning: {w}");
            }
            print!("{}", rkeepalived_config::print(&l.config));
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
