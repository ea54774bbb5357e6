"""Evidence export: requests, approvals, MP4 files cut from recordings, signed manifests."""
