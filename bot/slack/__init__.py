"""The Slack adapter: Bolt listeners, the HTTP server around them, and `busbot serve`.

The only package that imports slack_bolt / slack_sdk; services and commands never do.
"""
