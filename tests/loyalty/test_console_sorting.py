"""Every sortable column of the loyalty lists sorts without error, for every role."""

from __future__ import annotations

import pytest

from tests.loyalty.console_world import World, build_world


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


@pytest.mark.parametrize(
    "url", ["/admin/loyaltycard/", "/admin/loyaltytransaction/", "/admin/loyaltyprogram/"]
)
@pytest.mark.parametrize("who", ["platform_admin", "merchant_admin", "store_staff"])
def test_each_column_sorts(client, login_as, request, who, url, world: World):
    login_as(request.getfixturevalue(who))
    for index in range(10):
        response = client.get(url, query_string={"sort": str(index), "desc": "1"})
        assert response.status_code == 200, index
        if who != "platform_admin":
            assert "Rouge" not in response.text
