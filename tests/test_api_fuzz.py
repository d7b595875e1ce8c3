"""Property-based fuzzing of every documented /api route: nothing a client sends is a 500,
and every answer is one the OpenAPI document describes, whoever sends it.

schemathesis reads the app's own OpenAPI document and generates requests for each
operation (see api_checks.py). An admin, the role that reaches the most code, sends them
in tests/test_openapi.py; here a visitor who is not logged in and a customer do, who get
the 401s, the 403s and the 404s of records that are not theirs.
"""

from __future__ import annotations

import pytest

from api_checks import check_every_operation, known_records


@pytest.mark.parametrize("role", [None, "customer"])
def test_no_generated_request_makes_a_server_error_or_an_undocumented_answer(
    app, db, admin, user_factory, product_factory, role
):
    known = known_records(app, admin, user_factory, product_factory)
    user_id = None if role is None else user_factory(role=role).id
    check_every_operation(app, db, user_id, known, examples=5)
