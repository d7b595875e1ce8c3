"""The session store as a logged-in visitor meets it across requests."""

from __future__ import annotations


def test_reads_after_login_neither_rewrite_the_session_nor_resend_its_cookie(
    client, user, assert_max_queries
):
    login = client.post("/api/login", json={"username": user.username, "password": user.password})
    assert login.headers["Set-Cookie"].startswith("storefront_session=")  # the first one
    assert any(c.startswith("storefront_device=") for c in login.headers.getlist("Set-Cookie"))
    client.get("/api/me")  # the first request after login may record activity

    with assert_max_queries(2):  # load the session, then its user_sessions row and user
        answer = client.get("/api/me")

    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers


def test_a_session_cookie_that_is_no_session_id_is_an_anonymous_visitor(client):
    for value in ["\x00", "forged\x00id", "x" * 4000, "not/base64=="]:
        client.set_cookie("storefront_session", value)
        answer = client.get("/api/me")
        assert answer.status_code == 401
        assert answer.is_json
