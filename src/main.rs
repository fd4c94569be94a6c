//! The `opal` binary: a thin shell over the library. See `opal --help`.

fn main() {
    std::process::exit(opal::cli::main());
}
