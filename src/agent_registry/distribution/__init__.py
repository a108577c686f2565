"""Getting published assets to where agents run: install, exports, and Claude Code hooks."""
