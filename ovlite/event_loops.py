"""Handing completions from worker threads to asyncio event loops."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio


def post_to_loop(loop: asyncio.AbstractEventLoop, callback: Any, *args: Any) -> None:
    """Hand a completion to an event loop; a loop closed meanwhile has nobody left to tell."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        if not loop.is_closed():
            raise


def resolve_future(future: asyncio.Future, value: Any) -> None:
    """Set ``future``'s result unless it was cancelled meanwhile."""
    if not future.cancelled():
        future.set_result(value)
