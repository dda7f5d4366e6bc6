"""Listing soft-deleted AI accounts: every page of Azure Resource Manager's answer, and one clear
error (never a traceback) when it cannot be read."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from infra import soft_delete
from infra.soft_delete import SoftDeleteLookupError, soft_deleted_accounts

ARM = "https://management.azure.com"


def _pages(monkeypatch: pytest.MonkeyPatch, pages: dict[str, Any], seen: list[Any]) -> None:
    def urlopen(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        seen.append(request)
        answer = pages[request.full_url]
        if isinstance(answer, Exception):
            raise answer
        return io.BytesIO(json.dumps(answer).encode())

    monkeypatch.setattr(soft_delete.urllib.request, "urlopen", urlopen)


def test_every_page_of_deleted_accounts_is_read_with_the_deployers_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = f"{ARM}/subscriptions/sub-1/providers/Microsoft.CognitiveServices/deletedAccounts?api-version=2024-10-01"
    second = f"{ARM}/next-page"
    seen: list[Any] = []
    _pages(
        monkeypatch,
        {
            first: {"value": [{"name": "ai-a"}], "nextLink": second},
            second: {"value": [{"name": "ai-b"}, {"id": "no-name"}]},
        },
        seen,
    )
    assert soft_deleted_accounts("sub-1", token=lambda: "arm-token") == {"ai-a", "ai-b"}
    assert all(r.get_header("Authorization") == "Bearer arm-token" for r in seen)


def test_a_refused_lookup_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{ARM}/subscriptions/sub-1/providers/Microsoft.CognitiveServices/deletedAccounts?api-version=2024-10-01"
    refused = urllib.error.HTTPError(url, 403, "Forbidden", {}, None)  # type: ignore[arg-type]
    _pages(monkeypatch, {url: refused}, [])
    with pytest.raises(SoftDeleteLookupError, match="Azure answered 403"):
        soft_deleted_accounts("sub-1", token=lambda: "arm-token")


def test_missing_credentials_are_one_clear_error() -> None:
    def no_login() -> str:
        raise RuntimeError("no credential in the chain")

    with pytest.raises(SoftDeleteLookupError, match="RuntimeError: no credential"):
        soft_deleted_accounts("sub-1", token=no_login)


def test_a_next_link_off_azure_resource_manager_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{ARM}/subscriptions/sub-1/providers/Microsoft.CognitiveServices/deletedAccounts?api-version=2024-10-01"
    _pages(monkeypatch, {url: {"value": [], "nextLink": "https://elsewhere.example/steal"}}, [])
    with pytest.raises(SoftDeleteLookupError, match="unexpected nextLink"):
        soft_deleted_accounts("sub-1", token=lambda: "arm-token")
