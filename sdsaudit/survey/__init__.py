"""Survey evidence: ``spec`` the survey format and settings (``criteria/survey.yaml``),
``reader`` reads POET-style answers and counts them, ``summary`` turns the counts into
figures with small groups hidden (``suppression`` decides which), ``statistics`` the
intervals, odds ratios, p-values and Holm's adjustment, ``adjusted`` the odds ratios
adjusted by logistic regression (statsmodels), ``gaps`` the GAP rules that set the
model's claims beside the answers, ``experience`` the survey pages and the report's
Experience section.

Each module sits at its own layer: spec, reader, summary, suppression, statistics and
adjusted below the analysis, gaps with it, experience with the rendering.
"""
