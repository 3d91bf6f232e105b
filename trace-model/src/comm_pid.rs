//! How kctx names a task in every output: `comm-pid`, as ftrace prints it.

use std::fmt;

/// `comm-pid` (`lab_s1-175`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommPid<'a>(pub &'a str, pub i32);

impl fmt::Display for CommPid<'_> {
    /// Honours width and alignment (`{:>22}`), as the trace line's task column needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_none() {
            write!(f, "{}-{}", self.0, self.1)
        } else {
            f.pad(&format!("{}-{}", self.0, self.1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CommPid;

    #[test]
    fn names_and_pads_like_ftrace() {
        assert_eq!(CommPid("lab_s1", 175).to_string(), "lab_s1-175");
        assert_eq!(format!("{:>12}|", CommPid("sh", 1)), "        sh-1|");
    }
}
