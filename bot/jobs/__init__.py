"""Jobs: bulk moves between streams that live in Redis, not in a process (docs/guarded-actions.md).

`store` keeps the job hash, `lease` makes one process run it, `mover` is the atomic batch,
`runner` drives batches (rate limit, cancel, Redis outages) in a background thread.
"""
