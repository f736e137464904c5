"""Parallel and distributed runs give the serial numbers to the last digit; failures are contained.

A Dask ``LocalCluster`` on loopback stands in for a cluster of machines.
"""

from __future__ import annotations

import operator
import os

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import factory
from enforcement_grid.cli.cli import main
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.experiments.executors import DaskExecutor, Done, Failed, ProcessExecutor, SerialExecutor, Task
from enforcement_grid.experiments.runner import ReplicationError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    c = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                 dashboard_address=None)
    yield c
    c.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return load_scenario(factory.scenario(tmp_path_factory.mktemp("sc")), ["scenario.horizon_days=15"])


def _tables(runset):
    return runset.metrics, runset.units, runset.records


def test_serial_processes_and_dask_give_identical_replications(scenario, cluster):
    serial = run(scenario, 4, workers=1)
    local = run(scenario, 4, workers=2)
    dask = run(scenario, 4, scheduler=cluster.scheduler_address)
    assert [r.replication for r in dask.results] == [0, 1, 2, 3]
    for other in (local, dask):
        for a, b in zip(_tables(serial), _tables(other), strict=True):
            assert_frame_equal(a, b, check_exact=True)


def test_sweep_tables_are_identical_serially_locally_and_on_dask(tmp_path, cluster, capsys):
    sc = factory.scenario(tmp_path / "sc")
    sweep = tmp_path / "sc" / "sweep.toml"
    sweep.write_text(
        'scenario = "scenario.toml"\nreplications = 3\ndays = 12\n'
        '[[factor]]\nname = "desk"\nset = "officer_time.desk_share"\nvalues = [0.2, 0.45]\n'
        '[[factor]]\nname = "yi_staff"\nstaff = "乙镇"\nvalues = [6, 20]\n',
        encoding="utf-8",
    )
    assert sc.exists()
    runs = {
        "serial": ["--workers", "1"],
        "local": ["--workers", "2"],
        "dask": ["--scheduler", cluster.scheduler_address],
    }
    for name, opts in runs.items():
        assert main(["sweep", str(sweep), "--out", str(tmp_path / name), "-q", *opts]) == 0, capsys.readouterr().err
    for table in ("results.parquet", "summary.csv", "points.csv"):
        first = (tmp_path / "serial" / table).read_bytes()
        for name in ("local", "dask"):
            assert (tmp_path / name / table).read_bytes() == first, (name, table)
    results = pd.read_parquet(tmp_path / "serial" / "results.parquet")
    assert results["point"].nunique() == 4 and sorted(results["rep"].unique()) == [0, 1, 2]


def _tasks():
    ok = [Task(i, operator.truediv, (1, i), "s", 7, i) for i in range(1, 5)]
    return [Task(0, operator.truediv, (1, 0), "s", 7, 0), *ok]


@pytest.mark.parametrize("kind", ["serial", "processes", "dask"])
def test_a_failing_task_is_reported_and_the_others_finish(kind, cluster):
    executor = {"serial": lambda: SerialExecutor(), "processes": lambda: ProcessExecutor(2),
                "dask": lambda: DaskExecutor(cluster.scheduler_address)}[kind]()
    with executor:
        outcomes = list(executor.map_unordered(_tasks()))
    done = {o.task.key: o.value for o in outcomes if isinstance(o, Done)}
    failed = [o for o in outcomes if isinstance(o, Failed)]
    assert done == {i: 1 / i for i in range(1, 5)}
    assert len(failed) == 1
    f = failed[0]
    assert (f.scenario, f.seed, f.replication) == ("s", 7, 0)
    assert f.error == "ZeroDivisionError: division by zero"


def test_a_task_that_kills_its_worker_is_reported_and_the_others_finish():
    tasks = [Task("dies", os._exit, (3,), "s", 7, 99), *_tasks()[1:]]
    with ProcessExecutor(2) as executor:
        outcomes = list(executor.map_unordered(tasks))
    assert {o.task.key for o in outcomes if isinstance(o, Done)} == {1, 2, 3, 4}
    (failed,) = [o for o in outcomes if isinstance(o, Failed)]
    assert failed.task.key == "dies" and failed.error.startswith("WorkerDied")


def test_run_finishes_the_other_replications_then_names_the_failed_one(scenario, monkeypatch):
    from enforcement_grid.experiments import runner as sim_runner

    class Broken(sim_runner.Model):
        def run(self):
            if self.replication == 1:
                raise RuntimeError("injected")
            return super().run()

    finished = []
    monkeypatch.setattr(sim_runner, "Model", Broken)
    with pytest.raises(ReplicationError) as err:
        run(scenario, 3, workers=1, on_result=lambda r: finished.append(r.replication))
    assert sorted(finished) == [0, 2]
    assert "replication 1 (seed 7): RuntimeError: injected" in str(err.value)
    assert [f.replication for f in err.value.failures] == [1]


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ScenarioError, match="cannot connect to a Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=0.5)


def _thresholds(_):
    import gc

    return gc.get_threshold()


def test_replications_run_with_the_relaxed_collector_and_a_serial_run_gives_the_process_its_own_back(cluster):
    """Local and Dask workers and serial runs use GC_THRESHOLDS while replications run; a serial run
    (in the user's own process: a notebook) restores the thresholds it found."""
    import gc

    from enforcement_grid.experiments.executors import GC_THRESHOLDS

    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    (done,) = list(SerialExecutor().map_unordered([Task("t", _thresholds, (0,))]))
    assert done.value == GC_THRESHOLDS and gc.get_threshold() == before
    with ProcessExecutor(1) as ex:
        (done,) = list(ex.map_unordered([Task("t", _thresholds, (0,))]))
    assert done.value == GC_THRESHOLDS
    with DaskExecutor(cluster.scheduler_address) as ex:
        (done,) = list(ex.map_unordered([Task("t", _thresholds, (0,))]))
    assert done.value == GC_THRESHOLDS


class _Counted:
    """A value that counts how often it is pickled."""

    pickled = 0

    def __reduce__(self):
        type(self).pickled += 1
        return _Counted, ()


def test_a_shared_argument_is_pickled_once_for_many_tasks():
    import pickle

    from enforcement_grid.experiments.executors import Shared, _call

    shared = Shared(_Counted())
    blobs = [pickle.dumps(Task(i, operator.add, (shared, i))) for i in range(5)]
    assert _Counted.pickled == 1  # once, not once per task
    task = pickle.loads(blobs[3])
    assert isinstance(task.args[0], Shared) and isinstance(task.args[0].value, _Counted)
    assert _call(lambda v, i: (type(v).__name__, i), task.args) == ("_Counted", 3)  # unwrapped in the worker
    with ProcessExecutor(2) as ex:
        out = sorted(o.value for o in ex.map_unordered(
            [Task(i, operator.mul, (Shared(i + 1), 10), "s", 7, i) for i in range(4)]))
    assert out == [10, 20, 30, 40]
