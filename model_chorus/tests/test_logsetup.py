"""CLI logging: stderr only, quiet by default, text or JSON lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from model_chorus.cli.logsetup import ROOT_LOGGER, _StderrHandler, configure_logging

log = logging.getLogger("model_chorus.providers.middleware.retry")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger(ROOT_LOGGER)
    level = logger.level
    yield
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    logger.setLevel(level)


def test_quiet_by_default_warnings_only_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(0, "text")

    log.info("retrying gemini")
    log.warning("could not record the call")

    out, err = capsys.readouterr()
    assert out == ""
    assert err == "warning providers.middleware.retry: could not record the call\n"


def test_verbose_shows_info_and_very_verbose_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(1, "text")
    log.info("retrying gemini")
    log.debug("hidden")
    assert capsys.readouterr().err == "info providers.middleware.retry: retrying gemini\n"

    configure_logging(2, "text")
    log.debug("now visible")
    assert "debug providers.middleware.retry: now visible" in capsys.readouterr().err


def test_quiet_hides_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(-1, "text")

    log.warning("not shown")
    log.error("shown")

    assert capsys.readouterr().err == "error providers.middleware.retry: shown\n"


def test_json_lines_carry_the_extra_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(1, "json")

    log.info("gemini answered", extra={"provider": "gemini", "correlation_id": "run-1"})

    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    data = json.loads(line)
    assert data["level"] == "info"
    assert data["logger"] == "model_chorus.providers.middleware.retry"
    assert data["message"] == "gemini answered"
    assert (data["provider"], data["correlation_id"]) == ("gemini", "run-1")
    assert "ts" in data


def test_configuring_twice_keeps_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(0, "text")
    configure_logging(0, "json")

    log.warning("once")

    assert len(capsys.readouterr().err.splitlines()) == 1
