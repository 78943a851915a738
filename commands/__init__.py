"""`/bus ...` commands: parse the text, call a service, return a `Reply` for a template.

`commands.router.run(text, rt, user_id)` is the one entry point every adapter (Slack, console,
HTTP) uses; `rt` is the process's `bot.runtime.Runtime`.
"""
