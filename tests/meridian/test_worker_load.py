"""The worker's load report as livekit-agents writes it (MessageToJson(WorkerInfo), where
active_jobs is a protobuf float), read by the one parser dispatch, status and the smoke test use."""

from __future__ import annotations

import math

import pytest
from google.protobuf.json_format import MessageToJson
from hypothesis import given
from hypothesis import strategies as st
from livekit.protocol.agent_worker import WorkerInfo

from meridian.dispatch import jsonsafe
from meridian.worker_load import (
    MAX_ACTIVE_JOBS,
    MAX_WORKER_LOAD,
    MalformedLoad,
    WorkerLoad,
    read_worker_load,
)


def framework_body(**fields: object) -> dict[str, object]:
    """What the framework's /worker endpoint answers, decoded as dispatch decodes a probe."""
    info = WorkerInfo(agent_name="support-agent-eu-west", **fields)
    body = jsonsafe.loads(MessageToJson(info, preserving_proto_field_name=True).encode())
    assert isinstance(body, dict)
    return body


def test_the_frameworks_body_with_one_job_reads_as_one_job() -> None:
    body = framework_body(active_jobs=1, worker_load=0.25)
    assert body["active_jobs"] == 1.0 and isinstance(body["active_jobs"], float)
    assert read_worker_load(body) == WorkerLoad(active_jobs=1, worker_load=0.25)


def test_an_idle_worker_leaves_the_fields_out_and_reads_as_zero() -> None:
    body = framework_body()
    assert "active_jobs" not in body
    assert read_worker_load(body) == WorkerLoad(active_jobs=0, worker_load=0.0)


@given(st.integers(min_value=0, max_value=MAX_ACTIVE_JOBS))
def test_every_job_count_the_framework_can_report_reads_back_exactly(jobs: int) -> None:
    assert read_worker_load(framework_body(active_jobs=jobs)).active_jobs == jobs


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1.5, "is not a whole number"),
        (-1, "is out of range"),
        (-1.0, "is out of range"),
        (math.inf, "is out of range"),
        (math.nan, "is out of range"),
        (MAX_ACTIVE_JOBS + 1, "is out of range"),
        (1e30, "is out of range"),
        (10**40, "is out of range"),
        (10**400, "is out of range"),
        (True, "is a bool, not a number"),
        ("2", "is a str, not a number"),
        ([1], "is a list, not a number"),
    ],
)
def test_a_malformed_job_count_is_refused_by_name(value: object, problem: str) -> None:
    with pytest.raises(MalformedLoad) as refused:
        read_worker_load({"active_jobs": value})
    assert refused.value.field == "active_jobs"
    assert refused.value.problem.startswith(problem)


@pytest.mark.parametrize("value", [-0.1, math.inf, MAX_WORKER_LOAD * 2, False, "0.5"])
def test_a_malformed_load_is_refused_by_name(value: object) -> None:
    with pytest.raises(MalformedLoad) as refused:
        read_worker_load({"worker_load": value})
    assert refused.value.field == "worker_load"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(["active_jobs", "worker_load", "other"]), _json))
def test_any_report_is_either_a_bounded_load_or_refused(body: dict[str, object]) -> None:
    try:
        load = read_worker_load(body)
    except MalformedLoad as exc:
        assert exc.field in ("active_jobs", "worker_load")
        return
    assert isinstance(load.active_jobs, int) and 0 <= load.active_jobs <= MAX_ACTIVE_JOBS
    assert math.isfinite(load.worker_load) and 0 <= load.worker_load <= MAX_WORKER_LOAD
