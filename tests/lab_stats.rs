//! Issue 3: `kctx stats` event counts per lab recording equal truth.json's.
