"""``sdsaudit workshop``: a local page where a co-production group changes the process
map together, in plain forms, and sees what each change does.

``keep`` writes a change into the council's file keeping its comments and layout;
``modelfile`` guards the file (changes made elsewhere refused, the previous version kept);
``edits`` reads a step's form and makes its changes; ``session`` holds one workshop (the
audit, the saves and their undo); ``pages`` renders the pages; ``server`` serves them on
127.0.0.1 behind a one-time token (Starlette and uvicorn: the optional extra
``sdsaudit[workshop]``).
"""
