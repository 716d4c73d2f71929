"""comunicast.yaml: discovery, validation with located errors, ${VAR} interpolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, write

from comunicast.config import find_config, load_config, resolve_env
from comunicast.errors import ConfigError


def test_minimal_config_loads_with_defaults(project: Path) -> None:
    config = load_config()
    assert config.organization.name == "Comune di Cremona"
    assert config.root == project.resolve()
    assert config.state_dir == project.resolve() / ".comunicast"
    assert config.tz.key == "Europe/Rome"
    assert config.render.title is True
    assert config.poster.qr_color == "#000000"
    assert config.sender_names == ["console"]


def test_discovery_walks_up_from_a_subfolder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = project / "messages" / "2026"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert find_config() == (project / "comunicast.yaml").resolve()
    assert load_config().root == project.resolve()


def test_env_var_and_state_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "elsewhere" / "comunicast.yaml", MINIMAL_CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMUNICAST_CONFIG", str(cfg))
    monkeypatch.setenv("COMUNICAST_STATE_DIR", str(tmp_path / "state"))
    config = load_config()
    assert config.path == cfg.resolve()
    assert config.state_dir == tmp_path / "state"


def test_no_config_anywhere_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "comunicast.yaml" in str(err.value)
    assert err.value.exit_code == 3
    assert "comunicast init" in (err.value.hint or "")


def test_missing_explicit_config_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml does not exist"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("extra", "needle", "line", "column"),
    [
        ("colour: red\n", "unknown key 'colour'", 14, 1),
        ("links2:\n  allowed_domain: [x.it]\n", "unknown key 'links2'", 14, 1),
        ("language: fr\n", "'language'", 14, 11),
        ("timezone2: x\n", "unknown key 'timezone2'", 14, 1),
    ],
)
def test_bad_keys_are_located(
    tmp_path: Path, extra: str, needle: str, line: int, column: int
) -> None:
    text = MINIMAL_CONFIG.replace("timezone: Europe/Rome\n", "") + extra
    cfg = write(tmp_path / "comunicast.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    message = str(err.value)
    assert needle in message
    assert f"{cfg}:{line}:{column}" in message


def test_unknown_key_lists_the_expected_ones(tmp_path: Path) -> None:
    cfg = write(tmp_path / "comunicast.yaml", MINIMAL_CONFIG + "rendr:\n  title: false\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "expected one of" in str(err.value) and "render" in str(err.value)


def test_wrong_type_and_bad_timezone_and_colour(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG.replace("Europe/Rome", "Europe/Cremona") + (
        "render:\n  title: maybe\nposter:\n  qr_color: black\n"
    )
    cfg = write(tmp_path / "comunicast.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    message = str(err.value)
    assert "unknown time zone 'Europe/Cremona'" in message
    assert "render.title" in message
    assert "#RRGGBB" in message
    assert f"{cfg}:6:11" in message  # the timezone value


def test_missing_required_section(tmp_path: Path) -> None:
    cfg = write(tmp_path / "comunicast.yaml", "organization:\n  name: X\n")
    with pytest.raises(ConfigError, match="missing required key 'channel'"):
        load_config(cfg)


def test_broken_yaml_is_located(tmp_path: Path) -> None:
    cfg = write(tmp_path / "comunicast.yaml", MINIMAL_CONFIG + "senders: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert str(err.value).startswith(f"{cfg}:")
    assert "invalid YAML" in str(err.value)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    cfg = write(tmp_path / "comunicast.yaml", MINIMAL_CONFIG + "timezone: Europe/Paris\n")
    with pytest.raises(ConfigError, match="duplicate key 'timezone'"):
        load_config(cfg)


def test_rules_severity_off_unquoted_is_accepted(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "comunicast.yaml",
        MINIMAL_CONFIG
        + "rules:\n  links.count: {severity: off}\n  style.readability: {severity: warning, "
        "min_gulpease: 55}\n  length.title: off\n",
    )
    config = load_config(cfg)
    assert config.rules["links.count"].severity == "off"
    assert config.rules["length.title"].severity == "off"
    assert config.rules["style.readability"].options == {"min_gulpease": 55}


def test_default_senders_must_exist(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "comunicast.yaml", MINIMAL_CONFIG.replace("[console]", "[console, telegram]")
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "unknown sender 'telegram'" in str(err.value)
    assert err.value.line == 14


def test_env_interpolation_is_lazy_and_names_the_variable(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "comunicast.yaml",
        MINIMAL_CONFIG.replace(
            "default_senders:",
            "  wa:\n    adapter: waha\n    api_key: ${WAHA_TEST_KEY_UNSET}\ndefault_senders:",
        ),
    )
    config = load_config(cfg)  # not used yet: no error
    raw = config.senders["wa"].options["api_key"]
    assert raw == "${WAHA_TEST_KEY_UNSET}"
    with pytest.raises(ConfigError) as err:
        resolve_env(raw, where="senders.wa.api_key", environ={})
    assert "WAHA_TEST_KEY_UNSET" in str(err.value)
    assert "senders.wa.api_key" in str(err.value)
    assert resolve_env(raw, where="x", environ={"WAHA_TEST_KEY_UNSET": "k"}) == "k"
    assert resolve_env("a-${A}-${B}", where="x", environ={"A": "1", "B": "2"}) == "a-1-2"


def test_not_utf8_config(tmp_path: Path) -> None:
    cfg = tmp_path / "comunicast.yaml"
    cfg.write_bytes(MINIMAL_CONFIG.encode() + b"# caf\xe8\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "UTF-8" in str(err.value) and ":15" in str(err.value)


def test_object_constructing_tag_refused(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "comunicast.yaml",
        MINIMAL_CONFIG + "poster:\n  title: !!python/object/apply:os.system ['true']\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "unsupported YAML tag" in str(err.value) and ":16:" in str(err.value)
