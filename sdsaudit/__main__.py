"""``python -m sdsaudit``."""

from .cli import main

main(prog_name="sdsaudit")
