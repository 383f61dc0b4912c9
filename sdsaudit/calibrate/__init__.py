"""Calibration: the process model set beside the council's case records.

A model says what the council believes happens; an event log (one row an event: a case,
an activity, when it happened) says what did. ``sdsaudit calibrate`` reads the log with
DuckDB (an optional extra, ``sdsaudit[calibrate]``), maps its activities to the model's
steps, and works out, all in SQL, each step's observed days, each transition's observed
share, how many cases follow the model, and the person's side (days to support, the
contribution known only after sign-off, repeated assessments, hand-offs).

Modules, in the order a run uses them:

* :mod:`.mapping`: the map file (``activities``, ``ignore``, ``drop``, ``columns``), the
  log's columns, and the refusal of columns that look like personal details;
* :mod:`.log`: DuckDB reads and checks the log (every problem at once, as
  ``FILE:ROW:COLUMN``) and orders each case's events;
* :mod:`.figures`: the aggregates, in SQL;
* :mod:`.calibration`: the figures beside the model, with intervals and small groups
  suppressed; the JSON document;
* :mod:`.patch`: ``calibrated.patch.yaml`` for ``sdsaudit whatif``;
* :mod:`.cld`: the Client Level Data preset (requests, assessments, services, reviews);
* :mod:`.xes`: the mapped log as XES, for process-mining tools;
* :mod:`.view`: the report section and the files ``calibration.*``.

No case id ever reaches an output: ids are hashed as they are read, and only counts of
at least ``--min-group`` cases are shown.
"""

from __future__ import annotations
