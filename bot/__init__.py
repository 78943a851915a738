"""busbot: Slack chat-ops for a Redis Streams event bus."""
