"""The annual stock-take and what builds on it: ``compare`` (this year against last),
``benchmark`` (councils side by side), ``patch`` (scenario patches), ``redesign``
(what-if and proposed changes).

Layer 6 of the pipeline: they use everything below and nothing above.
"""
