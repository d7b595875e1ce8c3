"""The account pages, driven through the test client with real CSRF tokens."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from .helpers import PASSWORD, login


def _post(client, url, csrf_token, form_url=None, **data):
    token = csrf_token(client, form_url or url)
    return client.post(url, data={**data, "csrf_token": token})


def _page_login(client, csrf_token, username, password):
    return _post(client, "/login", csrf_token, username=username, password=password)


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_register_confirm_and_log_in_through_the_pages(client, mail_outbox, csrf_token):
    registered = _post(
        client,
        "/register",
        csrf_token,
        username="pia",
        email="pia@example.com",
        password=PASSWORD,
        password_repeat=PASSWORD,
    )
    assert registered.status_code == 303
    assert registered.headers["Location"].endswith("/login")
    assert "pia@example.com" in client.get("/login").get_data(as_text=True)

    link = mail_outbox.link_in(mail_outbox.last_to("pia@example.com"), "/confirm/")
    confirmed = client.get(_path(link))
    assert confirmed.status_code == 200
    assert "Your email address is confirmed" in confirmed.get_data(as_text=True)

    logged_in = _page_login(client, csrf_token, "pia", PASSWORD)
    assert logged_in.status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "Logged in as <strong>pia</strong>" in page
    assert "(this session)" in page


def test_a_form_post_without_a_csrf_token_is_refused(client, user):
    response = client.post("/login", data={"username": user.username, "password": user.password})

    assert response.status_code == 400
    assert client.get("/api/me").status_code == 401


def test_a_login_form_expired_by_a_login_in_another_tab_is_shown_again_fresh(
    app, client, csrf_token, user
):
    """Tab A shows the login form; tab B logs in, which replaces the session A's token
    was made for. A's post is refused, and A is shown a working form, the name kept."""
    stale = csrf_token(client, "/login")
    assert _page_login(client, csrf_token, user.username, user.password).status_code == 303
    logged_out = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert logged_out.status_code == 303

    refused = client.post(
        "/login", data={"username": user.username, "password": user.password, "csrf_token": stale}
    )

    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "This form had expired (did you log in or out in another tab?)" in page
    assert f'value="{user.username}"' in page
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    again = {"username": user.username, "password": user.password, "csrf_token": fresh}
    assert client.post("/login", data=again).status_code == 303


def test_a_login_form_sent_after_logging_in_in_another_tab_goes_on_where_it_led(
    client, csrf_token, user
):
    stale = csrf_token(client, "/login?next=/orders")
    assert _page_login(client, csrf_token, user.username, user.password).status_code == 303

    again = client.post(
        "/login?next=/orders",
        data={"username": user.username, "password": user.password, "csrf_token": stale},
    )

    assert again.status_code == 303
    assert again.headers["Location"] == "/orders"
    assert "You are logged in already." in client.get("/orders").get_data(as_text=True)


def test_register_page_shows_field_errors(client, mail_outbox, csrf_token):
    weak = _post(
        client,
        "/register",
        csrf_token,
        username="quin",
        email="quin@example.com",
        password="letmein123",
        password_repeat="letmein123",
    )
    assert weak.status_code == 400
    assert "Password is too common" in weak.get_data(as_text=True)

    mismatch = _post(
        client,
        "/register",
        csrf_token,
        username="quin",
        email="quin@example.com",
        password=PASSWORD,
        password_repeat=PASSWORD + "x",
    )
    assert mismatch.status_code == 400
    assert "The two passwords differ." in mismatch.get_data(as_text=True)
    assert mail_outbox.messages == []


@pytest.mark.parametrize(
    ("username", "email", "said"),
    [
        # a username ending in a newline
        ("quin\n", "quin@example.com", "Letters, digits, dot, dash and underscore."),
        # an address a mail header would decode into another
        ("quin", "=?utf-8?q?evil?=@example.com", "Mail would not reach this address"),
    ],
)
def test_register_page_refuses_what_the_api_refuses(
    client, mail_outbox, csrf_token, username, email, said
):
    response = _post(
        client,
        "/register",
        csrf_token,
        username=username,
        email=email,
        password=PASSWORD,
        password_repeat=PASSWORD,
    )

    assert response.status_code == 400
    assert said in response.get_data(as_text=True)
    assert mail_outbox.messages == []


def test_register_page_reports_a_taken_username(client, mail_outbox, csrf_token, user):
    response = _post(
        client,
        "/register",
        csrf_token,
        username=user.username,
        email="else@example.com",
        password=PASSWORD,
        password_repeat=PASSWORD,
    )

    assert response.status_code == 400
    assert "Username already taken." in response.get_data(as_text=True)


