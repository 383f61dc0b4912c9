"""Analysis: the graph and the rules.

``graph`` holds the networkx analyses and the prepared :class:`~.graph.Context`;
``rules`` one small pure function per rule, a module per family; ``engine`` runs
them (core and GAP alike), stamps catalogue labels and applies waivers;
``findings`` the frozen results.

Layer 3 of the pipeline (above the model and the survey reader).
"""
