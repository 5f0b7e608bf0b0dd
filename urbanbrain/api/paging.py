"""The page parameters of every list endpoint, as one dependency: ``page`` and ``page_size``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query

from urbanbrain.core.paging import MAX_PAGE, MAX_PAGE_SIZE, PageRequest


def page_query(default_size: int = 100) -> Callable[..., PageRequest]:
    """A dependency reading ``page`` (1-based) and ``page_size`` (default ``default_size``)."""

    def dependency(
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")] = 1,
        page_size: Annotated[
            int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (at most {MAX_PAGE_SIZE}).")
        ] = default_size,
    ) -> PageRequest:
        return PageRequest(page, page_size)

    return dependency


PageDep = Annotated[PageRequest, Depends(page_query())]
