"""`busbot console`: the same commands and templates as Slack, in a terminal."""
