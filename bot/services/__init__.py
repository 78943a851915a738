"""The service layer: plain functions over a `Bus`, returning typed models. No Slack here."""
