"""Request bodies are read whole or refused: ``MAX_CONTENT_LENGTH`` holds for streamed bodies too.

A body with ``Content-Length`` over the limit is refused by werkzeug before it
is read. A chunked body (``Transfer-Encoding: chunked``, no length) is only
known to be too large while it is read, and werkzeug's capped stream then
stops *at* the limit and returns what it has (``read()`` gives the first
``MAX_CONTENT_LENGTH`` bytes as if they were the whole body). ``CappedRequest``
looks one byte past the limit instead: a body that goes on is a 413
(``INPUT_TOO_LARGE``), one that ends at the limit is read whole. ``app.py``
installs it as the app's ``request_class``, so every endpoint that reads a
body (JSON, JWT, form, multipart) gets it.
"""

from __future__ import annotations

from typing import IO

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

__all__ = ["CappedRequest"]


class _StreamedBodyCap(LimitedStream):
    """At most ``limit`` bytes of a self-terminating stream; anything beyond is a 413, not a cut."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit, is_max=True)

    def on_exhausted(self) -> None:
        # The limit is reached: the body is whole only if the stream ends here.
        if self._stream.read(1):
            raise RequestEntityTooLarge()

    def readall(self) -> bytes:
        data = super().readall()  # stops at the limit without asking whether more follows
        if self.is_exhausted:
            self.on_exhausted()
        return data


class CappedRequest(Request):
    """Flask's request, whose body stream refuses a streamed body longer than ``max_content_length``."""

    @cached_property
    def stream(self) -> IO[bytes]:  # type: ignore[override]
        limit = self.max_content_length
        if (limit is not None and self.environ.get("wsgi.input_terminated")
                and self.headers.get("Content-Length") is None and not self.shallow):
            return _StreamedBodyCap(self.environ["wsgi.input"], limit)  # type: ignore[return-value]
        return super().stream
