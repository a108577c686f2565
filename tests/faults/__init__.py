"""Fault injection: the lifecycle survives crashed workers, servers, databases and Slack."""
