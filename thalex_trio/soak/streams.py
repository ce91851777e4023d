"""The bot's process from the outside: its output copied to files as it comes, and its stop."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


async def copy_stream(stream: trio.abc.ReceiveStream, path: Path, chunks: list[bytes]) -> None:
    """Copy `stream` to `path` until it ends, keeping what it said in `chunks` too."""
    async with await trio.open_file(path, "wb") as file:
        async for chunk in stream:
            chunks.append(bytes(chunk))
            await file.write(chunk)


async def copy_lines(
    stream: trio.abc.ReceiveStream, path: Path, on_line: Callable[[str], None]
) -> None:
    """Copy `stream` to `path` until it ends, handing each complete line to `on_line`."""
    pending = b""
    async with await trio.open_file(path, "wb") as file:
        async for chunk in stream:
            await file.write(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                on_line(raw.decode(errors="replace"))
        if pending:
            on_line(pending.decode(errors="replace"))


async def stop_process(process: trio.Process, deadline_s: float) -> int | None:
    """SIGTERM, then the exit status within `deadline_s` (None: it had to be killed)."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    with trio.move_on_after(deadline_s):
        return await process.wait()
    process.kill()
    await process.wait()
    return None
