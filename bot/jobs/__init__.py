"""Jobs: bulk moves between streams that live in Redis, not in a process (design §3).

`store` keeps the job hash, `lease` makes one process run it, `mover` is the atomic batch,
`runner` drives batches (rate limit, cancel, Redis outages) in a background thread.
"""
