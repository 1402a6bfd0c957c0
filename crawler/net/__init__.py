"""Which addresses and ports a crawl may reach (the guard's rule), which proxy a host takes, and the browser's guard proxy."""
