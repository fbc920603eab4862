"""Bad settings: each refusal names the environment variable and what it must be."""

from __future__ import annotations

import pytest

from panel.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"send_concurrency": "many"}, "SEND_CONCURRENCY: "),
        ({"send_concurrency": 0}, "SEND_CONCURRENCY: "),
        ({"request_timeout_s": "-3"}, "REQUEST_TIMEOUT_S: "),
        ({"at_least_once": "perhaps"}, "AT_LEAST_ONCE: "),
        (
            {"telegram_api_url": "api.telegram.org"},
            "TELEGRAM_API_URL: must be an http:// or https:// base URL",
        ),
    ],
)
def test_settings_of_the_wrong_type_name_the_variable(overrides: dict[str, object], expected: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(**overrides)
    assert str(error.value).startswith(expected)
    assert "\n" not in str(error.value)
