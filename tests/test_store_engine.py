"""Session settings every PostgreSQL connection of the hub starts with."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hub.store import make_engine

pytestmark = pytest.mark.postgres


def _temp_buffers(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW temp_buffers")).scalar_one())
    finally:
        engine.dispose()


def test_a_postgresql_session_keeps_a_comparisons_temporary_tables_in_memory(postgres_url: str) -> None:
    assert _temp_buffers(postgres_url) == "256MB"


def test_a_url_that_sets_its_own_session_options_keeps_them(postgres_url: str) -> None:
    url = make_url(postgres_url).update_query_dict({"options": "-c temp_buffers=16MB"})
    assert _temp_buffers(url.render_as_string(hide_password=False)) == "16MB"
