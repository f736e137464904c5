"""The analyst notebooks of notebooks/: stored without outputs, and executed on short runs so they cannot rot.

Each notebook reads ``EGRID_QUICK``; with it set, it runs 20–30 days, two or three
replications and few points.  The notebooks run in a ``python3`` kernel of this
environment (ipykernel) through nbclient, with a temporary working folder, and
any cell that raises fails the test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {"comparing_staffing_plans.ipynb", "warmup_and_replications.ipynb", "patrol_schedules.ipynb",
            "sensitivity.ipynb"}


def test_the_notebooks_are_there():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook without code"
    for i, cell in enumerate(code):
        assert cell.get("execution_count") is None, f"code cell {i} has an execution count"
        assert cell.get("outputs") == [], f"code cell {i} has outputs"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert any("EGRID_QUICK" in c.source for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("EGRID_QUICK", "1")  # the kernel inherits it: short runs
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except CellExecutionError as err:  # the traceback of the failing cell, not nbclient's
        pytest.fail(f"{path.name}: a cell raised\n{err}")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "every notebook draws at least one chart"
    assert not list(tmp_path.iterdir()) or all(p.name.startswith(".") for p in tmp_path.iterdir()), \
        "a notebook left files in its working folder"
