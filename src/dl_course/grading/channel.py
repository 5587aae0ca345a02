"""Length-prefixed frames over a socket, with a deadline and a size cap.

Used between the judge and the learner process. Knows nothing of torch: a frame is bytes.
"""

from __future__ import annotations

import select
import socket
import struct
import time

__all__ = ["send_frame", "recv_frame", "ChannelClosed", "ChannelTimeout", "FrameTooLarge", "MAX_FRAME"]

MAX_FRAME = 256 * 1024 * 1024
_HEADER = struct.Struct("!Q")


class ChannelClosed(Exception):
    """The other side closed the channel (or died) before a whole frame arrived."""


class ChannelTimeout(Exception):
    """No whole frame arrived before the deadline."""


class FrameTooLarge(Exception):
    """The other side announced a frame larger than the cap."""


def send_frame(sock: socket.socket, payload: bytes, deadline: float | None = None) -> None:
    """Write one frame; with a `deadline` (a `time.monotonic()` value), ChannelTimeout when the
    other side has not taken it all by then (a reader that stops reading cannot block us)."""
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    if deadline is None:
        sock.sendall(data)
        return
    while data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([], [sock], [], left)[1]:
            raise ChannelTimeout()
        try:
            sent = sock.send(data[: 1 << 20], socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        data = data[sent:]


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelTimeout()
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                raise ChannelTimeout()
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, deadline: float | None = None, cap: int = MAX_FRAME) -> bytes:
    """Read one frame; `deadline` is a `time.monotonic()` value."""
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    if size > cap:
        raise FrameTooLarge(size)
    return _recv_exact(sock, size, deadline)
