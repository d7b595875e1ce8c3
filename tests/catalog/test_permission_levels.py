"""Permission levels end to end: an admin's role change is what lets a user manage products."""

from __future__ import annotations

PRODUCT = {"sku": "ROLE-1", "name": "Role mug", "price_cents": 100}


def test_an_admin_promotes_and_demotes_a_catalogue_manager(client, login_as, user, admin):
    login_as(client, user)
    assert client.post("/api/products", json=PRODUCT).status_code == 403

    login_as(client, admin)
    response = client.patch(f"/api/users/{user.id}", json={"role": "staff"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "staff"

    login_as(client, user)
    created = client.post("/api/products", json=PRODUCT)
    assert created.status_code == 201

    login_as(client, admin)
    assert client.patch(f"/api/users/{user.id}", json={"role": "customer"}).status_code == 200
    login_as(client, user)
    product_url = f"/api/products/{created.get_json()['id']}"
    assert client.patch(product_url, json={"stock": 1}).status_code == 403


def test_staff_cannot_change_roles_nor_customers_their_own(client, login_as, user, staff):
    login_as(client, staff)
    # another user's account is not staff's to see: 404, so that it does not leak
    assert client.patch(f"/api/users/{user.id}", json={"role": "admin"}).status_code == 404
    login_as(client, user)
    assert client.patch(f"/api/users/{user.id}", json={"role": "admin"}).status_code == 403
    assert client.get("/api/me").get_json()["role"] == "customer"
