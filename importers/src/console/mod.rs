//! Kernel console, dmesg and serial logs: splats as records (issue 7).
