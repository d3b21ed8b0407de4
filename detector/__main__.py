"""``python -m detector ...``: see :mod:`detector.cli`."""

from detector.cli import main

raise SystemExit(main())
