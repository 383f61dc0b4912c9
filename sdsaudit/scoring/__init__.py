"""Scoring: the building-block scores of every step and the whole process, with their
reasons, and the Making it Real theme statuses. All weights are data in ``criteria/``.

Layer 4 of the pipeline.
"""

from .scores import ScoreReport, score_model

__all__ = ["ScoreReport", "score_model"]
