"""`python -m moecfg` runs the command-line interface."""

from moecfg.cli import main

main()
