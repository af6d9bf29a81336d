"""Entry point of `make bench`."""

from __future__ import annotations

from benchmarks.runner import main

raise SystemExit(main())
