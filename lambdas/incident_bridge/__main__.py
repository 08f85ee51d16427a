"""`python -m incident_bridge` (with `lambdas/` on the path) is the same as the `incident-bridge` command."""

import sys

from incident_bridge.cli import main

sys.exit(main())
