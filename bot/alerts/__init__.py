"""Proactive alerts (issue 5): the runbook's thresholds checked on a schedule, each alert
episode one Slack message updated in place. No Slack imports here: deliveries go through
`bot.alerts.notifier.Notifier`, implemented in bot/slack/."""
