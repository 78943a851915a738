"""Guarded actions: selection and preview, approvals, policy, audit, execution.

The flow every destructive command follows: preview -> confirm -> (approval) -> job ->
summary, with every step in the audit stream. Plain services: no Slack in here.
"""
