"""`dash alerts test` as an operator runs it: a real `dash` process, a real HTTP server.

The sinks point at a local server standing in for Telegram and a webhook receiver; the
server may echo the URL and token back in an error body, as real services do, and none of
it may reach the terminal unmasked.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.alerts._http import FakeService, Reply
from tests.alerts._samples import TOKEN
from tests.cli._procs import dash, isolated_env

HOOK_PATH = "/hook/k3y-0f-the-pager-endpoint-5f2c9"


def _config(path: Path, base_url: str, *, pager_enabled: bool = True, run: bool = True) -> Path:
    """A `dash run --config` file (or, without ``run``, a client config) with two sinks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = '[strategy]\nid = "funding-arb"\n' if run else "timeout = 5.0\n"
    path.write_text(
        head
        + f"""
[alerts]
timeout_s = 5

[[alerts.sinks]]
name = "desk"
kind = "telegram"
token_env = "DASH_TEST_TELEGRAM_TOKEN"
chat_id = "-1001234567890"
base_url = "{base_url}"

[[alerts.sinks]]
name = "pager"
kind = "webhook"
url = "{base_url}{HOOK_PATH}"
enabled = {str(pager_enabled).lower()}
"""
    )
    return path


def _secrets_hidden(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and HOOK_PATH not in text and "k3y-0f-the-pager" not in text


def test_every_sink_answers_ok(service: FakeService, tmp_path: Path) -> None:
    service.default = Reply.json(200, {"ok": True, "result": {}})
    config = _config(tmp_path / "run.toml", service.base_url)
    env = isolated_env(tmp_path, DASH_TEST_TELEGRAM_TOKEN=TOKEN)

    done = dash("alerts", "test", "--config", str(config), env=env)

    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ["desk: ok (HTTP 200)", "pager: ok (HTTP 200)"]
    by_path = {r.path: r.json() for r in service.requests}
    assert set(by_path) == {f"/bot{TOKEN}/sendMessage", HOOK_PATH}
    assert "sink desk is configured correctly" in by_path[f"/bot{TOKEN}/sendMessage"]["text"]
    assert by_path[HOOK_PATH]["kind"] == "test"
    _secrets_hidden(done.stdout, done.stderr)


def test_a_failing_sink_exits_1_with_its_status_and_secrets_masked(
    service: FakeService, tmp_path: Path
) -> None:
    # The service quotes the URL it was called on and the token, as some proxies do.
    service.default = Reply(500, f"upstream broke on {HOOK_PATH} for bot{TOKEN}".encode())
    config = _config(tmp_path / "run.toml", service.base_url)
    env = isolated_env(tmp_path, DASH_TEST_TELEGRAM_TOKEN=TOKEN)

    done = dash("alerts", "test", "--config", str(config), "--sink", "pager", env=env)

    assert done.returncode == 1, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("pager: FAILED (HTTP 500): HTTP 500: upstream broke on ***")
    assert len(service.requests) == 1 and service.requests[0].path == HOOK_PATH  # no retry
    _secrets_hidden(done.stdout, done.stderr)

    as_json = dash("alerts", "test", "--config", str(config), "--json", env=env)
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["config"] == str(config)
    outcomes = {s["sink"]: (s["ok"], s["http_status"]) for s in report["sinks"]}
    assert outcomes == {"desk": (False, 500), "pager": (False, 500)}
    assert all("***" in s["error"] for s in report["sinks"])
    _secrets_hidden(as_json.stdout, as_json.stderr)


def test_the_default_config_file_and_usage_errors(service: FakeService, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, DASH_TEST_TELEGRAM_TOKEN=TOKEN)
    missing = dash("alerts", "test", env=env)
    assert missing.returncode == 2 and "no config file at" in missing.stderr

    # The client config may hold [alerts]; the other commands must still accept the file.
    _config(tmp_path / "config" / "dash" / "config.toml", service.base_url, run=False)
    service.default = Reply.json(200, {"ok": True})
    done = dash("alerts", "test", "--sink", "desk", env=env)
    assert (done.returncode, done.stdout) == (0, "desk: ok (HTTP 200)\n"), done.stderr
    assert dash("ls", env=env).returncode == 0

    unknown = dash("alerts", "test", "--sink", "nope", env=env)
    assert unknown.returncode == 2 and "no alert sink named 'nope'" in unknown.stderr
    no_token = dash("alerts", "test", env=isolated_env(tmp_path))
    assert no_token.returncode == 2
    assert "DASH_TEST_TELEGRAM_TOKEN is not set" in no_token.stderr
    disabled = _config(tmp_path / "off.toml", service.base_url, pager_enabled=False)
    off = dash("alerts", "test", "--config", str(disabled), "--sink", "pager", env=env)
    assert off.returncode == 2 and "disabled" in off.stderr
    bare = tmp_path / "bare.toml"
    bare.write_text('[strategy]\nid = "x"\n')
    assert dash("alerts", "test", "--config", str(bare), env=env).returncode == 2
    assert len(service.requests) == 1  # only the one successful test sent anything
    _secrets_hidden(missing.stderr, unknown.stderr, no_token.stderr, off.stderr)
