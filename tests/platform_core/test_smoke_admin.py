from platform_core.tenancy.models import Store


def test_merchant_admin_sees_only_own_stores(
    client, login_as, merchant_admin, dummy_store, create_store
):
    other = create_store(name="Elsewhere Shop")
    login_as(merchant_admin)
    page = client.get("/admin/store/")
    assert page.status_code == 200
    assert "Kirchberg" in page.text
    assert "Elsewhere Shop" not in page.text
    assert client.get(f"/admin/store/edit/?id={other.id}").status_code == 404
    assert client.get(f"/admin/store/details/?id={dummy_store.id}").status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/store/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_merchant_created_store_belongs_to_merchant(
    client, login_as, merchant_admin, create_merchant, session
):
    other = create_merchant()
    login_as(merchant_admin)
    response = client.post(
        "/admin/store/new/",
        data={
            "merchant": str(other.id),
            "name": "Sneaky",
            "slug": "sneaky",
            "default_locale": "fr",
        },
    )
    # The other merchant is no valid choice: the form refuses it.
    assert response.status_code == 200
    assert session.query(Store).filter_by(slug="sneaky").count() == 0
