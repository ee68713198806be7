"""``python -m lrreport`` is the ``lrreport`` command."""

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
