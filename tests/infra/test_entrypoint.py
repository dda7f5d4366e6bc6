"""`pulumi up` runs infra/ with runpy from the project root, which is not on the import path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from infra.global_refs import GlobalOutput
from infra.manifest import ROOT
from tests.manifests import THREE_REGIONS

OUTPUT_NAMES = [v for k, v in vars(GlobalOutput).items() if k.isupper()]

# A bare Pulumi mock harness: no project module is imported before runpy runs infra/.
PROGRAM = """
import asyncio, json, runpy, sys
import pulumi
from pulumi.runtime import mocks, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack

class Mocks(pulumi.runtime.Mocks):
    types = []
    def new_resource(self, args):
        self.types.append(args.typ)
        if args.typ == "pulumi:pulumi:StackReference":
            ids = {"id": "/identity", "clientId": "c", "principalId": "p"}
            outputs = {k: f"https://mock-{k.lower()}" for k in GLOBAL_OUTPUTS} | {"identities": {"eu-west": ids}}
            return "global", {"name": "global", "outputs": outputs, "secretOutputNames": []}
        state = dict(args.inputs)
        if "identity" in state:
            state["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {}}
        return args.name + "-id", state
    def call(self, args):
        return {"primarySharedKey": "k"}, []

GLOBAL_OUTPUTS = json.loads(sys.argv[3])
set_all_config({"meridian:manifest": sys.argv[2]}, [])
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
m = Mocks()
mocks.set_mocks(m, project="meridian", stack="prod-eu-west", preview=False)
settings.set_root_resource(None)
loop.run_until_complete(run_in_stack(lambda: runpy.run_path("infra", run_name="__main__")))
print(json.dumps(sorted(set(m.types))))
"""


def test_program_runs_from_project_root_without_it_on_the_import_path(tmp_path: Path) -> None:
    script = tmp_path / "harness.py"
    script.write_text(PROGRAM)
    # -S skips site, so the editable install's .pth does not add the root (a venv built without
    # installing the project, as `uv sync --no-install-project` does, has no such .pth); -P
    # keeps the working directory off the path. Only the dependencies stay importable.
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    result = subprocess.run(
        [
            sys.executable,
            "-P",
            "-S",
            str(script),
            str(ROOT),
            str(THREE_REGIONS),
            json.dumps(OUTPUT_NAMES),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "azure-native:app:ContainerApp" in json.loads(result.stdout.splitlines()[-1])