def test_login_page_tells_an_unconfirmed_user_how_to_resend(client, csrf_token, user_factory):
    pending = user_factory(confirmed=False)

    response = _page_login(client, csrf_token, pending.username, pending.password)

    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "not confirmed yet" in body
    assert 'href="/confirm/resend"' in body


def test_login_page_refuses_wrong_credentials(client, csrf_token, user):
    response = _page_login(client, csrf_token, user.username, "wrong-password-000")

    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_login_page_ignores_spaces_around_the_name_as_around_the_email(client, csrf_token, user):
    """A phone keyboard's autocomplete leaves a space after the name; no name holds one."""
    for name in (f" {user.username} ", f"{user.email} "):
        assert _page_login(client, csrf_token, name, user.password).status_code == 303, name


def test_resend_page_mails_a_new_link(client, mail_outbox, csrf_token, user_factory):
    pending = user_factory(confirmed=False)

    response = _post(client, "/confirm/resend", csrf_token, email=pending.email)

    assert response.status_code == 303
    token = mail_outbox.last_token(pending.email, "/confirm/")
    assert client.get(f"/confirm/{token}").status_code == 200


def test_a_confirmation_link_opened_first_by_a_mail_scanner_still_confirms_for_its_owner(
    client, mail_outbox, csrf_token
):
    """Scanners fetch every link of a mail (HEAD or GET) before its reader clicks it."""
    register = {"username": "pia", "email": "pia@example.com", "password": PASSWORD}
    assert client.post("/api/users", json=register).status_code == 201
    path = _path(mail_outbox.link_in(mail_outbox.last_to("pia@example.com"), "/confirm/"))
    login = {"username": "pia", "password": PASSWORD}

    assert client.head(path).status_code == 200
    assert client.post("/api/login", json=login).status_code == 403  # a HEAD changed nothing
    assert client.get(path).status_code == 200  # the scanner's GET confirms
    clicked = client.get(path)  # then the owner's click

    assert clicked.status_code == 200
    assert "Your email address is confirmed" in clicked.get_data(as_text=True)
    assert clicked.headers["Cache-Control"] == "no-store"
    assert "log in</a> now" in clicked.get_data(as_text=True)
    assert client.post("/api/login", json=login).status_code == 200
    reopened = client.get(path).get_data(as_text=True)  # once logged in: no login offered
    assert "Your email address is confirmed" in reopened and "log in</a> now" not in reopened


def test_a_bad_confirmation_link_says_so(client):
    assert client.head("/confirm/nonsense").status_code == 400  # as its GET, for link checkers
    response = client.get("/confirm/nonsense")

    assert response.status_code == 400
    assert "This link is invalid." in response.get_data(as_text=True)


def test_logout_page_asks_then_logs_out_on_post(client, csrf_token, user):
    _page_login(client, csrf_token, user.username, user.password)
    assert client.get("/logout").status_code == 200
    assert client.get("/api/me").status_code == 200

    assert _post(client, "/logout", csrf_token).status_code == 303
    assert client.get("/api/me").status_code == 401


def test_a_logout_button_left_in_a_tab_already_logged_out_just_says_so(client, csrf_token, user):
    _page_login(client, csrf_token, user.username, user.password)
    stale = csrf_token(client, "/account")
    assert _post(client, "/logout", csrf_token, form_url="/account").status_code == 303

    response = client.post("/logout", data={"csrf_token": stale})

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "You are logged out." in client.get("/").get_data(as_text=True)


def test_a_logout_without_its_token_leaves_a_logged_in_user_logged_in(client, csrf_token, user):
    _page_login(client, csrf_token, user.username, user.password)

    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/api/me").status_code == 200


def test_the_logout_page_of_a_visitor_offers_to_log_in_not_out(client):
    page = client.get("/logout").get_data(as_text=True)

    assert "You are not logged in." in page
    assert "Log out now" not in page


def test_reset_through_the_pages_ends_old_sessions(app, client, mail_outbox, csrf_token, user):
    phone = app.test_client()
    login(phone, user.username, user.password)

    requested = _post(client, "/reset", csrf_token, email=user.email)
    assert requested.status_code == 303
    assert "reset link is on its way" in client.get("/reset").get_data(as_text=True)
    reset_path = _path(mail_outbox.link_in(mail_outbox.last_to(user.email), "/reset/"))
    assert client.get(reset_path).status_code == 200

    done = _post(
        client,
        reset_path,
        csrf_token,
        password="granite-sparrow-meadow",
        password_repeat="granite-sparrow-meadow",
    )

    assert done.status_code == 303
    assert phone.get("/api/me").status_code == 401
    assert login(client, user.username, "granite-sparrow-meadow").status_code == 200
    assert client.get(reset_path).status_code == 400


