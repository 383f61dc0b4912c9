"""Reading: what the tool takes in, read strictly and positioned.

``source`` turns YAML into positioned nodes (the only module that imports yaml);
``schema`` declares the process-model format (and prints it as JSON Schema);
``loader`` converts a model and checks it; ``objects`` holds the frozen model;
``datafile`` reads sdsaudit's own data files and baselines with the same
declarations; ``catalogue`` is the rule catalogue read from ``criteria/``.

Layer 1 of the pipeline: it imports nothing above it.
"""
