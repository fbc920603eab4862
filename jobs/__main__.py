"""`python -m jobs [--burst]`: run one worker with settings from the environment."""

from __future__ import annotations

import sys

from cli.worker import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
