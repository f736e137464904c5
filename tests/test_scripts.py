"""The story scripts of scenarios/: each one runs as a planner would run it, on a short horizon.

Every script is started in its own process with ``--days 20 --replications 2
--workers 1`` and a temporary ``--out`` folder (all six at once, so the module
takes about as long as the slowest two); each must exit 0, write its run folders
and report(s) with their charts, and print its summary with 95 % intervals.
A user mistake (a bad ``--days``) is a message and exit status 2.

The last tests read the scripts and notebooks as code: they may use the public
API only — no name starting with "_" imported from sim, optimize or report.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHORT = ["--days", "20", "--replications", "2", "--workers", "1"]
HELPER = "story.py"  # shared by the scripts, not a story itself

# script → extra options (each story on a short horizon; the campaign moved inside it)
SCRIPTS = {
    "before_after.py": ["--lang", "both"],
    "phased_delegation.py": ["--lang", "en"],
    "merged_vs_separate_grids.py": ["--lang", "en"],
    "campaign.py": ["--lang", "en", "--start-day", "5"],
    "certification_transition.py": ["--lang", "en", "--pass-rates", "0.7", "0.95"],
    "optimised_vs_proportional.py": ["--lang", "en"],
}
# report folders each script writes under --out (for --lang en; before_after also writes zh)
REPORTS = {
    "before_after.py": ["report-zh", "report-en"],
    "phased_delegation.py": ["report-phase1-en", "report-en"],
    "merged_vs_separate_grids.py": ["report-en"],
    "campaign.py": ["report-en"],
    "certification_transition.py": ["report-en"],
    "optimised_vs_proportional.py": ["report-en"],
}
PUBLIC_PACKAGES = ("enforcement_grid",)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["MPLBACKEND"] = "Agg"
    return e


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Start every script at once; wait for all.  script → (returncode, stdout, stderr, out folder)."""
    base = tmp_path_factory.mktemp("stories")
    procs = {}
    for script, extra in SCRIPTS.items():
        out = base / Path(script).stem
        cmd = [sys.executable, str(SCENARIOS / script), *SHORT, "--out", str(out), *extra]
        procs[script] = (subprocess.Popen(cmd, cwd=base, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True), out)
    done = {}
    for script, (p, out) in procs.items():
        stdout, stderr = p.communicate(timeout=600)
        done[script] = (p.returncode, stdout, stderr, out)
    return done


def test_every_script_is_tested():
    found = sorted(p.name for p in SCENARIOS.glob("*.py"))
    assert found == sorted([*SCRIPTS, HELPER])


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_script_runs_and_writes_its_report(results, script):
    code, stdout, stderr, out = results[script]
    assert code == 0, f"{script} exited {code}\n{stderr[-3000:]}"
    # the summary a planner reads: a heading, differences with their intervals, plain words
    assert "\nSummary: " in stdout
    assert "In plain words:" in stdout
    assert "95 % CI" in stdout
    assert "Reports: " in stdout
    for name in REPORTS[script]:
        folder = out / name
        page = (folder / "report.html").read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
        assert (folder / "report.xlsx").is_file()
        pngs = sorted((folder / "charts").glob("*.png"))
        assert pngs and all(p.with_suffix(".svg").is_file() for p in pngs)
        assert (folder / "charts" / "coverage_by_town.png").is_file()
        assert str(folder / "report.html") in stdout


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s != "certification_transition.py"])
def test_paired_comparison_is_written(results, script):
    """Runs on the same seed: the comparison is paired, and both plans saw the same violations."""
    _, _, _, out = results[script]
    tables = sorted(out.glob("comparison*.csv"))
    assert tables
    for path in tables:
        t = pd.read_csv(path)
        assert set(t["method"]) == {"paired"}
        v = t[(t["scope"] == "county") & (t["metric"] == "violations_per_year")]
        assert (v["diff"] == 0).all()


def test_run_folders_are_written(results):
    _, _, _, out = results["before_after.py"]
    for name in ("before", "after"):
        meta = json.loads((out / name / "scenario.json").read_text(encoding="utf-8"))
        assert meta["settings"]["scenario"]["horizon_days"] == 20
        assert meta["replications"] == [0, 1]
        assert (out / name / "records.csv.gz").is_file()
    # the lever table is kept with the after run, and its reports show which settings carry the effect
    assert (out / "after" / "levers.csv").is_file()
    for lang, heading in (("zh", "改革效果来自哪些设置"), ("en", "Which settings carry the effect")):
        page = (out / f"report-{lang}" / "report.html").read_text(encoding="utf-8")
        assert 'id="levers"' in page and heading in page and 'class="conclusion"' in page


