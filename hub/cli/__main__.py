"""``python -m hub.cli`` is ``hubctl`` (the demo starts its processes this way)."""

from hub.cli import main

main()
