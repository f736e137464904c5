"""Charts and reports of simulation runs: run folders in, figures, HTML and Excel out.

Nothing here runs a simulation: everything reads run folders written by
``egrid run`` (:mod:`sim.output`) or tidy DataFrames.

* :mod:`report.charts` — chart functions (DataFrames → matplotlib Figure);
* :mod:`report.rundir` — load a run folder, derive delays and backlog tables;
* :mod:`report.compare` — compare plans on paired replications;
* :mod:`report.html`, :mod:`report.excel` — the report files;
* :mod:`report.labels`, :mod:`report.fonts` — words in Chinese and English, the CJK font.
"""

from .compare import compare_runs, format_comparison
from .fonts import use_cjk_font
from .html import write_report
from .rundir import RunDir, load_run

__all__ = ["compare_runs", "format_comparison", "use_cjk_font", "write_report", "RunDir", "load_run"]
