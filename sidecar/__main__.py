"""``python -m sidecar`` is the ``tierline`` command."""

from sidecar.cli import main

raise SystemExit(main())