def test_a_reset_done_while_logged_in_logs_out_and_says_so(client, mail_outbox, csrf_token, user):
    login(client, user.username, user.password)
    _post(client, "/reset", csrf_token, email=user.email)
    reset_path = _path(mail_outbox.link_in(mail_outbox.last_to(user.email), "/reset/"))
    new = {"password": "granite-sparrow-meadow", "password_repeat": "granite-sparrow-meadow"}

    done = _post(client, reset_path, csrf_token, **new)

    assert done.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Your password has been changed. Log in with the new one." in page
    assert client.get("/api/me").status_code == 401


def test_reset_page_answers_the_same_for_unknown_addresses(client, mail_outbox, csrf_token, user):
    known = _post(client, "/reset", csrf_token, email=user.email)
    unknown = _post(client, "/reset", csrf_token, email="ghost@example.com")

    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]


def test_account_page_changes_the_password_and_ends_other_sessions(app, client, csrf_token, user):
    phone = app.test_client()
    login(phone, user.username, user.password, **{"User-Agent": "Phone/2.0"})
    _page_login(client, csrf_token, user.username, user.password)
    assert "Phone/2.0" in client.get("/account").get_data(as_text=True)

    changed = _post(
        client,
        "/account/password",
        csrf_token,
        form_url="/account",
        current_password=user.password,
        password="copper-kettle-lighthouse",
        password_repeat="copper-kettle-lighthouse",
    )

    assert changed.status_code == 303
    assert phone.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 200
    assert "Phone/2.0" not in client.get("/account").get_data(as_text=True)


def test_account_page_refuses_a_wrong_current_password(client, csrf_token, user, login_as):
    login_as(client, user)

    response = _post(
        client,
        "/account/password",
        csrf_token,
        form_url="/account",
        current_password="not-my-password",
        password="copper-kettle-lighthouse",
        password_repeat="copper-kettle-lighthouse",
    )

    assert response.status_code == 400
    assert "Current password does not match your password." in response.get_data(as_text=True)


def test_account_page_signs_out_one_or_all_other_sessions(app, client, csrf_token, user):
    phone, tablet = app.test_client(), app.test_client()
    login(phone, user.username, user.password, **{"User-Agent": "Phone/2.0"})
    login(tablet, user.username, user.password, **{"User-Agent": "Tablet/3.0"})
    _page_login(client, csrf_token, user.username, user.password)
    phone_id = next(s["id"] for s in phone.get("/api/me/sessions").json if s["current"])

    one = _post(client, f"/account/sessions/{phone_id}/end", csrf_token, form_url="/account")
    assert one.status_code == 303
    assert phone.get("/api/me").status_code == 401
    assert tablet.get("/api/me").status_code == 200
    again = _post(client, f"/account/sessions/{phone_id}/end", csrf_token, form_url="/account")
    assert again.headers["Location"] == "/account"  # a second tab's stale button
    assert "That session was already signed out." in client.get("/account").get_data(as_text=True)

    others = _post(client, "/account/sessions/end-others", csrf_token, form_url="/account")
    assert others.status_code == 303
    assert tablet.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 200


def test_the_account_page_ends_only_its_own_users_sessions(
    app, client, csrf_token, user, user_factory
):
    stranger = app.test_client()
    other = user_factory()
    login(stranger, other.username, other.password)
    [theirs] = stranger.get("/api/me/sessions").json
    _page_login(client, csrf_token, user.username, user.password)
    [mine] = client.get("/api/me/sessions").json

    refused = _post(client, f"/account/sessions/{theirs['id']}/end", csrf_token, "/account")
    ended = _post(client, f"/account/sessions/{mine['id']}/end", csrf_token, "/account")

    assert refused.headers["Location"] == "/account"  # as for one ended already: no tell
    assert stranger.get("/api/me").status_code == 200
    assert ended.status_code == 303 and ended.headers["Location"] == "/"  # signed out here
    assert client.get("/api/me").status_code == 401
    assert "You are logged out." in client.get("/").get_data(as_text=True)


def test_account_page_changes_the_email(client, csrf_token, user, login_as):
    login_as(client, user)

    response = _post(
        client, "/account/email", csrf_token, form_url="/account", email="n@example.com"
    )

    assert response.status_code == 303
    assert client.get("/api/me").json["email"] == "n@example.com"


def test_account_page_saving_the_same_email_says_nothing_changed(
    client, csrf_token, user, login_as, mail_outbox
):
    login_as(client, user)

    response = _post(
        client, "/account/email", csrf_token, form_url="/account", email=user.email.upper()
    )

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "That is already your email address: nothing changed." in page
    assert "has been changed" not in page
    assert mail_outbox.messages == []


def test_each_sessions_sign_out_button_says_which_session(client, csrf_token, user, login_as):
    login_as(client, user)
    client.get("/api/me")

    page = client.get("/account").get_data(as_text=True)

    assert re.search(r"Sign out<span class=\"visually-hidden\"> the session started \d{4}-", page)


