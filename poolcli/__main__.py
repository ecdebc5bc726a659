"""``python -m poolcli``: the command line, as the installed ``poolcli`` script runs it."""

from poolcli.cli import main

if __name__ == "__main__":
    main(prog_name="poolcli")
