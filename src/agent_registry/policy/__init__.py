"""The registry policy: its model, how it is loaded, durations and check patterns."""