def test_account_page_sends_anonymous_visitors_to_login_and_back(client):
    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"


def test_login_page_returns_to_the_page_that_asked_for_it(client, csrf_token, user):
    assert client.get("/orders").headers["Location"] == "/login?next=/orders"
    token = csrf_token(client, "/login?next=/orders")
    data = {"csrf_token": token, "username": user.username, "password": user.password}

    response = client.post("/login?next=/orders", data=data)

    assert response.status_code == 303
    assert response.headers["Location"] == "/orders"


def test_login_page_never_sends_anyone_off_site(client, csrf_token, user):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        token = csrf_token(client, "/login")
        data = {"csrf_token": token, "username": user.username, "password": user.password}
        response = client.post(f"/login?next={target}", data=data)
        assert response.headers["Location"] == "/", target
        client.post("/api/logout")


@pytest.mark.parametrize(
    "target", ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\x00/evil.example"]
)
def test_login_page_sends_no_one_off_site_through_control_characters(
    client, csrf_token, user, target
):
    """Browsers drop tabs and newlines from a `Location`, so `/<TAB>/evil` is `//evil`."""
    token = csrf_token(client, "/login")
    data = {"csrf_token": token, "username": user.username, "password": user.password}

    response = client.post(f"/login?next={quote(target, safe='')}", data=data)

    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("form", ["email", "password"])
def test_the_address_a_refused_account_form_is_shown_at_leads_back_to_the_account(
    client, user, login_as, form
):
    login_as(client, user)

    response = client.get(f"/account/{form}", follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/account"


def test_every_page_choosing_a_password_states_the_rules(app, client, mail_outbox, user, login_as):
    client.post("/api/password-reset", json={"email": user.email})
    reset_page = _path(mail_outbox.link_in(mail_outbox.last_to(user.email), "/reset/"))
    account = app.test_client()
    login_as(account, user)

    pages = [client.get("/register"), client.get(reset_page), account.get("/account")]

    rules = "At least 10 characters; not your username or email, and not a well-known password."
    assert [rules in page.get_data(as_text=True) for page in pages] == [True] * 3


def test_a_password_of_spaces_on_the_register_page_is_told_what_is_wrong(client, csrf_token):
    """Not "This field is required.": it was typed, and the policy says why it is refused."""
    spaces = " " * 12
    response = _post(
        client,
        "/register",
        csrf_token,
        username="spacey",
        email="spacey@example.com",
        password=spaces,
        password_repeat=spaces,
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "must not be only whitespace or invisible characters" in page
    assert "This field is required." not in page


@pytest.mark.parametrize(
    ("path", "autocomplete"),
    [
        ("/login", ["username", "current-password"]),
        ("/register", ["username", "email", "new-password", "new-password"]),
        ("/reset", ["email"]),
        ("/form", ["name", "email"]),
    ],
)
def test_forms_tell_password_managers_what_each_field_is(client, path, autocomplete):
    html = client.get(path).get_data(as_text=True)

    assert re.findall(r'autocomplete="([^"]+)"', html) == autocomplete


def test_the_account_page_tells_the_current_password_from_the_new(client, user, login_as):
    login_as(client, user)

    html = client.get("/account").get_data(as_text=True)

    assert re.findall(r'autocomplete="([^"]+)"', html) == [
        "email",
        "current-password",
        "new-password",
        "new-password",
    ]


def test_a_refused_form_lists_its_problems_above_it_linking_each_field(client, csrf_token):
    """The page reloads at its top: errors beside fields further down went unseen."""
    response = _post(
        client,
        "/register",
        csrf_token,
        username="x",
        email="not-an-email",
        password=PASSWORD,
        password_repeat=PASSWORD + "!",
    )

    page = response.get_data(as_text=True)
    summary = page[page.index('error-summary" role="alert"') : page.index("<form")]
    assert 'role="alert"' in summary and "Please correct these:" in summary
    assert re.findall(r'href="#([a-z_]+)"', summary) == ["username", "email", "password_repeat"]


def test_a_form_shown_first_has_no_list_of_problems(client):
    assert "error-summary" not in client.get("/register").get_data(as_text=True)


def test_a_refusal_naming_its_field_is_listed_without_the_name_twice(client, csrf_token, user):
    response = _post(
        client,
        "/register",
        csrf_token,
        username=user.username,
        email="another@example.com",
        password=PASSWORD,
        password_repeat=PASSWORD,
    )

    page = response.get_data(as_text=True)
    summary = page[page.index('error-summary" role="alert"') : page.index("<form")]
    [listed] = re.findall(r'<a href="#username">([^<]+)</a>', summary)
    assert not listed.startswith("Username: Username")
    assert listed in page[page.index('id="username-error"') :]
