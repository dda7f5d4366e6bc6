"""An account's model deployments are registered one after another: each waits for the one
before, since Azure answers 409 RequestConflict to parallel deployments on one account."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pulumi
from pulumi.runtime import mocks, settings
from pulumi.runtime.stack import run_in_stack

from infra.manifest import AiModels
from infra.manifest.model import ModelDeployment
from infra.regional_agent import model_deployments


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


def _registered(ai: AiModels) -> list[tuple[str, list[str], dict[str, Any]]]:
    recorded: list[tuple[str, list[str], dict[str, Any]]] = []

    class Monitor(mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            if request.custom:
                recorded.append((request.name, list(request.dependencies), request))
            return super().RegisterResource(request)

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            settings.reset_options(project="chain", stack="chain", preview=False)
            fake = _Mocks()
            mocks.set_mocks(
                fake, project="chain", stack="chain", preview=False, monitor=Monitor(fake)
            )
            settings.set_root_resource(None)  # type: ignore[arg-type]

            def program() -> None:
                parent = pulumi.ComponentResource("test:index:Region", "region")
                model_deployments(
                    ai,
                    account_name="ai-x",
                    resource_group_name="rg-x",
                    prefix="agent",
                    parent=parent,
                )

            loop.run_until_complete(run_in_stack(program))
        finally:
            loop.close()
            asyncio.set_event_loop(None)

    contextvars.Context().run(run)
    return recorded


def _deployment(name: str) -> ModelDeployment:
    return ModelDeployment(name, name, None, "global", "GlobalStandard", 10)


def test_each_deployment_waits_for_the_one_before() -> None:
    ai = AiModels(
        "any", ("llm",), tuple(_deployment(n) for n in ("first", "second", "third")), None
    )
    recorded = _registered(ai)
    assert [name for name, _, _ in recorded] == ["agent-first", "agent-second", "agent-third"]
    first, second, third = (deps for _, deps, _ in recorded)
    assert first == []
    assert any(d.endswith("::agent-first") for d in second)
    assert any(d.endswith("::agent-second") for d in third)
    assert not any(d.endswith("::agent-first") for d in third)
