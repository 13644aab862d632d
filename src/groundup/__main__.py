"""python -m groundup: the same as the groundup command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
