"""Releases: build once, roll the image out region by region behind smoke gates, roll back on
failure (`scripts/rollout.py`), and see what runs where (`scripts/status.py`).

- `plan`: stack names, waves, the deployer and gate interfaces, resume and rollback decisions;
- `orchestrate`: the release state machine, on any deployer and gate;
- `pulumi_deployer`: the real deployer, on the Pulumi Automation API;
- `smoke_gate`: the real gate, the meridian.smoke package run in-process;
- `status`: what runs per region (stack outputs, dispatch over HTTP, drift);
- `render`: tables and JSON; `cli`: the two command lines.

See docs/release.md.
"""
