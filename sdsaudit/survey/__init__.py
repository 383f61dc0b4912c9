"""Survey evidence: ``reader`` reads POET-style answers and summarises them with small
groups suppressed, ``statistics`` the intervals and odds ratios, ``gaps`` the GAP
rules that set the model's claims beside the answers, ``experience`` the survey
pages and the report's Experience section.

Each module sits at its own layer: reader and statistics below the analysis, gaps with
it, experience with the rendering.
"""
