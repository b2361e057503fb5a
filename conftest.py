"""Settings for every test run (tests/ and each plugin's tests/).

AUTO remembers its measured decisions in a per-user cache folder; tests get a folder of
their own, so that a decision cached by an earlier run (or by the user) never changes what
a test sees, and tests leave nothing behind in the user's cache.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_cache = tempfile.mkdtemp(prefix="ovlite-test-cache-")
os.environ["OVLITE_CACHE_DIR"] = _cache
atexit.register(shutil.rmtree, _cache, True)
