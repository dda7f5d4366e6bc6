"""Failover decisions: which lost agent brings another region's agent into its room, which
region, and when nothing happens (the real-server run is tests/livekit_server/test_failover.py)."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json

from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol.agent import Job
from livekit.protocol.agent_dispatch import AgentDispatchState
from livekit.protocol.models import DisconnectReason, ParticipantInfo, Room
from livekit.protocol.webhook import WebhookEvent
from structlog.testing import capture_logs

from meridian.contract import (
    CONVERSATION_ATTRIBUTE,
    FAILOVER_METADATA,
    REGION_ATTRIBUTE,
    WEBHOOK_PATH,
)
from meridian.conversation import CarriedMessage, encode
from meridian.dispatch import failover
from meridian.dispatch.failover import (
    MAX_FAILOVERS,
    ArrivedCaller,
    EarlierFailover,
    Failover,
    FailoverService,
    LostAgent,
    Redispatch,
    arrived_caller,
    earlier_failovers,
    lost_agent,
    plan_failover,
    plan_redispatch,
)
from meridian.dispatch.health import ProbeResult
from meridian.dispatch.settings import DispatchSettings
from tests.dispatch.support import API_KEY, API_SECRET, board_for

LOST = LostAgent(room="call", region="eu-west", identity="agent-1", reason="CONNECTION_TIMEOUT")


def _left(
    *,
    kind: ParticipantInfo.Kind.ValueType = ParticipantInfo.Kind.AGENT,
    reason: DisconnectReason.ValueType = DisconnectReason.CONNECTION_TIMEOUT,
    region: str | None = "eu-west",
    event: str = "participant_left",
) -> WebhookEvent:
    attributes = {REGION_ATTRIBUTE: region} if region else {}
    who = ParticipantInfo(
        identity="agent-1", kind=kind, disconnect_reason=reason, attributes=attributes
    )
    return WebhookEvent(event=event, room=Room(name="call"), participant=who)


def test_an_agent_whose_connection_timed_out_is_lost() -> None:
    assert lost_agent(_left()) == LOST


def test_an_agent_that_ended_its_own_session_is_not_lost() -> None:
    assert lost_agent(_left(reason=DisconnectReason.CLIENT_INITIATED)) == (
        "the agent ended its session itself"
    )


def test_a_caller_leaving_is_not_a_lost_agent() -> None:
    assert lost_agent(_left(kind=ParticipantInfo.Kind.STANDARD)) == "not a Meridian agent leaving"


def test_an_agent_without_the_region_attribute_is_not_meridians() -> None:
    assert lost_agent(_left(region=None)) == "not a Meridian agent leaving"


def test_other_events_start_nothing() -> None:
    assert isinstance(lost_agent(_left(event="room_finished")), str)


def test_the_next_nearest_healthy_region_takes_over(settings: DispatchSettings) -> None:
    plan = plan_failover(LOST, settings, board_for(settings), caller_present=True, earlier=[])
    # from westeurope, eastus is nearer than southeastasia
    assert plan == Failover("call", "us-east", attempt=1, failed=("eu-west",), lost_agent="agent-1")


def test_a_region_that_is_down_is_passed_over(settings: DispatchSettings) -> None:
    board = board_for(settings)
    for _ in range(10):  # past the board's down-after count
        board.record("us-east", ProbeResult(False, "worker unreachable"), 0.0)
    plan = plan_failover(LOST, settings, board, caller_present=True, earlier=[])
    assert isinstance(plan, Failover) and plan.region == "ap-southeast"


def test_a_region_that_already_failed_the_call_is_never_chosen_again(
    settings: DispatchSettings,
) -> None:
    lost_again = LostAgent("call", "us-east", "agent-2", "CONNECTION_TIMEOUT")
    earlier = [EarlierFailover(("eu-west",), "agent-1")]
    plan = plan_failover(
        lost_again, settings, board_for(settings), caller_present=True, earlier=earlier
    )
    assert plan == Failover("call", "ap-southeast", 2, ("eu-west", "us-east"), "agent-2")


def test_a_region_whose_workers_refused_the_call_is_passed_over(
    settings: DispatchSettings,
) -> None:
    board = board_for(settings)
    plan = plan_failover(
        LOST, settings, board, caller_present=True, earlier=[], passed_over=["us-east"]
    )
    assert isinstance(plan, Failover) and plan.region == "ap-southeast"
    # passed over for this call only: the note records the regions that lost it
    assert plan.failed == ("eu-west",)


def test_the_same_loss_reported_twice_brings_one_agent(settings: DispatchSettings) -> None:
    earlier = [EarlierFailover(("eu-west",), "agent-1")]
    plan = plan_failover(LOST, settings, board_for(settings), caller_present=True, earlier=earlier)
    assert plan == "agent-1 has already been replaced"


def test_failovers_per_room_are_bounded(settings: DispatchSettings) -> None:
    earlier = [EarlierFailover(("eu-west",), f"agent-{n}") for n in range(10, 10 + MAX_FAILOVERS)]
    plan = plan_failover(LOST, settings, board_for(settings), caller_present=True, earlier=earlier)
    assert plan == f"the room has had {MAX_FAILOVERS} failovers, the most allowed"


def test_no_failover_once_the_caller_has_gone(settings: DispatchSettings) -> None:
    plan = plan_failover(LOST, settings, board_for(settings), caller_present=False, earlier=[])
    assert plan == "no caller left in the room"


def test_the_failover_carries_the_lost_agents_conversation(settings: DispatchSettings) -> None:
    said = [CarriedMessage("user", "Where is my parcel?"), CarriedMessage("assistant", "In Lyon.")]
    lost = dataclasses.replace(LOST, conversation=encode(said))
    plan = plan_failover(lost, settings, board_for(settings), caller_present=True, earlier=[])
    assert isinstance(plan, Failover)
    assert json.loads(plan.metadata())[FAILOVER_METADATA]["conversation"] == [
        {"role": "user", "text": "Where is my parcel?"},
        {"role": "assistant", "text": "In Lyon."},
    ]


def test_a_conversation_that_is_not_ours_is_left_behind(settings: DispatchSettings) -> None:
    lost = dataclasses.replace(LOST, conversation='{"role": "system"}')
    plan = plan_failover(lost, settings, board_for(settings), caller_present=True, earlier=[])
    assert isinstance(plan, Failover)
    assert "conversation" not in json.loads(plan.metadata())[FAILOVER_METADATA]


def test_the_webhook_reads_the_conversation_the_lost_agent_last_published() -> None:
    event = _left()
    event.participant.attributes[CONVERSATION_ATTRIBUTE] = '[{"role":"user","text":"Hi"}]'
    lost = lost_agent(event)
    assert isinstance(lost, LostAgent)
    assert lost.conversation == '[{"role":"user","text":"Hi"}]'


def test_the_failover_dispatch_carries_what_failed_and_is_read_back() -> None:
    metadata = Failover("call", "us-east", 1, ("eu-west",), "agent-1").metadata()
    note = {"attempt": 1, "failed": ["eu-west"], "lost": "agent-1"}
    assert json.loads(metadata) == {FAILOVER_METADATA: note}
    found = earlier_failovers([metadata, "", "not json", '{"other": 1}'])
    assert found == [EarlierFailover(("eu-west",), "agent-1")]


def _recording_sweeps(service: FailoverService, monkeypatch) -> list[tuple[str, str]]:
    # the sweep's LiveKit side runs against the real server in tests/livekit_server
    swept: list[tuple[str, str]] = []

    async def sweep(region: str, reason: str) -> list[dict[str, object]]:
        swept.append((region, reason))
        return []

    monkeypatch.setattr(service, "sweep", sweep)
    return swept


def _take_down(board, region: str, settings: DispatchSettings) -> None:
    for _ in range(settings.policy.probes.down_after_failures):
        board.record(region, ProbeResult(False, "worker unreachable"), 0.0)


async def test_its_own_worker_found_down_sweeps_the_regions_rooms(settings, monkeypatch) -> None:
    board = board_for(settings)
    service = FailoverService(lambda: settings, board)
    swept = _recording_sweeps(service, monkeypatch)
    _take_down(board, settings.region, settings)
    await service.drain()
    assert swept == [(settings.region, "worker probe: worker unreachable")]


async def test_another_region_found_down_is_left_to_that_regions_dispatch(
    settings, monkeypatch
) -> None:
    board = board_for(settings)
    service = FailoverService(lambda: settings, board)
    swept = _recording_sweeps(service, monkeypatch)
    other = next(e.region for e in settings.regions if e.region != settings.region)
    _take_down(board, other, settings)
    await service.drain()
    assert swept == []


async def test_a_webhook_without_livekits_signature_is_refused(serve, settings) -> None:
    client = await serve(settings)
    answer = await client.post(WEBHOOK_PATH, data=b'{"event": "participant_left"}')
    assert answer.status == 401


def _dispatch(agent_name: str, *, taken: bool) -> api.AgentDispatch:
    jobs = [Job(id="AJ_1")] if taken else []
    return api.AgentDispatch(id="AD_1", agent_name=agent_name, state=AgentDispatchState(jobs=jobs))


WAITING = ArrivedCaller(room="call", identity="caller-1")
CALLER = ParticipantInfo(identity="caller-1", kind=ParticipantInfo.Kind.STANDARD)
AGENT = ParticipantInfo(identity="agent-1", kind=ParticipantInfo.Kind.AGENT)


def test_a_caller_joining_is_checked_for_its_agent() -> None:
    event = WebhookEvent(event="participant_joined", room=Room(name="call"), participant=CALLER)
    assert arrived_caller(event) == WAITING


def test_an_agent_joining_needs_no_check() -> None:
    event = WebhookEvent(event="participant_joined", room=Room(name="call"), participant=AGENT)
    assert arrived_caller(event) is None


def test_a_caller_alone_whose_dispatch_no_worker_took_gets_it_again() -> None:
    plan = plan_redispatch(WAITING, [_dispatch("support-agent-eu-west", taken=False)], [CALLER])
    assert plan == Redispatch(room="call", agent_name="support-agent-eu-west")


def test_a_dispatch_a_worker_took_is_not_repeated() -> None:
    dispatches = [_dispatch("support-agent-eu-west", taken=True)]
    assert plan_redispatch(WAITING, dispatches, [CALLER]) == "a worker took the room's dispatch"


def test_a_room_with_its_agent_needs_nothing() -> None:
    dispatches = [_dispatch("support-agent-eu-west", taken=False)]
    assert plan_redispatch(WAITING, dispatches, [CALLER, AGENT]) == "the room has its agent"


def test_a_caller_who_has_left_needs_nothing() -> None:
    dispatches = [_dispatch("support-agent-eu-west", taken=False)]
    assert plan_redispatch(WAITING, dispatches, []) == "the caller has left"


def _signed(body: str, ttl: datetime.timedelta = datetime.timedelta(minutes=5)) -> str:
    return (
        api.AccessToken(API_KEY, API_SECRET)
        .with_ttl(ttl)
        .with_sha256(base64.b64encode(hashlib.sha256(body.encode()).digest()).decode())
        .to_jwt()
    )


async def test_a_webhook_whose_signature_has_expired_is_refused(serve, settings) -> None:
    client = await serve(settings)
    body = MessageToJson(_left())
    expired = _signed(body, ttl=datetime.timedelta(minutes=-5))
    answer = await client.post(WEBHOOK_PATH, data=body, headers={"Authorization": expired})
    assert answer.status == 401


async def test_a_webhook_signed_for_another_body_is_refused(serve, settings) -> None:
    client = await serve(settings)
    token = _signed(MessageToJson(_left(region="us-east")))
    answer = await client.post(
        WEBHOOK_PATH, data=MessageToJson(_left()), headers={"Authorization": token}
    )
    assert answer.status == 401


async def test_a_signed_webhook_about_a_caller_is_answered_and_starts_nothing(
    serve, settings
) -> None:
    client = await serve(settings)
    body = MessageToJson(_left(kind=ParticipantInfo.Kind.STANDARD))
    token = (
        api.AccessToken(API_KEY, API_SECRET)
        .with_sha256(base64.b64encode(hashlib.sha256(body.encode()).digest()).decode())
        .to_jwt()
    )
    answer = await client.post(WEBHOOK_PATH, data=body, headers={"Authorization": token})
    assert answer.status == 200
    assert (await answer.json())["failover"] is None


async def _checked_when_livekit_says(error: api.TwirpError, settings, monkeypatch):
    service = FailoverService(lambda: settings, board_for(settings))

    async def redispatch(_caller: ArrivedCaller) -> dict[str, object]:
        raise error

    monkeypatch.setattr(failover, "AGENT_GRACE_SECONDS", 0.0)
    monkeypatch.setattr(service, "_redispatch", redispatch)
    with capture_logs() as logs:
        outcome = await service._check_agent(WAITING)
    return outcome, logs


async def test_a_room_that_closed_before_its_check_is_left_alone(settings, monkeypatch) -> None:
    gone = api.TwirpError("not_found", "requested room does not exist", status=404)
    outcome, logs = await _checked_when_livekit_says(gone, settings, monkeypatch)
    assert outcome == {"redispatch": None, "reason": "the room has closed"}
    assert [(e["event"], e["log_level"]) for e in logs] == [("agent_check_skipped", "info")]


async def test_a_failing_livekit_api_during_the_check_is_an_error(settings, monkeypatch) -> None:
    broken = api.TwirpError("internal", "boom", status=500)
    outcome, logs = await _checked_when_livekit_says(broken, settings, monkeypatch)
    assert outcome["redispatch"] is None and "LiveKit API failed" in str(outcome["reason"])
    assert [(e["event"], e["log_level"]) for e in logs] == [("agent_check_failed", "error")]
