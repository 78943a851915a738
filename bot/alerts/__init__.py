"""Proactive alerts: the runbook's thresholds checked on a schedule, each alert episode one
Slack message updated in place. No Slack imports here: deliveries go through the outbox to a
`bot.notify.Transport`, implemented in bot/slack/transport.py."""
