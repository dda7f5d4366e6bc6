"""Azure region geography and the one latency model shared by dispatch and the scripts."""
