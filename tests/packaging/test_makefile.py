"""The Makefile's targets on a machine set up the way the README's users have it."""

from __future__ import annotations

import os
import shutil
import subprocess

from infra.manifest import ROOT
from tests.manifests import THREE_REGIONS


def test_make_synth_works_inside_an_activated_virtualenv_without_uv_on_path() -> None:
    venv = ROOT / ".venv"
    # What `source .venv/bin/activate` leaves: the virtualenv's python3 first, uv nowhere on PATH.
    tools = {os.path.dirname(shutil.which(t) or "/usr/bin/x") for t in ("make", "bash", "env")}
    path = ":".join([str(venv / "bin"), *sorted(tools)])
    env = {"PATH": path, "VIRTUAL_ENV": str(venv), "HOME": os.environ.get("HOME", "/root")}
    args = f"--manifest {THREE_REGIONS} --stack eu-west"
    result = subprocess.run(
        ["make", "-s", "synth", f"SYNTH_ARGS={args}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "No module named uv" not in result.stderr
    assert result.stdout.startswith("stack eu-west: region eu-west in westeurope")
