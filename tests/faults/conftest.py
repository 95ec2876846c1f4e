"""The PostgreSQL connection-drop tests exist only where there is a PostgreSQL server to drop connections of:
they are collected when QATYSU_TEST_DATABASE_URL points to PostgreSQL."""

from tests.conftest import PG_URL

collect_ignore = [] if PG_URL and PG_URL.startswith("postgresql") else ["test_postgres_drop.py"]
