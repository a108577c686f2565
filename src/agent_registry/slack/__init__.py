"""Slack: Block Kit messages for reviews and the interaction app reviewers click in."""
