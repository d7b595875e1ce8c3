"""The test client `app.test_client()` gives: each response read in full and closed."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


class BufferedClient(FlaskClient):
    """A test client that reads each response fully and closes it (no open files left).

    Flask's own client hands back a response still streaming: a file the test does not read
    stays open until the garbage collector finds it, a ResourceWarning at some later test
    (an error under `filterwarnings = error`).
    """

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        return super().open(*args, buffered=buffered, **kwargs)
