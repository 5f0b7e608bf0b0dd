"""The plugin contract: the real tree passes, and each kind of breach is reported."""

import shutil
import subprocess
import sys
from pathlib import Path

from urbanbrain.core import plugins

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_plugins_follow_the_contract():
    manifests = plugins.discover()
    assert "registry" in [m.name for m in manifests]
    assert plugins.check(manifests, tests_root=REPO / "tests") == []


def test_check_plugins_command_passes():
    r = subprocess.run(
        [sys.executable, "-m", "urbanbrain.cli", "check-plugins", "--tests", str(REPO / "tests")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "follow the contract" in r.stdout


def _plugin(root: Path, name: str, manifest: str, files=plugins.REQUIRED_FILES) -> None:
    folder = root / "domains" / name
    folder.mkdir(parents=True)
    (folder / "manifest.toml").write_text(manifest)
    for f in files:
        (folder / f).write_text("")


def test_breaches_are_reported(tmp_path):
    _plugin(tmp_path, "alpha", 'name = "beta"\nversion = "1"\ntitle = { zh = "甲", en = "Alpha" }\n')
    _plugin(
        tmp_path,
        "gamma",
        'name = "gamma"\nversion = "1"\ntitle = { en = "Gamma" }\n'
        'events = ["gamma.thing"]\npermissions = ["other.read"]\ndepends_on = ["nothing"]\n',
        files=("models.py",),
    )
    problems = plugins.check(plugins.discover(tmp_path), tests_root=tmp_path / "tests")
    text = "\n".join(problems)
    assert "differs from its folder" in text
    assert "title needs both zh and en" in text
    assert "api.py is missing" in text
    assert "event 'gamma.thing' must read 'gamma.<noun>.<verb>'" in text
    assert "permission 'other.read' must start with 'gamma.'" in text
    assert "unknown plugin 'nothing'" in text
    assert "has no tests folder" in text


def test_dependency_cycles_are_refused(tmp_path):
    _plugin(
        tmp_path,
        "one",
        'name = "one"\nversion = "1"\ntitle = { zh = "一", en = "One" }\ndepends_on = ["two"]\n',
    )
    _plugin(
        tmp_path,
        "two",
        'name = "two"\nversion = "1"\ntitle = { zh = "二", en = "Two" }\ndepends_on = ["one"]\n',
    )
    problems = plugins.check(plugins.discover(tmp_path))
    assert any("dependency cycle" in p for p in problems)


def test_registry_copy_with_renamed_folder_fails(tmp_path):
    src = Path(plugins.__file__).resolve().parent.parent / "domains" / "registry"
    shutil.copytree(src, tmp_path / "domains" / "registry2")
    problems = plugins.check(plugins.discover(tmp_path))
    assert any("differs from its folder" in p for p in problems)


def _importing_plugin(root: Path, name: str, depends_on: str, source: str, consumes: str = "") -> None:
    _plugin(
        root,
        name,
        f'name = "{name}"\nversion = "1"\ntitle = {{ zh = "测", en = "T" }}\ndepends_on = [{depends_on}]\n'
        f"consumes = [{consumes}]\n",
    )
    (root / "domains" / name / "actions.py").write_text(source)


def test_reach_ins_across_plugins_are_reported_with_file_and_line(tmp_path):
    (tmp_path / "domains" / "other").mkdir(parents=True)
    _importing_plugin(
        tmp_path / "urbanbrain",
        "alpha",
        '"other"',
        "from urbanbrain.domains.other import queries\n"  # public: fine
        "from urbanbrain.domains.other.models import Thing\n"  # a reach-in
        "def f():\n    from urbanbrain.domains.third.actions import go\n"  # not a dependency
        "import urbanbrain.simulate.devices\n",  # a client
    )
    problems = "\n".join(plugins.check(plugins.discover(tmp_path / "urbanbrain")))
    assert "alpha/actions.py:2: reaches into urbanbrain.domains.other.models" in problems
    assert (
        "alpha/actions.py:4: imports urbanbrain.domains.third.actions, but 'third' is not in depends_on"
        in problems
    )
    assert "alpha/actions.py:5: imports urbanbrain.simulate.devices" in problems
    assert "actions.py:1:" not in problems


def test_an_event_consumed_but_declared_by_no_plugin_is_reported(tmp_path):
    _importing_plugin(tmp_path, "beta", "", "", consumes='"nobody.thing.happened"')
    problems = plugins.check(plugins.discover(tmp_path))
    assert any("consumes 'nobody.thing.happened'" in p for p in problems)


def test_the_real_plugins_hand_off_through_events_they_declare():
    manifests = {m.name: m for m in plugins.discover()}
    assert "cases" not in manifests["sensing"].depends_on  # sensing reacts to cases through the bus
    assert "sensing.alarm.raised" in manifests["cases"].raw["consumes"]
    assert "cases.case.registered" in manifests["sensing"].raw["consumes"]
