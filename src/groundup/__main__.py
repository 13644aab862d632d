"""python -m groundup: the same as the groundup command."""
from .cli import run

if __name__ == "__main__":
    run()
