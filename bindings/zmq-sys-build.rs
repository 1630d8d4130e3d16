// Build script for the zmq-sys crate (the Rust `zmq` crate's FFI layer) as scripts/bindings.sh
// patches it in: instead of building its bundled libzmq, link the libzmq that pkg-config finds
// (PKG_CONFIG_PATH points at the libzmq-rs install under test).
fn main() {
    println!("cargo:rerun-if-changed=build/main.rs");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let lib = pkg_config::Config::new()
        .atleast_version("4.1")
        .probe("libzmq")
        .expect("libzmq through pkg-config");
    for p in &lib.include_paths {
        println!("cargo:include={}", p.display());
    }
}
