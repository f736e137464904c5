"""Record writing: the model's count of violations created, the open ones, and their records.

Every violation the model creates is counted here (:attr:`Recorder.created`) and
kept in :attr:`Recorder.open` until its story ends; then :meth:`Recorder.finish`
writes its :class:`~sim.records.Record`.  At the horizon :meth:`Recorder.close_books`
writes the still-open ones with an ``open_*`` outcome.  So at any time
``written + len(open) == created`` (the conservation the tests check against the
model's own count, not against the records).

An optional **trace** (a list) receives ``(time, who, what)`` tuples from the
command centre, the teams and the case rules: an event log for exact tests of
the paths a violation can take.  It is off (``None``) in ordinary runs.
"""

from __future__ import annotations

import math

from .records import Record


class RecordList:
    """The default record sink: keeps every record."""

    def __init__(self):
        self.rows: list[Record] = []

    def add(self, rows: list[Record]) -> None:
        self.rows.extend(rows)


class Recorder:
    """Counts the violations created, holds the open ones, and hands finished records to the sink."""

    FLUSH_EVERY = 5_000  # records handed to the sink at a time (running sums: a small peak)

    def __init__(self, env, sink, village_names: list[str], items, class_keys: tuple[str, ...],
                 trace: list | None = None):
        self.env = env
        self.sink = sink if sink is not None else RecordList()
        self.village_names = village_names
        self.items = items
        self.class_keys = class_keys
        self.trace = trace
        self.open: dict = {}
        self.created = 0
        self.written = 0
        self._pending: list[Record] = []

    def new_id(self) -> int:
        """The next violation id (ids are 0, 1, 2, … in order of creation)."""
        vid = self.created
        self.created += 1
        return vid

    @property
    def recorded(self) -> int:
        """Records written so far (handed to the sink or pending)."""
        return self.written + len(self._pending)

    def opened(self, v) -> None:
        self.open[v.id] = v

    def note(self, who: str, what: str) -> None:
        """Add ``(now, who, what)`` to the trace (callers check ``trace is not None`` first)."""
        self.trace.append((self.env.now, who, what))

    def finish(self, v) -> None:
        """The violation's story has ended: write its record."""
        self.open.pop(v.id, None)
        if self.trace is not None:
            self.note(v.handler, f"v{v.id} closed: {v.outcome}")
        self._pending.append(self.record(v, v.outcome))
        if len(self._pending) >= self.FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        self.written += len(self._pending)
        self.sink.add(self._pending)
        self._pending = []

    def record(self, v, outcome: str) -> Record:
        item = self.items[v.item]
        return Record(  # by position, in the order of Record's fields (a keyword call costs twice as much)
            v.id, v.town, self.village_names[v.village], item.code, item.category, self.class_keys[v.klass],
            v.severity, v.handled, v.channel, v.handler, v.team, v.t, v.t_disc, v.t_report, v.t_transfer,
            v.t_dispatch, v.t_onsite, v.t_filed, v.t_review_req, v.t_review, v.deadline, v.t_closed, outcome,
            v.area, v.cost_h, v.returned, v.stock,
        )

    def close_books(self, end: float) -> None:
        """Record every violation still open at ``end`` with an ``open_*`` outcome."""
        for v in sorted(self.open.values(), key=lambda x: x.id):
            if not v.found and v.passive_channel and v.t_passive < end:
                v.channel = v.passive_channel
                v.t_disc = v.t_passive
                if v.t_passive + v.report_delay < end:
                    v.t_report = v.t_passive + v.report_delay
            if not v.channel:
                outcome = "open_undiscovered"
            elif math.isnan(v.t_onsite):
                outcome = "open_waiting"
            else:
                outcome = "open_in_progress"
            self._pending.append(self.record(v, outcome))
        self.open.clear()
        self._flush()
