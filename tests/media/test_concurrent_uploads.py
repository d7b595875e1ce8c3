"""Decoding an image holds no database lock: other writers go ahead meanwhile (real server)."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.error
import urllib.request
import uuid

from media_samples import make_image

from storefront.media import service
from storefront.testing.factories import DEFAULT_PASSWORD


def _send(opener, url: str, data: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _json(opener, url: str, body: dict) -> int:
    return _send(opener, url, json.dumps(body).encode(), "application/json")


def _multipart(opener, url: str, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        f"Content-Type: image/png\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return _send(opener, url, body, f"multipart/form-data; boundary={boundary}")


def test_registration_succeeds_while_an_upload_is_being_decoded(live_server, monkeypatch):
    created = live_server.app.test_cli_runner().invoke(
        args=["create-user", "painter", "painter@example.com", "--password", DEFAULT_PASSWORD]
    )
    assert created.exit_code == 0, created.output
    uploader = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login = {"username": "painter", "password": DEFAULT_PASSWORD}
    assert _json(uploader, f"{live_server.url}/api/login", login) == 200

    decoding, may_finish = threading.Event(), threading.Event()
    process_image = service.process_image

    def slow_process_image(*args, **kwargs):
        decoding.set()
        may_finish.wait(timeout=30)
        return process_image(*args, **kwargs)

    monkeypatch.setattr(service, "process_image", slow_process_image)
    statuses: list[int] = []
    upload = threading.Thread(
        target=lambda: statuses.append(
            _multipart(uploader, f"{live_server.url}/api/images", make_image("PNG"))
        )
    )
    upload.start()
    try:
        assert decoding.wait(timeout=30)
        newcomer = {"username": "newcomer", "email": "new@example.com", "password": "pw-long-77x"}
        registered = _json(urllib.request.build_opener(), f"{live_server.url}/api/users", newcomer)
    finally:
        may_finish.set()
        upload.join(timeout=60)

    assert registered == 201
    assert statuses == [201]
