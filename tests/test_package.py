"""The toolkit installs one import package, ``enforcement_grid``, and nothing else at top level.

A planner's notebook with its own ``report.py`` beside it must not shadow the toolkit, and the
toolkit must not shadow other distributions called ``report`` or ``sim``.  These tests run in a
fresh interpreter started in an empty folder (``-P``: the working folder is not on the path),
so they see what the installation gives, not the repository checkout.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

OLD_TOP_LEVEL = ("sim", "optimize", "report", "egrid")


def _python(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", OLD_TOP_LEVEL)
def test_old_top_level_names_are_not_installed(tmp_path, name):
    proc = _python(f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({name!r}) is None else 1)",
                   tmp_path)
    assert proc.returncode == 0, f"`import {name}` works outside the repository: the old top-level package is back"


def test_the_one_package_imports_outside_the_repository(tmp_path):
    proc = _python("import enforcement_grid.sim, enforcement_grid.optimize, enforcement_grid.report, "
                   "enforcement_grid.cli.cli; print(enforcement_grid.__version__)", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == metadata.version("enforcement-grid")


def test_a_users_own_report_module_does_not_shadow_the_toolkit(tmp_path):
    (tmp_path / "report.py").write_text("raise SystemExit('the user module was imported')\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", "from enforcement_grid.report import write_report; print('ok')"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_the_distribution_declares_only_enforcement_grid():
    dist = metadata.distribution("enforcement-grid")
    scripts = [ep for ep in dist.entry_points if ep.group == "console_scripts"]
    assert [(ep.name, ep.value.split(".")[0]) for ep in scripts] == [("egrid", "enforcement_grid")]