def test_campaign_story(results):
    _, stdout, _, out = results["campaign.py"]
    assert (out / "report-en" / "charts" / "campaign.png").is_file()
    page = (out / "report-en" / "report.html").read_text(encoding="utf-8")
    assert 'id="chart-campaign"' in page
    assert "When the campaign starts (day 5)" in stdout
    assert "The campaign finds" in stdout


def test_certification_story(results):
    _, stdout, _, out = results["certification_transition.py"]
    assert (out / "charts" / "certified_teams-en.png").is_file()
    months = pd.read_csv(out / "certified_by_month.csv")
    assert sorted(months["pass_rate"].unique()) == [0.7, 0.85, 0.95]
    assert set(months["measure"]) == {"teams", "certified"}
    assert not (out / "transition" / "records.csv.gz").exists()  # records off, as the scenario says
    for rate in ("70%", "85%", "95%"):
        assert f"pass rate {rate}:" in stdout
    assert "before the first exam sitting" in stdout  # 20 days: honest about what a short run shows


def test_optimised_story_writes_plans_that_run(results):
    _, stdout, _, out = results["optimised_vs_proportional.py"]
    for plan in ("optimised", "proportional"):
        folder = out / "plans" / plan
        for name in ("allocation.csv", "staffing.csv", "patrol.csv", "scenario.toml"):
            assert (folder / name).is_file(), name
        alloc = pd.read_csv(folder / "allocation.csv")
        assert alloc["posts"].sum() == 357
    from enforcement_grid.sim import load_scenario

    sc = load_scenario(out / "plans" / "optimised" / "scenario.toml")
    assert sum(r.officers for r in sc.staffing) == 357 and sc.patrol_plan
    assert "Class-weighted county coverage" in stdout


@pytest.mark.parametrize("days, message", [("-3", "expected a number above 0"), ("abc", "expected a number"),
                                           ("10", "must be shorter than horizon_days")])
def test_bad_days_is_a_message_and_exit_2(tmp_path, days, message):
    p = subprocess.run([sys.executable, str(SCENARIOS / "before_after.py"), "--days", days, "--out", str(tmp_path / "o")],
                       cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


def test_help_and_story_list(tmp_path):
    p = subprocess.run([sys.executable, str(SCENARIOS / "certification_transition.py"), "--help"],
                       cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "--pass-rates" in p.stdout and "--days" in p.stdout
    p = subprocess.run([sys.executable, str(SCENARIOS / HELPER)], cwd=tmp_path, env=env(), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0
    for script in SCRIPTS:
        assert f"scenarios/{script}" in p.stdout


# ---------------------------------------------------------------------------- public API only


def private_uses(source: str) -> list[str]:
    """Private names (a leading "_", not dunder) imported from, or read off, sim / optimize / report."""
    tree = ast.parse(source)
    ours: set[str] = set()  # local names bound to our modules
    found = []

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PUBLIC_PACKAGES:
            found += [f"{node.module} (module)" for part in node.module.split(".") if private(part)]
            for alias in node.names:
                if private(alias.name):
                    found.append(f"from {node.module} import {alias.name}")
                ours.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PUBLIC_PACKAGES:
                    found += [f"import {alias.name}" for part in alias.name.split(".") if private(part)]
                    ours.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ours \
                and private(node.attr):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def notebook_code(path: Path) -> str:
    """The code cells of a notebook, IPython magics and shell lines left out."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            lines += [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
            lines.append("")
    return "\n".join(lines)


def test_private_name_check_catches_private_use():
    assert private_uses("from enforcement_grid.sim.load import _apply_override") == [
        "from enforcement_grid.sim.load import _apply_override"]
    assert private_uses("from enforcement_grid.report import compare\ncompare._wide(x)") == ["compare._wide"]
    assert private_uses("import enforcement_grid.report.rundir as R\nR._truthy(1)") == ["R._truthy"]
    assert private_uses("from enforcement_grid.report.compare import format_value\nx = obj._private") == []


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.py")) + sorted((ROOT / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.name)
def test_scripts_and_notebooks_use_the_public_api_only(path):
    source = notebook_code(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
    assert private_uses(source) == []
