"""The Client Level Data preset (``--preset cld``): England's adult social care return.

Every English council sends NHS England a Client Level Data (CLD) extract each quarter: one
row an event, of four types (``Event Type``: Request, Assessment, Service, Review), each with
``Event Start Date`` and ``Event End Date`` (a service may still be open), an ``Event
Outcome``, the person's ``LA Person Unique Identifier`` (and ``LA Code``) and ``Client Type``
(service user or carer). Column names are matched without regard to case, spaces or
underscores, so ``Event_Start_Date`` is read too; dates may be ``YYYY-MM-DD`` or
``DD/MM/YYYY``. The extract also holds names, NHS numbers, dates of birth and postcodes:
sdsaudit refuses to run until they are dropped (``--drop``), and never reads them.

Events are linked as DHSC's published waiting-times method links them: each person's events
in order of start date (on the same day: request, assessment, service, review); each request
to the **first assessment after it** and the **first service after it**; a request that
starts before the previous request's assessment or service is left out (it overlaps work
already under way); requests from carers are left out. sdsaudit adds the first review after
that service. A case is a request.

CLD sees only those four milestones. **Planning, sign-offs and panels are invisible in it**,
and so is every other step of the model between them (the financial assessment among them):
their time is inside the milestone from assessment to service, and whether the person knew
their contribution in time cannot be seen. The calibration says so plainly, and sets each
milestone against the model's expected time between the two steps (for service to first
review, the model's ``policies.review.first_days``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..analysis.findings import CheckResult
from ..analysis.graph import Chain, Context
from ..errors import ModelError, Problem
from ..model.objects import Model
from ..render.present import step_order
from ..survey.statistics import wilson_interval
from .calibration import MIN_GROUP, Calibration, GroupFigure, Share, StepFigure, _group
from .figures import DAY, GroupRaw
from .log import (
    _time,
    connection,
    env_memory_limit,
    in_range,
    locate_problems,
    open_source,
    structure_problems,
)
from .mapping import LogMap, choose_columns, read_map

EVENT_TYPES = ("Request", "Assessment", "Service", "Review")
"""CLD's event types, in DHSC's order for events on the same day."""

ALIASES = {
    "case_id": ("LA Person Unique Identifier", "Der_NHS_LA_Combined_Person_ID", "Person ID"),
    "activity": ("Event Type",),
    "timestamp": ("Event Start Date",),
    "end_timestamp": ("Event End Date",),
}

DATE_FORMATS = ("%d/%m/%Y",)

KINDS = {
    "Request": ("contact",),
    "Assessment": ("assessment",),
    "Service": ("support",),
    "Review": ("review",),
}


@dataclass(frozen=True)
class Milestone:
    """The days from one visible step to the next, as recorded and in the model."""

    source: str
    target: str
    cases: int | None
    median_days: float | None
    p90_days: float | None
    model_days: float | None
    share: float | None = None
    share_low: float | None = None
    share_high: float | None = None

    def as_dict(self) -> dict[str, Any]:
        r = lambda x, p=1: None if x is None else round(float(x), p)  # noqa: E731
        return {
            "from": self.source,
            "to": self.target,
            "cases": self.cases,
            "median_days": r(self.median_days),
            "p90_days": r(self.p90_days),
            "model_days": r(self.model_days),
            "share_reaching": r(self.share, 4),
            "share_low": r(self.share_low, 4),
            "share_high": r(self.share_high, 4),
        }


def default_steps(model: Model) -> dict[str, str]:
    """Each CLD event type's step, by kind: the first step of that kind in the model's
    reading order (a request is the step every case starts at when none is a contact)."""
    order = step_order(model)
    out: dict[str, str] = {}
    for event, kinds in KINDS.items():
        found = next((s.id for s in order if s.kind in kinds), None)
        if found is None and event == "Request":
            found = model.start
        if found is not None:
            out[event] = found
    return out


def calibrate_cld(
    model: Model,
    result: CheckResult,
    ctx: Context,
    events_path: str,
    map_path: str | None,
    *,
    min_group: int = MIN_GROUP,
    group: str | None = None,
    drop: Sequence[str] = (),
    xes: str | None = None,
) -> Any:
    """Calibrate ``model`` against a CLD extract (see the module's notes)."""
    from .run import Run

    log_map = read_map(map_path, model, activities_required=False) if map_path else LogMap(None)
    steps = default_steps(model)
    for event in EVENT_TYPES:  # a map may say otherwise, by event type
        if event in log_map.activities:
            steps[event] = log_map.activities[event]
    missing = [e for e in ("Request", "Assessment", "Service") if e not in steps]
    if missing:
        raise ModelError(
            [
                Problem(
                    model.path,
                    None,
                    None,
                    f"the model has no step for CLD's {', '.join(missing)} events: name one in a map file (activities: {{{missing[0]}: step_id}})",
                )
            ]
        )
    if xes is not None:
        raise ModelError(
            [
                Problem(
                    events_path,
                    None,
                    None,
                    "--xes is not available with --preset cld: Client Level Data has no steps between its milestones to export",
                )
            ]
        )
    m = min_group
    with connection(env_memory_limit()) as con:
        source = open_source(events_path, con)
        columns = choose_columns(
            events_path, source.header, log_map, group=group, drop=drop, aliases=ALIASES
        )
        n = columns.names
        by_key = {h.replace(" ", "").replace("_", "").lower(): h for h in source.header}
        la = by_key.get("lacode")
        client = by_key.get("clienttype")
        start = in_range(_time(source.text(n["timestamp"]), DATE_FORMATS))
        end = in_range(_time(source.text(n.get("end_timestamp")), DATE_FORMATS))
        etype = source.text(n["activity"])
        typ = " ".join(
            f"WHEN lower({etype}) LIKE '%{e.lower()}%' THEN {i}"
            for i, e in enumerate(EVENT_TYPES, 1)
        )
        person = source.text(n["case_id"])
        la_sql = f"coalesce({source.text(la)}, '')" if la else "''"
        carer = (
            f"coalesce(lower({source.text(client)}) LIKE '%carer%', false)" if client else "false"
        )
        try:
            con.execute(
                f"""
                CREATE TEMP TABLE raw AS
                SELECT {person} AS person, hash({la_sql} || '|' || coalesce({person}, '')) AS pid,
                       CASE {typ} END AS typ, {etype} AS etype,
                       {source.text(n["timestamp"])} AS ts_raw, {start} AS ts,
                       {source.text(n.get("end_timestamp"))} AS te_raw, {end} AS te,
                       coalesce({source.text(n.get("group"))}, '') AS g, {carer} AS carer
                FROM {source.scan()}
                """
            )
        except Exception:  # noqa: BLE001 - DuckDB's errors have no common public base
            raise ModelError(
                structure_problems(source)
                or [Problem(events_path, None, None, "the extract cannot be read as CSV")]
            ) from None
        bad = con.execute(
            "SELECT count(*) FROM raw WHERE person IS NULL OR etype IS NULL OR ts_raw IS NULL "
            "OR ts IS NULL OR (te_raw IS NOT NULL AND te IS NULL) OR te < ts"
        ).fetchone()
        if bad and bad[0]:
            raise ModelError(locate_problems(con, source, columns, None, DATE_FORMATS))
        figures = _link(con, m)
    calibration = _calibration(
        model, result, ctx, figures, steps, events_path, m, columns.names.get("group")
    )
    return Run(calibration, None, model)


def _link(con: Any, m: int) -> dict[str, Any]:
    """Link requests to their assessment, service and review (DHSC's method) and sum up."""
    con.execute(
        """
        CREATE TEMP TABLE ev AS
        SELECT pid, typ, ts, te, g, carer, row_number() OVER (PARTITION BY pid ORDER BY ts, typ) AS k
        FROM raw WHERE typ IS NOT NULL
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE linked AS
        WITH req AS (SELECT * FROM ev WHERE typ = 1 AND NOT carer),
             asm AS (SELECT pid, k, ts, te FROM ev WHERE typ = 2),
             svc AS (SELECT pid, k, ts FROM ev WHERE typ = 3),
             rev AS (SELECT pid, k, ts FROM ev WHERE typ = 4),
             ra AS (
                SELECT r.pid, r.k AS r_k, r.ts AS r_ts, r.te AS r_te, r.g,
                       a.k AS a_k, a.ts AS a_ts, a.te AS a_te
                FROM req r ASOF LEFT JOIN asm a ON r.pid = a.pid AND a.k > r.k),
             ras AS (
                SELECT ra.*, s.k AS s_k, s.ts AS s_ts
                FROM ra ASOF LEFT JOIN svc s ON ra.pid = s.pid AND s.k > ra.r_k),
             rasv AS (
                SELECT ras.*, v.ts AS v_ts
                FROM ras ASOF LEFT JOIN rev v ON ras.pid = v.pid AND v.k > ras.s_k)
        SELECT *, coalesce(lag(greatest(a_k, s_k)) OVER (PARTITION BY pid ORDER BY r_k) > r_k, false)
                  AS overlapping
        FROM rasv
        """
    )
    d = f"/ {DAY}"
    q = lambda a, b, cond: (  # noqa: E731
        f"count(*) FILTER ({cond}), quantile_cont((epoch({b}) - epoch({a})) {d}, [0.5, 0.9]) FILTER ({cond})"
    )
    sql = f"""
        SELECT grouping(g), g, count(*),
               {q("r_ts", "a_ts", "a_ts IS NOT NULL")},
               {q("a_ts", "s_ts", "a_ts IS NOT NULL AND s_k > a_k")},
               {q("r_ts", "s_ts", "s_ts IS NOT NULL")},
               {q("s_ts", "v_ts", "v_ts IS NOT NULL")},
               {q("r_ts", "r_te", "r_te IS NOT NULL")},
               {q("a_ts", "a_te", "a_te IS NOT NULL")},
               count(*) FILTER (a_ts IS NOT NULL),
               avg((epoch(s_ts) - epoch(r_ts)) {d}) FILTER (s_ts IS NOT NULL)
        FROM linked WHERE NOT overlapping
        GROUP BY GROUPING SETS ((), (g)) ORDER BY 1 DESC, g
    """
    rows = con.execute(sql).fetchall()
    excluded = con.execute(
        "SELECT count(*) FILTER (overlapping), (SELECT count(*) FROM ev WHERE typ = 1 AND carer), "
        "(SELECT count(*) FROM raw WHERE typ IS NULL) FROM linked"
    ).fetchone()
    return {"rows": rows, "excluded": excluded}


def _model_days(model: Model, chain: Chain, source: str, target: str) -> float | None:
    """The model's expected days from entering ``source`` to entering ``target`` (towards
    support: the expected days to support from one, less those from the other)."""
    zero = Fraction(0)

    def to_support(sid: str) -> Fraction | None:
        h = chain.h.get(sid, zero)
        if model.step(sid).kind == "support":
            return zero
        return chain.g.get(sid, zero) / h if h else None

    a, b = to_support(source), to_support(target)
    if a is None or b is None:
        return None
    return float(a - b)


def _calibration(
    model: Model,
    result: CheckResult,
    ctx: Context,
    figures: dict[str, Any],
    steps: dict[str, str],
    events_path: str,
    m: int,
    group_column: str | None,
) -> Calibration:
    chain = Chain(model, list(steps.values()))
    rows = figures["rows"]
    overall = rows[0]
    (
        _,
        _,
        requests,
        n_ra,
        q_ra,
        n_as,
        q_as,
        n_rs,
        q_rs,
        n_sv,
        q_sv,
        n_rr,
        q_rr,
        n_aa,
        q_aa,
        assessed,
        mean_rs,
    ) = overall
    review_first = model.policies.review.first_days if model.policies.review else None
    pairs = [
        ("Request", "Assessment", n_ra, q_ra, requests),
        ("Assessment", "Service", n_as, q_as, assessed),
        ("Request", "Service", n_rs, q_rs, requests),
        ("Service", "Review", n_sv, q_sv, n_rs),
    ]
    milestones = []
    for a, b, count, quant, out_of in pairs:
        if a not in steps or b not in steps:
            continue
        shown = count >= m
        model_days = (
            float(review_first)
            if b == "Review" and review_first is not None
            else None
            if b == "Review"
            else _model_days(model, chain, steps[a], steps[b])
        )
        interval = wilson_interval(count, out_of) if out_of >= m else None
        milestones.append(
            Milestone(
                steps[a],
                steps[b],
                count if shown else None,
                quant[0] if shown and quant else None,
                quant[1] if shown and quant else None,
                model_days,
                count / out_of if interval else None,
                interval[0] if interval else None,
                interval[1] if interval else None,
            )
        )
    step_figs = []
    for event, count, quant in (("Request", n_rr, q_rr), ("Assessment", n_aa, q_aa)):
        if event not in steps:
            continue
        step = model.step(steps[event])
        shown = count >= m and quant is not None
        step_figs.append(
            StepFigure(
                step.id,
                step.name,
                step.kind,
                count if count >= m else None,
                None,
                quant[0] if shown else None,
                quant[1] if shown else None,
                None,
                None,
                None,
                None if step.days_unknown or not step.days_given else float(step.days),
                step.days_unknown,
                "own start and end" if shown else "",
                None,
                True,
            )
        )
    seen = set(steps.values())
    invisible = tuple(
        s.id
        for s in step_order(model)
        if s.id not in seen and s.kind not in ("support", "end", "parallel")
    )
    overlaps, carers, untyped = figures["excluded"]
    notes = [
        "Event types taken as steps: "
        + "; ".join(f"{e} as '{steps[e]}'" for e in EVENT_TYPES if e in steps)
        + ".",
        f"Requests linked to the first assessment and the first service after them (DHSC's method); "
        f"{overlaps:,} requests that overlapped work already under way, {carers:,} requests from carers "
        f"and {untyped:,} events of no CLD event type were left out.",
    ]

    def group_figure(row: tuple) -> GroupFigure:
        grouping, g, req, *_rest = row
        n_rs_g, q_rs_g = row[7], row[8]
        raw = GroupRaw(
            None if grouping else g,
            int(req),
            0,
            0,
            0,
            int(n_rs_g),
            q_rs_g[0] if q_rs_g else None,
            q_rs_g[1] if q_rs_g else None,
            row[16],
            0,
            0,
        )
        fig = _group(raw, m, None)
        blank = Share()
        return GroupFigure(
            **{
                **fig.__dict__,
                "fitting": blank,
                "contribution_late": blank,
                "repeated_assessments": blank,
                "over_handoffs": blank,
            }
        )

    from ..survey.suppression import hidden_cells

    group_rows = [r for r in rows[1:]]
    hidden = hidden_cells({r[1]: r[2] for r in group_rows}, m) if group_column else {}
    groups = []
    for r in group_rows if group_column else []:
        fig = group_figure(r)
        if r[1] in hidden:
            fig = _group(
                GroupRaw(r[1], int(r[2]), 0, 0, 0, 0, None, None, None, 0, 0), m, hidden[r[1]]
            )
        groups.append(fig)
    metrics = result.metrics
    return Calibration(
        model_path=result.path,
        council=model.council,
        title=model.title,
        as_of=str(model.as_of),
        log=Path(events_path).name,
        min_group=m,
        cases=requests if requests >= m else None,
        events=0,
        ignored=int(untyped),
        steps=tuple(step_figs),
        transitions=(),
        unmodelled=(),
        unseen=(),
        deviations=(),
        overall=group_figure(overall),
        groups=tuple(groups),
        group_column=group_column,
        model_days_to_support=metrics.get("expected_days_to_support"),
        model_days_to_support_at_least=metrics.get("expected_days_to_support") is None,
        model_contribution_late=any(f.rule == "SEQ-04" for f in result.findings),
        model_assessments_max=metrics.get("assessments_max"),
        max_handoffs=model.targets.max_handoffs,
        preset="cld",
        invisible=invisible,
        milestones=tuple(milestones),
        notes=tuple(notes),
        step_names=tuple((s.id, s.name) for s in model.steps),
    )
