"""Paging, one way for every list: a page request, the ``paged`` query helper and the ``Page[T]`` response.

Page numbers and sizes are bounded so that the offset always fits a 64-bit integer (SQLite's and
PostgreSQL's): a client asking for page 10^18 gets a 422, not a database overflow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PAGE_SIZE = 1000
MAX_PAGE = 10_000_000  # times MAX_PAGE_SIZE: 10^10 rows, far inside a signed 64-bit offset


class Page(BaseModel, Generic[T]):
    """One page of a list: its items, how many match in all, and which page this is."""

    items: list[T]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 100

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass
class PageOf(Generic[T]):
    """The rows of one page and the counts, before they are turned into public shapes."""

    rows: Sequence[T]
    total: int
    page: int
    page_size: int

    def map(self, show: Callable[[T], Any]) -> dict[str, Any]:
        """The page as a ``Page`` body, each row shown by ``show``."""
        return {"items": [show(r) for r in self.rows], **self.counts()}

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "page": self.page, "page_size": self.page_size}


def paged(session: Session, stmt: Select[Any], request: PageRequest, order: Any) -> PageOf[Any]:
    """Run ``stmt`` for one page, ordered by ``order`` (a column or a tuple of them), and count all matches."""
    page = min(max(request.page, 1), MAX_PAGE)
    size = min(max(request.page_size, 1), MAX_PAGE_SIZE)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    orders = order if isinstance(order, tuple) else (order,)
    rows = session.scalars(stmt.order_by(*orders).offset((page - 1) * size).limit(size)).all()
    return PageOf(list(rows), total, page, size)
