"""``python -m cli``: the ``dash`` command without its console script (``dash demo``
starts its strategy this way, with the same interpreter)."""

from cli.main import main

main()
