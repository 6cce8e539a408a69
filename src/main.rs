//! Binary entry point: everything lives in the library; see [`cts_deb::cli`].

fn main() {
    std::process::exit(cts_deb::cli::main());
}
