"""Rendering: the process map (a pure ``graphviz`` graph; one function runs ``dot``),
the report's view-model and its HTML, Markdown and JSON, the ``check`` outputs and
SARIF, all through one jinja2 environment (``jinja``).

Layer 5 of the pipeline.
"""
