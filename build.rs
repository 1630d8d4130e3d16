//! Sets the SONAME of the shared library so that it installs as a drop-in `libzmq.so.5`.
//! The header is not touched here: regenerating `include/zmq.h` is an explicit step
//! (`make header`, or `BLESS=1 cargo test --test header`).

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzmq.so.5");
    println!("cargo:rerun-if-changed=build.rs");
}
