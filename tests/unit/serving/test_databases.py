"""Which PostgreSQL URLs name a cluster Service, and where they point locally."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from bulut.serving.databases import ClusterDatabase, cluster_database, local_url

STAGING = "postgresql+psycopg://orders@orders-db.shop-staging.svc:5432/orders"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (STAGING, ClusterDatabase("shop-staging", "orders-db", "orders", "orders")),
        (
            "postgresql://app:pw@db.shop-prod.svc.cluster.local/sales",
            ClusterDatabase("shop-prod", "db", "sales", "app"),
        ),
        (
            "postgres://orders@orders-db/orders",
            ClusterDatabase("shop", "orders-db", "orders", "orders"),
        ),
        (
            "postgresql://orders-db.shop-prod.svc",
            ClusterDatabase("shop-prod", "orders-db", "postgres", "postgres"),
        ),
    ],
)
def test_a_url_naming_a_cluster_service_is_a_cluster_database(
    url: str, expected: ClusterDatabase
) -> None:
    assert cluster_database(url, "shop") == expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////tmp/orders.db",
        "postgresql://orders@db.example.com/orders",
        "postgresql://orders@localhost/orders",
        "postgresql://orders@10.0.0.7:5432/orders",
        "http://orders-db.shop.svc/",
        "postgresql://orders@/orders?host=/run/postgresql",
        "not a url",
        "",
    ],
)
def test_other_values_are_left_alone(url: str) -> None:
    assert cluster_database(url, "shop") is None


def test_each_namespace_gets_its_own_local_database() -> None:
    staging = cluster_database(STAGING, "x")
    prod = cluster_database(STAGING.replace("shop-staging", "shop-prod"), "x")
    assert staging is not None and prod is not None
    assert staging.local_name == "shop_staging_orders_db_orders"
    assert prod.local_name == "shop_prod_orders_db_orders"


def test_a_long_name_is_cut_to_postgresqls_limit_and_stays_unique() -> None:
    one = ClusterDatabase("n" * 40, "s" * 40, "a", "u").local_name
    two = ClusterDatabase("n" * 40, "s" * 40, "b", "u").local_name
    assert len(one) == len(two) == 63 and one != two


def test_the_local_url_keeps_driver_user_and_query_and_uses_the_socket() -> None:
    database = cluster_database(STAGING + "?connect_timeout=5", "x")
    assert database is not None
    url = make_url(local_url(STAGING + "?connect_timeout=5", database, "/run/pg sock"))
    assert url.drivername == "postgresql+psycopg"
    assert url.username == "orders" and url.host is None and url.port is None
    assert url.database == "shop_staging_orders_db_orders"
    assert url.query == {"connect_timeout": "5", "host": "/run/pg sock"}
