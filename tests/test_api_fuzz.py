"""Property-based fuzzing of every documented /api route: nothing a client sends is a 500.

schemathesis reads the app's own OpenAPI document and generates requests for each
operation; each is sent logged in as an admin (the role that reaches the most code).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error


def test_no_generated_request_makes_a_server_error(app, db, admin):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case):
            with app.test_client() as client:
                with client.session_transaction() as session:
                    session["user_id"] = admin.id
                cookie = client.get_cookie("storefront_session").value
            response = case.call(headers={"Cookie": f"storefront_session={cookie}"})
            case.validate_response(response, checks=(not_a_server_error,))

        fuzz()
