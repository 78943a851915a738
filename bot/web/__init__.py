"""The HTTP side of `busbot serve`: Slack events, probes, the admin API and the dashboard."""
