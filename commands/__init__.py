"""`/bus ...` commands: parse the text, call a service, return a `Reply` for a template.

`commands.router.run(text, ctx)` is the one entry point both adapters (Slack, console) use.
"""
