//! Ctrl-C and SIGTERM: opal's partial files (`.items.csv.<pid>.partial`, `.<name>.partial`)
//! are removed before the process ends, so that an interrupted run leaves nothing that looks
//! like an output and the next run can use the folder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A partial file now exists: removed if the run is interrupted.
pub fn register(path: &Path) {
    if let Ok(mut files) = PARTIAL.lock() {
        files.push(path.to_path_buf());
    }
}

/// A partial file was moved into place or removed.
pub fn unregister(path: &Path) {
    if let Ok(mut files) = PARTIAL.lock() {
        files.retain(|p| p != path);
    }
}

/// Watch for SIGINT and SIGTERM on a thread of its own: at the first, remove the registered
/// partial files and end with 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM),
/// as a shell would report it.
pub fn install() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("opal-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if let Ok(files) = PARTIAL.lock() {
                    for f in files.iter() {
                        let _ = std::fs::remove_file(f);
                    }
                }
                eprintln!("opal: interrupted; partial files removed");
                std::process::exit(128 + signal);
            }
        });
}

/// Whether a file name is one of opal's partial files.
pub fn is_partial_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".partial")
}
