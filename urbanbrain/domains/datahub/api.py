"""``/api/v1/datahub``: the catalog, requests and decisions, grants, masked rows and exports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["datahub"])
