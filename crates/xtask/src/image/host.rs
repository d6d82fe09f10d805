//! Running the host's tools (cargo, git, ldd, dpkg-query, chroot) and reading their output, with
//! errors that name the command.

use std::path::Path;
use std::process::Command;

use super::Result;

/// Runs `program args…` in `dir` and returns its standard output; a failure names the command and
/// carries its standard error.
pub fn output(dir: &Path, program: &str, args: &[&str]) -> Result<String> {
    let result = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if !result.status.success() {
        return Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            result.status,
            String::from_utf8_lossy(&result.stderr).trim()
        ));
    }
    String::from_utf8(result.stdout).map_err(|e| format!("`{program}` printed non-UTF-8: {e}"))
}

/// Reads a file, naming it when that fails.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
