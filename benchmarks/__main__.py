"""Entry point of `make bench`: locust's gevent patches the standard library before the rest of
the harness is imported."""

from __future__ import annotations

import locust  # noqa: F401

from benchmarks.runner import main

raise SystemExit(main())
